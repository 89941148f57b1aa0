/**
 * Fixtures for the pipeline stages' unit tests: a parsed configuration, principals resolved by a
 * real KeyDirectory, and request contexts as the `read` stage leaves them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { KeyDirectory, type Principal } from '../../src/auth/directory.js';
import { parseConfigText, type GatewayConfig } from '../../src/config/load.js';
import { RequestContext } from '../../src/pipeline/context.js';
import { estimateTokens } from '../../src/pipeline/meter.js';
import type { ModelRoute, ResolvedRoute } from '../../src/pipeline/select-route.js';
import type { ChatRequest } from '../../src/providers/adapter.js';
import { openSqlite, type SqliteTables } from '../../src/store/sqlite/database.js';
import { KyselyKeyStore } from '../../src/store/key-store.js';
import { chatCompletionsSurface } from '../../src/surfaces/chat-completions/index.js';

export const ACME_KEY = 'omk_test_acme_key_0123456789abcdef';
export const PROVIDER_KEY = 'sk-upstream-test-key-123';

/**
 * A configuration with one OpenAI provider at `upstream` (default: a closed port) and the
 * `gpt-test`/`embed-test` models (`models` and `providers` add lines under those keys); `yaml` adds top-level
 * sections (`tenants:` is required).
 */
export function stageConfig(yaml: string, options: { upstream?: string; models?: string; providers?: string } = {}): GatewayConfig {
  const upstream = options.upstream ?? 'http://127.0.0.1:9/v1';
  return parseConfigText(
    `
providers:
  fake-openai: { type: openai, base_url: "${upstream}", api_key: "${PROVIDER_KEY}", circuit_breaker: { enabled: false } }
${options.providers ?? ''}
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 2, output: 8 }, max_output_tokens: 1000 }
  embed-test: { provider: fake-openai, embeddings: true, price: { input: 0.1, output: 0 } }
${options.models ?? ''}
${yaml}`,
    '<stage-test>',
    {},
  );
}

/** One tenant `acme` (team `research`, agent `bot`, key ACME_KEY) whose scopes get the given YAML flow maps. */
export function acmeTenant(scopes: { tenant?: string; team?: string; agent?: string; key?: string } = {}): string {
  const extra = (s: string | undefined) => (s ? `, ${s}` : '');
  return `
tenants:
  acme:
    models: ['*']
    ${scopes.tenant ?? ''}
    teams:
      research:
        ${scopes.team ?? ''}
        agents:
          bot:
            ${scopes.agent ?? ''}
            keys: [ { id: key_acme_bot, key: "${ACME_KEY}"${extra(scopes.key)} } ]
`;
}

/** A scratch SQLite database (migrated) in its own temp folder. */
export async function scratchDb(): Promise<{ db: Kysely<SqliteTables>; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'omega-stage-'));
  const db = await openSqlite(`sqlite://${join(dir, 'omega.db')}`);
  return {
    db,
    dir,
    close: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The principal of `key`, as the authenticate stage resolves it. */
export async function principalOf(config: GatewayConfig, key = ACME_KEY): Promise<Principal> {
  const db = await openSqlite('sqlite://:memory:');
  try {
    const principal = await new KeyDirectory(config, new KyselyKeyStore(db)).resolve(key);
    if (!principal) throw new Error(`no principal for the key given`);
    return principal;
  } finally {
    await db.destroy();
  }
}

/** A context as the `read` stage leaves it for a chat body (plus the principal). */
export function readContext(principal: Principal | undefined, body: Partial<ChatRequest> = {}): { ctx: RequestContext; wire: ChatRequest } {
  const ctx = new RequestContext('req_stage', '/v1/chat/completions', 'POST', '127.0.0.1', 'vitest', null);
  ctx.principal = principal;
  ctx.surface = 'chat-completions';
  const parsed = chatCompletionsSurface.parse({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello' }], ...body }, { headers: {}, query: '' });
  ctx.modelRequested = parsed.model;
  ctx.facts = parsed.facts;
  ctx.stream = parsed.stream;
  ctx.clientWantsUsage = parsed.clientWantsUsage;
  ctx.inputTokensEstimated = estimateTokens(parsed.facts.inputChars);
  return { ctx, wire: parsed.wire };
}

/** The route of a model's first deployment, as the forward stage picks it. */
export function firstRoute(model: ModelRoute): ResolvedRoute {
  const first = model.deployments[0]!;
  return { publicModel: model.publicModel, model, price: model.price, adapter: first.deployment.adapter, target: first.target, deployment: first.deployment };
}
