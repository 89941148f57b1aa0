/**
 * Stage: run the principal's policy over the request. BLOCK refuses (naming the rules, never
 * the matched text); redact rules mask their matches in the body that is forwarded; REVIEW is
 * handled by the hold-for-review stage. Everything the policy found goes to the audit.
 */
import { GatewayError } from '../errors.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { PolicyEngine } from '../policy/engine.js';
import { applyRedactions } from '../policy/redact-request.js';
import type { PolicyInput, PolicyResult, TextSegment } from '../policy/types.js';
import type { RequestContext } from './context.js';

/**
 * `body` is the client's wire body and `segments` lists the text in it (paths into `body`), so
 * redactions land in what is forwarded whatever the inbound API. Without a policy it returns at
 * once (no await on the hot path).
 */
export function evaluatePolicy<B extends object>(
  ctx: RequestContext,
  body: B,
  segments: (body: B) => TextSegment[],
  engine: PolicyEngine,
  endpoint: 'chat' | 'embeddings',
  model: string,
): B | Promise<B> {
  const policy = engine.policyFor(ctx.principal!);
  if (!policy) return body;
  return judge(ctx, body, segments, policy, endpoint, model);
}

async function judge<B extends object>(ctx: RequestContext, body: B, segments: (body: B) => TextSegment[], policy: CompiledPolicy, endpoint: 'chat' | 'embeddings', model: string): Promise<B> {
  const p = ctx.principal!;
  const f = ctx.facts!;
  const input: PolicyInput = {
    segments: segments(body),
    model,
    endpoint,
    estimatedCostUsd: ctx.costEstimatedUsd,
    inputTokens: ctx.inputTokensEstimated,
    maxTokens: f.maxTokens,
    tenantId: p.tenantId,
    teamId: p.teamId,
    agentId: p.agentId,
    stream: ctx.stream,
    toolsCount: f.toolsCount,
    hasImages: f.hasImages,
    endUser: f.endUser,
  };
  // Large bodies are scanned in slices with event-loop turns in between (scan-slices.ts).
  const result = await policy.evaluateInSlices(input);
  ctx.policy = { compiled: policy, input };
  recordPolicyResult(ctx, result);
  if (result.outcome === 'BLOCK') {
    const rules = result.matchedRules.filter((r) => !r.shadow && r.action === 'block').map((r) => r.id);
    const why = rules.length > 0 ? `rule${rules.length > 1 ? 's' : ''} ${rules.join(', ')}` : `risk score ${result.riskScore} ≥ ${policy.config.thresholds.block}`;
    throw new GatewayError('policy_blocked', `The request was blocked by policy "${result.policyName}" (${why}).`);
  }
  return result.redactions.length > 0 ? applyRedactions(body, result.redactions) : body;
}

export function recordPolicyResult(ctx: RequestContext, result: PolicyResult): void {
  ctx.outcome = result.outcome;
  ctx.riskScore = result.riskScore;
  ctx.policyVersion = result.policyVersion;
  ctx.policyName = result.policyName;
  ctx.matchedRules = result.matchedRules.filter((r) => !r.shadow).map((r) => r.id);
  ctx.policyResult = result;
}

/**
 * Response rules over a whole answer (non-stream), each choice on its own path. Returns the
 * redactions to apply to the completion, or throws on BLOCK.
 */
export function evaluateResponsePolicy(ctx: RequestContext, contents: readonly (string | null | undefined)[]): PolicyResult['redactions'] {
  const policy: CompiledPolicy | undefined = ctx.policy?.compiled;
  if (!policy?.hasResponseRules || !ctx.policy) return [];
  const redactions: PolicyResult['redactions'] = [];
  for (let i = 0; i < contents.length; i++) {
    const result = policy.evaluateResponse(contents[i] ?? '', ctx.policy.input, `choices[${i}].message.content`);
    const kept = ctx.responsePolicyResult;
    // The most severe choice is audited; at equal severity the one that matched rules (a redaction is ALLOW too).
    if (!kept || SEVERITY[result.outcome] > SEVERITY[kept.outcome] || (SEVERITY[result.outcome] === SEVERITY[kept.outcome] && result.matchedRules.length > kept.matchedRules.length)) {
      ctx.responsePolicyResult = result;
    }
    if (result.outcome === 'BLOCK') {
      const rules = result.matchedRules.filter((r) => !r.shadow && r.action === 'block').map((r) => r.id);
      throw new GatewayError('policy_blocked', `The response was blocked by policy "${result.policyName}" (rules: ${rules.join(', ')}).`);
    }
    redactions.push(...result.redactions);
  }
  return redactions;
}

const SEVERITY = { ALLOW: 0, REVIEW: 1, BLOCK: 2 } as const;
