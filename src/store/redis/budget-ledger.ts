/**
 * BudgetLedger on Redis: one Lua script per method, so a budget shared by many replicas is
 * never overspent (reserve checks spent + reserved + amount <= limit on every scope and holds
 * on all of them atomically), alerts fire once across replicas, and a crashed replica's holds
 * expire by themselves (every script purges holds past their TTL first).
 *
 * Periods are computed here (periods.ts, the configured time zone) and name the counters
 * ('…:b:<scope>:<period start>'), so a request settles into the period it was reserved in.
 * Counters expire a week after their period ends ('total' never).
 *
 * Seeding from the audit trail at start: a period Redis already has counters for is not seeded
 * again, so several replicas starting together count the audited spend once. (If Redis loses
 * its data while replicas keep running, the spend before the loss is missing until a replica
 * starts again after the period's counters are gone: run Redis with persistence.)
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { USD_EPSILON, type BudgetLedger, type BudgetScope, type BudgetScopeStatus, type CommitResult, type Reservation, type ReserveResult, type ThresholdCrossed } from '../../budget/ledger.js';
import { periodWindow } from '../../budget/periods.js';
import { LUA_COMMIT, LUA_LEDGER_LIB, LUA_LEDGER_SETTLE_LIB, LUA_RELEASE, LUA_RESERVE, LUA_SEED, LUA_STATUS } from './lua-ledger.js';
import { LUA_COMMON } from './lua-rate.js';
import { ScriptRunner, script, taggedPrefix } from './scripts.js';

const RESERVE = script(LUA_COMMON + LUA_LEDGER_LIB + LUA_RESERVE);
const COMMIT = script(LUA_COMMON + LUA_LEDGER_LIB + LUA_LEDGER_SETTLE_LIB + LUA_COMMIT);
const RELEASE = script(LUA_COMMON + LUA_LEDGER_LIB + LUA_RELEASE);
const STATUS = script(LUA_COMMON + LUA_LEDGER_LIB + LUA_STATUS);
const SEED = script(LUA_SEED);

/** Counters outlive their period by this much: late commits of reservations made near its end. */
const COUNTER_GRACE_MS = 7 * 86_400_000;

export interface RedisBudgetLedgerOptions {
  redis: Redis;
  /** IANA zone in which daily/weekly/monthly periods start. */
  timeZone: string;
  /** Key prefix (a hash tag is added when missing). Default 'omega'. */
  prefix?: string;
  /** Clock in epoch ms; default Date.now for periods and Redis's clock for hold expiry. */
  now?: () => number;
}

/** Key naming shared with the combined admission script. */
export class LedgerKeys {
  readonly fixed: [string, string, string];
  constructor(
    readonly prefix: string,
    readonly timeZone: string,
  ) {
    this.fixed = [`${prefix}:holds`, `${prefix}:holds:expired`, `${prefix}:holds:data`];
  }

  counter(scope: BudgetScope, periodStart: number): string {
    return `${this.prefix}:b:${scope.key}:${periodStart}`;
  }

  /** TTL of a period's counters: until a week after the period ends; 0 (none) for 'total'. */
  counterTtl(scope: BudgetScope, periodStart: number, now: number): number {
    const w = periodWindow(scope.period, periodStart, this.timeZone);
    return Number.isFinite(w.end) ? Math.max(1, Math.ceil(w.end - now + COUNTER_GRACE_MS)) : 0;
  }

  /**
   * KEYS (after the fixed three: the reservation's period hashes, then the current ones) and
   * ARGV (limit, alerts, TTLs per scope) of settling `reservation` at `now` (lg_commit, lg_status).
   */
  settleArgs(reservation: Reservation, now: number): { keys: string[]; args: (string | number)[] } {
    const { scopes, periodStarts } = reservation;
    const keys = scopes.map((s, i) => this.counter(s, periodStarts[i]));
    const args: (string | number)[] = [];
    for (let i = 0; i < scopes.length; i++) {
      const s = scopes[i];
      const ps = periodWindow(s.period, now, this.timeZone).start;
      keys.push(this.counter(s, ps));
      args.push(s.limitUsd, s.alerts.join(','), this.counterTtl(s, periodStarts[i], now), this.counterTtl(s, ps, now));
    }
    return { keys, args };
  }

  /** KEYS (after the fixed three) and ARGV (limit, TTL per scope) of a reservation at `now`. */
  reserveArgs(scopes: BudgetScope[], now: number): { keys: string[]; args: number[]; periodStarts: number[] } {
    const keys: string[] = [];
    const args: number[] = [];
    const periodStarts: number[] = [];
    for (const s of scopes) {
      const ps = periodWindow(s.period, now, this.timeZone).start;
      periodStarts.push(ps);
      keys.push(this.counter(s, ps));
      args.push(s.limitUsd, this.counterTtl(s, ps, now));
    }
    return { keys, args, periodStarts };
  }
}

export const newReservationId = (() => {
  const prefix = `rsv_${randomBytes(6).toString('hex')}_`;
  let seq = 0;
  return (): string => prefix + (++seq).toString(36);
})();

/**
 * @example
 * const ledger = new RedisBudgetLedger({ redis: new Redis(url), timeZone: 'Europe/Berlin' });
 * const r = await ledger.reserve([{ key: 'tenant:acme', limitUsd: 100, period: 'monthly', alerts: [0.8] }], 0.02, 600_000);
 * if (r.ok) await ledger.commit(r.reservation, 0.013);
 */
export class RedisBudgetLedger implements BudgetLedger {
  private readonly runner: ScriptRunner;
  readonly keys: LedgerKeys;
  private readonly now: (() => number) | undefined;

  constructor(options: RedisBudgetLedgerOptions) {
    this.runner = new ScriptRunner(options.redis);
    this.keys = new LedgerKeys(taggedPrefix(options.prefix ?? 'omega'), options.timeZone);
    this.now = options.now;
    periodWindow('daily', Date.now(), options.timeZone); // fail fast on an unknown zone
  }

  /** Redis round trips so far (benchmark: divide by requests). */
  get roundTrips(): number {
    return this.runner.roundTrips;
  }

  private clock(): number {
    return this.now ? this.now() : Date.now();
  }

  private nowArg(now: number): number | string {
    return this.now ? now : '';
  }

  async reserve(scopes: BudgetScope[], amountUsd: number, ttlMs: number): Promise<ReserveResult> {
    const now = this.clock();
    const amount = amountUsd > 0 ? amountUsd : 0;
    const { keys, args, periodStarts } = this.keys.reserveArgs(scopes, now);
    const id = newReservationId();
    const res = (await this.runner.run(RESERVE, [...this.keys.fixed, ...keys], [this.nowArg(now), amount, ttlMs, id, scopes.length, ...args])) as (string | number)[];
    return reserveResult(res, 0, scopes, amount, periodStarts, id);
  }

  async commit(reservation: Reservation, actualUsd: number): Promise<CommitResult> {
    const now = this.clock();
    const { keys, args } = this.keys.settleArgs(reservation, now);
    const res = (await this.runner.run(COMMIT, [...this.keys.fixed, ...keys], [this.nowArg(now), reservation.id, actualUsd > 0 ? actualUsd : 0, reservation.scopes.length, ...args])) as string[];
    return commitResult(res, 0, reservation);
  }

  async release(reservation: Reservation): Promise<void> {
    const now = this.clock();
    await this.runner.run(RELEASE, this.keys.fixed, [this.nowArg(now), reservation.id]);
  }

  async status(scopes: BudgetScope[]): Promise<Record<string, BudgetScopeStatus>> {
    const now = this.clock();
    const { keys } = this.keys.reserveArgs(scopes, now);
    const res = (await this.runner.run(STATUS, [...this.keys.fixed, ...keys], [this.nowArg(now), scopes.length])) as string[];
    const out: Record<string, BudgetScopeStatus> = {};
    scopes.forEach((s, i) => {
      const w = periodWindow(s.period, now, this.keys.timeZone);
      out[s.key] = { spentUsd: Number(res[2 * i]), reservedUsd: Number(res[2 * i + 1]), limitUsd: s.limitUsd, periodStart: w.start, periodEnd: w.end };
    });
    return out;
  }

  /**
   * Restores audited spend of the current period at start; a no-op when Redis already counts this
   * period (another replica seeded it, or requests were served since). Returns whether it seeded.
   */
  async seed(scope: BudgetScope, spentUsd: number): Promise<boolean> {
    const now = this.clock();
    const ps = periodWindow(scope.period, now, this.keys.timeZone).start;
    let alerted = 0;
    for (const t of scope.alerts) if (spentUsd >= t * scope.limitUsd - USD_EPSILON && t > alerted) alerted = t;
    const res = await this.runner.run(SEED, [this.keys.counter(scope, ps)], [spentUsd, alerted, this.keys.counterTtl(scope, ps, now)]);
    return res === 1;
  }
}

/** Decodes lg_commit's reply starting at `offset`: remaining and spent per scope, then the alerts crossed. */
export function commitResult(res: (string | number)[], offset: number, reservation: Reservation): CommitResult {
  const { scopes, periodStarts } = reservation;
  const n = scopes.length;
  const remainingUsd: Record<string, number> = {};
  const utilization: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const s = scopes[i];
    const spent = Number(res[offset + 2 * i + 1]);
    remainingUsd[s.key] = Number(res[offset + 2 * i]);
    utilization[s.key] = s.limitUsd > 0 ? spent / s.limitUsd : spent > 0 ? 1 : 0;
  }
  const crossed: ThresholdCrossed[] = [];
  for (let j = offset + 2 * n; j + 2 < res.length; j += 3) {
    const i = Number(res[j]) - 1;
    crossed.push({ scope: scopes[i], threshold: Number(res[j + 1]), spentUsd: Number(res[j + 2]), periodStart: periodStarts[i] });
  }
  return { remainingUsd, utilization, crossed };
}

/** Decodes a reserve reply starting at `offset`: {1, expiresAt, remaining…} or {0, index, remaining}. */
export function reserveResult(res: (string | number)[], offset: number, scopes: BudgetScope[], amount: number, periodStarts: number[], id: string): ReserveResult {
  if (Number(res[offset]) !== 1) {
    return { ok: false, scope: scopes[Number(res[offset + 1]) - 1], remainingUsd: Number(res[offset + 2]) };
  }
  const remainingUsd: Record<string, number> = {};
  scopes.forEach((s, i) => (remainingUsd[s.key] = Number(res[offset + 2 + i])));
  return { ok: true, reservation: { id, scopes, amountUsd: amount, periodStarts, expiresAt: Number(res[offset + 1]) }, remainingUsd };
}
