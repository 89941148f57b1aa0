/**
 * A policy decision for a sample request, without forwarding it anywhere: which policy a
 * tenant/agent runs under, and the PolicyInput the pipeline would build for the request. Used by
 * `omega policy test` and the admin API's dry run.
 */
import { estimateInputTokens } from '../budget/tokens.js';
import type { GatewayConfig } from '../config/load.js';
import { catalogEntry } from '../providers/catalog.js';
import { segmentsOf } from './redact-request.js';
import type { PolicyInput } from './types.js';

export interface SampleScope {
  tenantId: string;
  teamId: string;
  agentId: string;
  /** The policy the scope runs under (agent over team over tenant), or null. */
  policy: string | null;
}

/** The scope of an agent (or of the tenant alone when the agent is absent or unknown). */
export function sampleScope(config: Pick<GatewayConfig, 'tenants'>, tenantId: string, agentId?: string): SampleScope | undefined {
  const tenant = config.tenants[tenantId];
  if (!tenant) return undefined;
  for (const [teamId, team] of Object.entries(tenant.teams)) {
    const agent = agentId === undefined ? undefined : team.agents[agentId];
    if (agent) return { tenantId, teamId, agentId: agentId!, policy: agent.policy ?? team.policy ?? tenant.policy ?? null };
  }
  return { tenantId, teamId: '', agentId: agentId ?? '', policy: tenant.policy ?? null };
}

/** What the pipeline's policy stage sees for a chat (`messages`) or embeddings (`input`) body. */
export function samplePolicyInput(config: Pick<GatewayConfig, 'models'>, body: Record<string, any>, scope: Pick<SampleScope, 'tenantId' | 'teamId' | 'agentId'>): PolicyInput {
  const endpoint = body.messages ? 'chat' : 'embeddings';
  const model = String(body.model ?? '');
  const modelConfig = config.models[model];
  const upstreamModel = modelConfig?.model ?? model;
  const price = modelConfig?.price ?? catalogEntry(model)?.price ?? { input: 0, output: 0 };
  const inputTokens = estimateInputTokens(body, upstreamModel);
  return {
    segments: segmentsOf(body, endpoint),
    model,
    endpoint,
    estimatedCostUsd: (inputTokens * price.input) / 1e6,
    inputTokens,
    maxTokens: (body.max_completion_tokens ?? body.max_tokens ?? null) as number | null,
    tenantId: scope.tenantId,
    teamId: scope.teamId,
    agentId: scope.agentId,
    stream: body.stream === true,
    toolsCount: Array.isArray(body.tools) ? body.tools.length : 0,
    hasImages: JSON.stringify(body.messages ?? []).includes('"image_url"'),
    endUser: typeof body.user === 'string' ? body.user : null,
  };
}
