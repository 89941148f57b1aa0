/**
 * `omega policy test FILE --request req.json`: the decision the gateway would make for a request,
 * without sending anything anywhere — for reviewing and CI-testing policy changes.
 */
import { readFileSync } from 'node:fs';
import { estimateInputTokens } from '../budget/tokens.js';
import { loadConfigFile } from '../config/load.js';
import { PolicySet } from '../policy/inheritance.js';
import { segmentsOf } from '../policy/redact-request.js';
import type { PolicyInput, PolicyResult } from '../policy/types.js';
import { catalogEntry } from '../providers/catalog.js';

export interface PolicyTestOptions {
  request: string;
  tenant?: string;
  agent?: string;
  policy?: string;
}

export function policyTest(file: string, opts: PolicyTestOptions): { policy: string | null; result: PolicyResult | null } {
  const config = loadConfigFile(file);
  const body = JSON.parse(readFileSync(opts.request, 'utf8')) as Record<string, any>;
  const endpoint = body.messages ? 'chat' : 'embeddings';
  const set = new PolicySet(config.policies);

  let tenantId = opts.tenant ?? '';
  let teamId = '';
  let agentId = opts.agent ?? '';
  let name = opts.policy ?? null;
  if (!name) {
    const tenant = config.tenants[tenantId];
    if (!tenant) throw new Error(`give --policy NAME, or --tenant (one of: ${Object.keys(config.tenants).join(', ')})`);
    name = tenant.policy ?? null;
    for (const [t, team] of Object.entries(tenant.teams)) {
      const agent = team.agents[agentId];
      if (agent) {
        teamId = t;
        name = agent.policy ?? team.policy ?? tenant.policy ?? null;
      }
    }
  }
  if (name === null) return { policy: null, result: null };
  const policy = set.get(name);
  if (!policy) throw new Error(`unknown policy "${name}"`);

  const model = String(body.model ?? '');
  const modelConfig = config.models[model];
  const upstreamModel = modelConfig?.model ?? model;
  const price = modelConfig?.price ?? catalogEntry(model)?.price ?? { input: 0, output: 0 };
  const inputTokens = estimateInputTokens(body, upstreamModel);
  const maxTokens = (body.max_completion_tokens ?? body.max_tokens ?? null) as number | null;
  const input: PolicyInput = {
    segments: segmentsOf(body, endpoint),
    model,
    endpoint,
    estimatedCostUsd: (inputTokens * price.input) / 1e6,
    inputTokens,
    maxTokens,
    tenantId,
    teamId,
    agentId,
    stream: body.stream === true,
    toolsCount: Array.isArray(body.tools) ? body.tools.length : 0,
    hasImages: JSON.stringify(body.messages ?? []).includes('"image_url"'),
    endUser: typeof body.user === 'string' ? body.user : null,
  };
  return { policy: name, result: policy.evaluate(input) };
}
