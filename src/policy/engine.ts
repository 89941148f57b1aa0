/**
 * The policy engine's contract. A decision is made for every request before it reaches a
 * provider; `evaluate` must be synchronous and cheap, as it runs on the hot path.
 */
import type { PolicyOutcome, RequestContext } from '../pipeline/context.js';
import type { ChatRequest, EmbeddingsRequest } from '../providers/adapter.js';

export interface PolicyDecision {
  outcome: PolicyOutcome;
  /** Risk score in [0,1]. */
  riskScore: number;
  /** The version of the policy that decided, recorded in the audit. */
  policyVersion: string | null;
  /** Ids of the rules that matched (never the sensitive text they matched). */
  matchedRules: string[];
}

export interface PolicyEngine {
  evaluate(ctx: RequestContext, body: ChatRequest | EmbeddingsRequest): PolicyDecision;
}

/**
 * The engine used while no tenant policy is enforced: every request is allowed with score 0.
 * It stays the right answer for tenants that declare no policy.
 */
export class AllowAllPolicyEngine implements PolicyEngine {
  private static readonly decision: PolicyDecision = Object.freeze({ outcome: 'ALLOW', riskScore: 0, policyVersion: null, matchedRules: [] }) as PolicyDecision;

  evaluate(): PolicyDecision {
    return AllowAllPolicyEngine.decision;
  }
}
