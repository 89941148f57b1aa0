/**
 * Admission: a request's rate quotas and budget holds taken together. With Redis back ends this
 * is one round trip (store/redis/admission.ts: one Lua script checks and takes every quota and
 * every budget scope, all or nothing); `SequentialAdmission` composes any RateLimiter and
 * BudgetLedger in two steps for the in-process back ends.
 *
 * Settlement is unchanged: `RateLimiter.adjust` and `BudgetLedger.commit/release` on the
 * limiter and ledger that share the admission's state.
 */
import type { BudgetLedger, BudgetScope, ReserveResult } from '../budget/ledger.js';
import type { RateLimitDecision, RateLimiter, RateLimitRule } from '../ratelimit/limiter.js';

export interface AdmissionRequest {
  rules: RateLimitRule[];
  /** Tokens to take from tpm quotas (estimated input + output bound). */
  tokens: number;
  maxWaitMs: number;
  scopes: BudgetScope[];
  /** Worst-case cost to hold on every scope. */
  amountUsd: number;
  /** Hold TTL. */
  ttlMs: number;
  signal?: AbortSignal;
}

export type AdmissionResult =
  /** `budget` is undefined when the request has no budget scopes. */
  | { admitted: true; rate: RateLimitDecision; budget: Extract<ReserveResult, { ok: true }> | undefined }
  /** Over a quota beyond max_wait, or aborted while waiting: no budget was held (nothing is taken). */
  | { admitted: false; refusedBy: 'rate'; rate: RateLimitDecision }
  /** A budget scope cannot afford the hold. */
  | { admitted: false; refusedBy: 'budget'; rate: RateLimitDecision; budget: Extract<ReserveResult, { ok: false }> };

export interface Admission {
  admit(request: AdmissionRequest): Promise<AdmissionResult>;
}

/**
 * Quotas, then the budget hold. Unlike the Redis script, a request the budget refuses has
 * already taken its quota slot (the RateLimiter interface cannot give it back), as today.
 */
export class SequentialAdmission implements Admission {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly ledger: BudgetLedger,
  ) {}

  async admit(req: AdmissionRequest): Promise<AdmissionResult> {
    const rate = req.rules.length > 0 ? await this.limiter.consume(req.rules, req.tokens, req.maxWaitMs, req.signal) : { allowed: true, waitedMs: 0, retryAfterMs: 0 };
    if (!rate.allowed) return { admitted: false, refusedBy: 'rate', rate };
    if (req.scopes.length === 0) return { admitted: true, rate, budget: undefined };
    const budget = await this.ledger.reserve(req.scopes, req.amountUsd, req.ttlMs);
    return budget.ok ? { admitted: true, rate, budget } : { admitted: false, refusedBy: 'budget', rate, budget };
  }
}
