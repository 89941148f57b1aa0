/**
 * In-process BudgetLedger (single replica). Every method runs synchronously, so each is atomic
 * with respect to every other request on this event loop; the Promise signature is for the
 * Redis implementation.
 *
 * Counters live per (scope key, period start): `cur` and the one before it, so a request that
 * straddles midnight settles into the period it was reserved in while the new period starts
 * clean. Holds expire at `expiresAt` (swept lazily on every call once the earliest expiry has
 * passed, and by an unref'd timer), so a crash mid-request never leaves phantom holds.
 */
import { randomBytes } from 'node:crypto';
import { periodStart as startOf, periodWindow } from './periods.js';
import {
  USD_EPSILON,
  type BudgetLedger,
  type BudgetScope,
  type BudgetScopeStatus,
  type CommitResult,
  type Reservation,
  type ReserveResult,
  type ThresholdCrossed,
} from './ledger.js';

/** How long an expired hold is remembered so a late commit still records its spend. */
const EXPIRED_RETENTION_MS = 6 * 3_600_000;
const EXPIRED_MAX = 100_000;

interface PeriodState {
  readonly periodStart: number;
  spent: number;
  reserved: number;
  /** Highest alert threshold already fired this period; spend only grows, so thresholds fire in order. */
  alerted: number;
}

interface ScopeEntry {
  cur: PeriodState;
  prev: PeriodState | undefined;
}

interface Hold {
  readonly reservation: Reservation;
  /** The exact counters this hold added to, so freeing it never touches another period. */
  readonly states: PeriodState[];
  forgetAt: number;
}

export interface MemoryBudgetLedgerOptions {
  /** IANA zone in which daily/weekly/monthly periods start. */
  timeZone: string;
  now?: () => number;
  /** Background sweep interval; 0 disables the timer (lazy sweeping still runs on every call). */
  sweepIntervalMs?: number;
}

const newState = (periodStart: number): PeriodState => ({ periodStart, spent: 0, reserved: 0, alerted: 0 });

/**
 * @example
 * const ledger = new MemoryBudgetLedger({ timeZone: 'Europe/Berlin' });
 * const r = await ledger.reserve([{ key: 'tenant:acme', limitUsd: 100, period: 'monthly', alerts: [0.8] }], 0.02, 600_000);
 * if (r.ok) await ledger.commit(r.reservation, 0.013);
 */
export class MemoryBudgetLedger implements BudgetLedger {
  private readonly timeZone: string;
  private readonly now: () => number;
  private readonly scopes = new Map<string, ScopeEntry>();
  private readonly holds = new Map<string, Hold>();
  private readonly expired = new Map<string, Hold>();
  private nextExpiry = Number.POSITIVE_INFINITY;
  private readonly idPrefix = `rsv_${randomBytes(4).toString('hex')}_`;
  private seq = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryBudgetLedgerOptions) {
    this.timeZone = options.timeZone;
    this.now = options.now ?? Date.now;
    startOf('daily', this.now(), this.timeZone); // fail fast on an unknown zone
    const every = options.sweepIntervalMs ?? 5_000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(this.now()), every);
      this.timer.unref();
    }
  }

  /** Stops the background sweep (tests, shutdown). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Holds currently outstanding (for metrics and tests). */
  get activeReservations(): number {
    return this.holds.size;
  }

  reserve(scopes: BudgetScope[], amountUsd: number, ttlMs: number): Promise<ReserveResult> {
    const now = this.now();
    if (now >= this.nextExpiry) this.sweep(now);
    const amount = amountUsd > 0 ? amountUsd : 0;
    const n = scopes.length;
    const states = new Array<PeriodState>(n);
    for (let i = 0; i < n; i++) {
      const scope = scopes[i];
      const st = this.current(scope, now);
      // An exhausted budget refuses even zero-cost estimates: an unknown price is not a free request.
      if (st.spent + st.reserved + amount > scope.limitUsd + USD_EPSILON || st.spent >= scope.limitUsd) {
        return Promise.resolve({ ok: false, scope, remainingUsd: remaining(scope, st) });
      }
      states[i] = st;
    }
    const periodStarts = new Array<number>(n);
    const remainingUsd: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const st = states[i];
      st.reserved += amount;
      periodStarts[i] = st.periodStart;
      remainingUsd[scopes[i].key] = remaining(scopes[i], st);
    }
    const expiresAt = now + ttlMs;
    const reservation: Reservation = { id: this.idPrefix + (++this.seq).toString(36), scopes, amountUsd: amount, periodStarts, expiresAt };
    this.holds.set(reservation.id, { reservation, states, forgetAt: 0 });
    if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt;
    return Promise.resolve({ ok: true, reservation, remainingUsd });
  }

  commit(reservation: Reservation, actualUsd: number): Promise<CommitResult> {
    const now = this.now();
    if (now >= this.nextExpiry) this.sweep(now);
    let hold = this.holds.get(reservation.id);
    if (hold) {
      this.holds.delete(reservation.id);
      unhold(hold);
    } else {
      hold = this.expired.get(reservation.id);
      if (hold) this.expired.delete(reservation.id);
    }
    // No hold: already committed or released (idempotent), so nothing more is spent.
    const crossed: ThresholdCrossed[] = [];
    if (hold && actualUsd > 0) {
      const r = hold.reservation;
      for (let i = 0; i < r.scopes.length; i++) {
        const scope = r.scopes[i];
        const st = this.settleState(scope, r.periodStarts[i], now);
        st.spent += actualUsd;
        checkAlerts(scope, st, crossed);
      }
    }
    const scopes = hold ? hold.reservation.scopes : reservation.scopes;
    const remainingUsd: Record<string, number> = {};
    const utilization: Record<string, number> = {};
    for (const scope of scopes) {
      const st = this.current(scope, now);
      remainingUsd[scope.key] = remaining(scope, st);
      utilization[scope.key] = scope.limitUsd > 0 ? st.spent / scope.limitUsd : st.spent > 0 ? 1 : 0;
    }
    return Promise.resolve({ remainingUsd, utilization, crossed });
  }

  release(reservation: Reservation): Promise<void> {
    const now = this.now();
    if (now >= this.nextExpiry) this.sweep(now);
    const hold = this.holds.get(reservation.id);
    if (hold) {
      this.holds.delete(reservation.id);
      unhold(hold);
    } else {
      this.expired.delete(reservation.id);
    }
    return Promise.resolve();
  }

  status(scopes: BudgetScope[]): Promise<Record<string, BudgetScopeStatus>> {
    const now = this.now();
    if (now >= this.nextExpiry) this.sweep(now);
    const out: Record<string, BudgetScopeStatus> = {};
    for (const scope of scopes) {
      const st = this.current(scope, now);
      const w = periodWindow(scope.period, now, this.timeZone);
      out[scope.key] = { spentUsd: st.spent, reservedUsd: st.reserved, limitUsd: scope.limitUsd, periodStart: w.start, periodEnd: w.end };
    }
    return Promise.resolve(out);
  }

  /** Frees expired holds (remembering them for late commits) and forgets very old ones. */
  private sweep(now: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const [id, hold] of this.holds) {
      const exp = hold.reservation.expiresAt;
      if (exp <= now) {
        this.holds.delete(id);
        unhold(hold);
        hold.forgetAt = now + EXPIRED_RETENTION_MS;
        this.expired.set(id, hold);
      } else if (exp < next) next = exp;
    }
    this.nextExpiry = next;
    // Insertion order is forgetAt order, so stop at the first one still remembered.
    for (const [id, hold] of this.expired) {
      if (hold.forgetAt > now && this.expired.size <= EXPIRED_MAX) break;
      this.expired.delete(id);
    }
  }

  /**
   * Restores spend recorded before this process started (from the audit trail), so a restart
   * neither resets budgets nor repeats alerts already sent for the crossed thresholds.
   */
  seed(scope: BudgetScope, spentUsd: number): void {
    const st = this.current(scope, this.now());
    st.spent += spentUsd;
    for (const t of scope.alerts) if (st.spent >= t * scope.limitUsd - USD_EPSILON && t > st.alerted) st.alerted = t;
  }

  /** The counters of the period `now` falls in, rolling the scope over when a new period began. */
  private current(scope: BudgetScope, now: number): PeriodState {
    const ps = startOf(scope.period, now, this.timeZone);
    const entry = this.scopes.get(scope.key);
    if (!entry) {
      const st = newState(ps);
      this.scopes.set(scope.key, { cur: st, prev: undefined });
      return st;
    }
    if (entry.cur.periodStart === ps) return entry.cur;
    if (entry.prev && entry.prev.periodStart === ps) {
      // the clock stepped back over a boundary: return to the older counters rather than reset them
      const older = entry.prev;
      entry.prev = entry.cur;
      entry.cur = older;
      return older;
    }
    entry.prev = entry.cur;
    entry.cur = newState(ps);
    return entry.cur;
  }

  /** Where spend of a reservation made in period `ps` lands: that period if still tracked, else the current one (never dropped). */
  private settleState(scope: BudgetScope, ps: number, now: number): PeriodState {
    const cur = this.current(scope, now);
    if (cur.periodStart === ps) return cur;
    const prev = this.scopes.get(scope.key)?.prev;
    return prev && prev.periodStart === ps ? prev : cur;
  }
}

function unhold(hold: Hold): void {
  const amount = hold.reservation.amountUsd;
  for (const st of hold.states) {
    st.reserved -= amount;
    if (st.reserved < USD_EPSILON) st.reserved = 0; // float drift must not leave phantom cents
  }
}

function remaining(scope: BudgetScope, st: PeriodState): number {
  const r = scope.limitUsd - st.spent - st.reserved;
  return r > 0 ? r : 0;
}

function checkAlerts(scope: BudgetScope, st: PeriodState, crossed: ThresholdCrossed[]): void {
  let highest = st.alerted;
  for (const t of scope.alerts) {
    if (t > st.alerted && st.spent >= t * scope.limitUsd - USD_EPSILON) {
      crossed.push({ scope, threshold: t, spentUsd: st.spent, periodStart: st.periodStart });
      if (t > highest) highest = t;
    }
  }
  st.alerted = highest;
}
