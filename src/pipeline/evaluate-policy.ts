/** Stage: run the tenant's policy and refuse what it blocks. */
import { GatewayError } from '../errors.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { ChatRequest, EmbeddingsRequest } from '../providers/adapter.js';
import type { RequestContext } from './context.js';

export function evaluatePolicy(ctx: RequestContext, body: ChatRequest | EmbeddingsRequest, engine: PolicyEngine): void {
  const decision = engine.evaluate(ctx, body);
  ctx.outcome = decision.outcome;
  ctx.riskScore = decision.riskScore;
  ctx.policyVersion = decision.policyVersion;
  ctx.matchedRules = decision.matchedRules;
  if (decision.outcome === 'BLOCK') {
    throw new GatewayError('policy_blocked', `The request was blocked by policy (rules: ${decision.matchedRules.join(', ') || 'risk score'}).`);
  }
}
