/**
 * Starts a real gateway (real HTTP server on a free port, real SQLite file in a temp folder)
 * from YAML text, for integration tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import pino from 'pino';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway, type RunningGateway, type StartOptions } from '../../src/main.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { exportAudit } from '../../src/audit/query.js';

export const TENANT_KEY = 'omk_test_acme_key_0123456789abcdef';
export const OTHER_TENANT_KEY = 'omk_test_globex_key_0123456789abcd';

export interface TestGateway extends RunningGateway {
  dir: string;
  /** All audit records so far, oldest first (flushes the writer first). */
  auditRecords(): Promise<AuditRecord[]>;
  /** The audit record of one decision id. */
  auditRecord(decisionId: string): Promise<AuditRecord | undefined>;
  client(key?: string, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI;
  stop(): Promise<void>;
}

/** `port`: listen there instead of on a free port (a test whose config must name the gateway's own URL, e.g. an OIDC redirect). */
export async function startTestGateway(yaml: string, env: Record<string, string> = {}, options: Pick<StartOptions, 'reloadOn' | 'masterKey'> & { port?: number } = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'omega-test-'));
  const text = yaml.replaceAll('${DATA_DIR}', dir);
  writeFileSync(join(dir, 'omega.yaml'), text);
  const config = parseConfigText(text, join(dir, 'omega.yaml'), env);
  const gateway = await startGateway({ config, port: options.port ?? 0, host: '127.0.0.1', logger: pino({ level: process.env.OMEGA_TEST_LOG ?? 'silent' }), env, reloadOn: options.reloadOn, masterKey: options.masterKey });
  const auditRecords = async () => {
    await gateway.audit.flush();
    const records: AuditRecord[] = [];
    for await (const r of exportAudit(gateway.stores.auditQuery, { allKinds: true })) records.push(r);
    return records;
  };
  const { app, url, config: running, stores, audit, runtime, close } = gateway;
  return {
    app,
    url,
    config: running,
    stores,
    audit,
    runtime,
    close,
    // Not copied: `db` is a getter that throws on PostgreSQL.
    get db() {
      return gateway.db;
    },
    dir,
    auditRecords,
    auditRecord: async (id) => (await auditRecords()).find((r) => r.decision_id === id),
    client: (key = TENANT_KEY, options = {}) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0, ...options }),
    stop: async () => {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A deployment with one OpenAI-compatible fake upstream and two tenants. */
export function baseConfig(upstreamBaseUrl: string, extra = ''): string {
  return `
server:
  upstream_timeout: 2s
  body_limit: 64kb
storage:
  url: sqlite://\${DATA_DIR}/omega.db
audit:
  flush_interval: 20ms
keys:
  cache_ttl: 50ms
providers:
  # One attempt per request and no circuit breaker: these tests look at single exchanges.
  fake-openai: { type: openai, base_url: "${upstreamBaseUrl}", api_key: "\${FAKE_KEY:-sk-upstream-test-key-123}", circuit_breaker: { enabled: false } }
  dead: { type: openai-compatible, base_url: "http://127.0.0.1:9/v1" }
  keyless: { type: openai, base_url: "${upstreamBaseUrl}", api_key: "\${UNSET_PROVIDER_KEY}" }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 2, output: 8 } }
  gpt-other: { provider: fake-openai, price: { input: 1, output: 1 } }
  embed-test: { provider: fake-openai, embeddings: true, price: { input: 0.1, output: 0 } }
  dead-model: { provider: dead, retries: 0 }
  keyless-model: { provider: keyless }
tenants:
  acme:
    models: [gpt-test, embed-test, dead-model, keyless-model]
    aliases: { fast: gpt-test }
    teams:
      research:
        agents:
          bot:
            keys: [ { id: key_acme_bot, key: "${TENANT_KEY}" } ]
  globex:
    models: [gpt-other]
    teams:
      ops:
        agents:
          runner:
            keys: [ { id: key_globex_runner, key: "${OTHER_TENANT_KEY}" } ]
${extra}`;
}
