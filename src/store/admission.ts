/**
 * Admission: a request's rate quotas and budget holds taken together. With Redis back ends this
 * is one round trip (store/redis/admission.ts: one Lua script checks and takes every quota and
 * every budget scope, all or nothing); `SequentialAdmission` composes any RateLimiter and
 * BudgetLedger in two steps for the in-process back ends.
 *
 * Settlement likewise: `settle` adjusts the quotas' tokens and commits (or releases) the budget
 * hold together — one more round trip with Redis, so a request with quotas and budgets costs two
 * in all; `SequentialAdmission` runs the limiter's and the ledger's own calls.
 */
import type { BudgetLedger, BudgetScope, CommitResult, Reservation, ReserveResult } from '../budget/ledger.js';
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

export interface SettleRequest {
  /** The quotas the request was admitted with ([] for none). */
  rules: RateLimitRule[];
  /** Tokens to charge on top of those taken at admission (negative: give back). */
  tokenDelta: number;
  /** The budget hold, if any. */
  reservation?: Reservation;
  /** Commit this actual cost; undefined releases the hold (nothing was billed). */
  costUsd?: number;
}

export interface SettleResult {
  /** After a commit: remaining, utilization, alerts crossed. */
  commit?: CommitResult;
  /** After a release: what each scope has left (limit − spent − reserved, at least 0). */
  remainingUsd?: Record<string, number>;
}

export interface Admission {
  admit(request: AdmissionRequest): Promise<AdmissionResult>;
  /** Settles an admitted request: its quotas' token difference and its budget hold, together. */
  settle(request: SettleRequest): Promise<SettleResult>;
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

  async settle(req: SettleRequest): Promise<SettleResult> {
    if (req.rules.length > 0 && req.tokenDelta !== 0) await this.limiter.adjust(req.rules, req.tokenDelta);
    if (!req.reservation) return {};
    if (req.costUsd !== undefined) return { commit: await this.ledger.commit(req.reservation, req.costUsd) };
    await this.ledger.release(req.reservation);
    return { remainingUsd: remainingAfterRelease(await this.ledger.status(req.reservation.scopes)) };
  }
}

/** What each scope has left after a release, from its status. */
export function remainingAfterRelease(status: Record<string, { limitUsd: number; spentUsd: number; reservedUsd: number }>): Record<string, number> {
  const remaining: Record<string, number> = {};
  for (const [key, s] of Object.entries(status)) remaining[key] = Math.max(0, s.limitUsd - s.spentUsd - s.reservedUsd);
  return remaining;
}
