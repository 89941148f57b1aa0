/**
 * Degraded mode for the shared counters (`redis.on_unavailable`). While Redis answers, every call
 * goes to it. When a call fails (connection refused, timeout, …) the counters become degraded:
 * - `local`: quotas and budgets are taken from this process's memory limiter and ledger — each
 *   replica then admits up to the full quota and budget on its own (the documented looseness);
 * - `refuse`: admission fails with 503 `counters_unavailable`; nothing is forwarded.
 * A probe pings Redis with backoff (250 ms doubling to 5 s) and returns to it when it answers.
 * Settlement follows the hold: a reservation taken in memory settles in memory, one taken in
 * Redis settles in Redis (if Redis is away then, its TTL frees the hold).
 */
import type { Logger } from 'pino';
import type { BudgetLedger, BudgetScope, Reservation, ReserveResult } from '../../budget/ledger.js';
import type { MemoryBudgetLedger } from '../../budget/memory-ledger.js';
import { GatewayError } from '../../errors.js';
import type { RateLimitDecision, RateLimiter, RateLimitRule } from '../../ratelimit/limiter.js';
import { SequentialAdmission, type Admission, type AdmissionRequest, type AdmissionResult, type SettleRequest, type SettleResult } from '../admission.js';
import type { RedisCounters } from './counters.js';

export type OnUnavailable = 'local' | 'refuse';

const PROBE_START_MS = 250;
const PROBE_MAX_MS = 5_000;

export class FailoverCounters {
  readonly limiter: RateLimiter;
  readonly ledger: BudgetLedger;
  readonly admission: Admission;
  private degradedSince: number | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Degraded decisions so far, by `counters|served` or `counters|refused` (a counter metric). */
  readonly decisions = new Map<string, number>();
  /** Reservations taken in memory while degraded (settled there). */
  private readonly localHolds = new WeakSet<Reservation>();

  constructor(
    private readonly shared: RedisCounters,
    private readonly local: { limiter: RateLimiter; ledger: MemoryBudgetLedger },
    private readonly mode: OnUnavailable,
    private readonly log: Logger,
  ) {
    const localAdmission = new SequentialAdmission(local.limiter, local.ledger);
    this.limiter = {
      consume: (rules: RateLimitRule[], tokens: number, maxWaitMs: number, signal?: AbortSignal): Promise<RateLimitDecision> =>
        this.run(() => shared.limiter.consume(rules, tokens, maxWaitMs, signal), () => local.limiter.consume(rules, tokens, maxWaitMs, signal)),
      adjust: (rules: RateLimitRule[], delta: number) => this.run(() => shared.limiter.adjust(rules, delta), () => local.limiter.adjust(rules, delta), true),
    };
    const reserveLocal = async (scopes: BudgetScope[], amount: number, ttl: number) => this.markLocal(await local.ledger.reserve(scopes, amount, ttl));
    this.ledger = {
      reserve: (scopes, amount, ttl) => this.run(() => shared.ledger.reserve(scopes, amount, ttl), () => reserveLocal(scopes, amount, ttl)),
      commit: (r, usd) => (this.localHolds.has(r) ? local.ledger.commit(r, usd) : shared.ledger.commit(r, usd)),
      release: (r) => (this.localHolds.has(r) ? local.ledger.release(r) : shared.ledger.release(r)),
      status: (scopes) => this.run(() => shared.ledger.status(scopes), () => local.ledger.status(scopes), true),
    };
    this.admission = {
      admit: (req: AdmissionRequest): Promise<AdmissionResult> =>
        this.run(
          () => shared.admission.admit(req),
          async () => {
            const result = await localAdmission.admit(req);
            if (result.admitted && result.budget) this.localHolds.add(result.budget.reservation);
            return result;
          },
        ),
      // A hold taken in memory settles in memory; one taken in Redis settles there (if Redis is away by then, its TTL frees it).
      settle: (req: SettleRequest): Promise<SettleResult> =>
        req.reservation && this.localHolds.has(req.reservation)
          ? localAdmission.settle(req)
          : this.run(() => shared.admission.settle(req), () => localAdmission.settle({ ...req, reservation: undefined }), true),
    };
  }

  /** Whether the counters are local (or refusing) because Redis is away. */
  get degraded(): boolean {
    return this.degradedSince !== null;
  }

  /** The `/readyz` entry. */
  readiness(): { state: 'redis' | 'degraded'; mode?: OnUnavailable; since?: string } {
    return this.degradedSince === null ? { state: 'redis' } : { state: 'degraded', mode: this.mode, since: new Date(this.degradedSince).toISOString() };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probeTimer);
    await this.shared.close();
  }

  private markLocal(result: ReserveResult): ReserveResult {
    if (result.ok) this.localHolds.add(result.reservation);
    return result;
  }

  /** Redis unless degraded; a failure degrades and answers locally (or refuses). `always`: bookkeeping that never refuses. */
  private async run<T>(remote: () => Promise<T>, fallback: () => Promise<T>, always = false): Promise<T> {
    if (this.degradedSince === null) {
      try {
        return await remote();
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        this.degrade(err);
      }
    }
    if (!always) this.count(this.mode === 'local' ? 'served' : 'refused');
    if (this.mode === 'refuse' && !always) throw new GatewayError('counters_unavailable', 'Rate quotas and budgets cannot be checked right now (the shared counter store is unreachable); retry shortly.');
    return fallback();
  }

  private count(decision: 'served' | 'refused'): void {
    const key = `counters|${decision}`;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
  }

  private degrade(err: unknown): void {
    if (this.degradedSince !== null) return;
    this.degradedSince = Date.now();
    this.log.error({ err, mode: this.mode }, this.mode === 'local' ? 'Redis unreachable: quotas and budgets are enforced per process until it answers again' : 'Redis unreachable: refusing requests that need quotas or budgets until it answers again');
    this.probe(PROBE_START_MS);
  }

  private probe(delay: number): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.shared.redis.ping().then(
        () => {
          this.log.warn({ degradedMs: Date.now() - this.degradedSince! }, 'Redis answers again: quotas and budgets are shared again');
          this.degradedSince = null;
        },
        () => this.probe(Math.min(delay * 2, PROBE_MAX_MS)),
      );
    }, delay);
    this.probeTimer.unref();
  }
}
