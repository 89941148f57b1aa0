/**
 * Budget ledger: reserve the worst-case cost before forwarding, settle to the actual cost after.
 * Every operation is shaped to be one atomic step on a shared store (a Redis Lua script per
 * method): a reservation carries everything needed to settle it (scopes, period starts,
 * amount), so commit/release need no state beyond the counters and the hold record.
 *
 * Pipeline contract:
 * - reserve `input estimate + output bound` (see tokens.ts) priced at the route's prices; with
 *   that upper bound the limit is never overspent, whatever the concurrency;
 * - on every path after forwarding: `commit(actual)` if the provider may have billed anything
 *   (including cut-short streams), else `release`; the TTL covers crashes;
 * - alerts come back from `commit` (once per scope, period and threshold).
 */

import type { BudgetPeriod } from './periods.js';

/** One budget a request counts against. Keys: 'tenant:acme', 'team:acme/research', 'agent:acme/bot', 'key:key_1'. */
export interface BudgetScope {
  key: string;
  limitUsd: number;
  period: BudgetPeriod;
  /** Fractions of the limit that raise an alert, e.g. [0.5, 0.8, 1]. */
  alerts: number[];
}

/** A hold on every scope of a request; pass it back unchanged to commit/release. */
export interface Reservation {
  id: string;
  scopes: BudgetScope[];
  amountUsd: number;
  /** Start of each scope's period at reserve time (same order as `scopes`): spend lands in that period. */
  periodStarts: number[];
  expiresAt: number;
}

export type ReserveResult =
  | { ok: true; reservation: Reservation; remainingUsd: Record<string, number> }
  | { ok: false; scope: BudgetScope; remainingUsd: number };

export interface ThresholdCrossed {
  scope: BudgetScope;
  threshold: number;
  spentUsd: number;
  periodStart: number;
}

export interface CommitResult {
  /** limit - spent - reserved per scope key, never below 0. */
  remainingUsd: Record<string, number>;
  /** spent / limit per scope key (may exceed 1 when actual cost beat the reservation). */
  utilization: Record<string, number>;
  crossed: ThresholdCrossed[];
}

export interface BudgetScopeStatus {
  spentUsd: number;
  reservedUsd: number;
  limitUsd: number;
  periodStart: number;
  /** Infinity for 'total'. */
  periodEnd: number;
}

export interface BudgetLedger {
  /** Atomically: for every scope, spent + reserved + amount <= limit, else refuse naming the first scope that would overrun; on success hold `amount` on all scopes until commit/release or `ttlMs`. */
  reserve(scopes: BudgetScope[], amountUsd: number, ttlMs: number): Promise<ReserveResult>;
  /** Turns the reservation into actual spend (may be more or less than reserved), frees the hold, reports thresholds crossed for the first time this period. Idempotent per reservation id. Commits to a reservation that already expired still record the spend. */
  commit(reservation: Reservation, actualUsd: number): Promise<CommitResult>;
  /** Frees the hold without spend (request failed before any usage). Idempotent. */
  release(reservation: Reservation): Promise<void>;
  /** Current spent/reserved/limit per scope, for headers, audit and the admin API. */
  status(scopes: BudgetScope[]): Promise<Record<string, BudgetScopeStatus>>;
}

/**
 * Float tolerance for limit checks: sums of many fractional costs drift by ~1e-15, and a request
 * that fits exactly must not be refused for it. Overspend it allows is below a micro-cent.
 */
export const USD_EPSILON = 1e-9;
