/**
 * In-process RateLimiter: a sliding log per (key, kind) — the admission times of the last
 * minute (and the tokens each took). Why a log rather than GCRA or a token bucket: a bucket
 * that allows a burst of N refills while the burst is still in the window, so it admits N+1
 * (GCRA with burst N: up to 2N-1) in some 60-second window. The promise is "at most N in any
 * rolling 60 s window", and the log is the algorithm that keeps it while still admitting a
 * full burst of N at once.
 *
 * Rule, per quota: a request is booked at the earliest time s >= now, and >= the newest entry
 * (so the log stays in time order), at which the entries in (s - 60 s, s] plus this one fit
 * the quota. If s > now the request waits until s (smoothing: it waits for the window, up to
 * max_wait); the booking holds its place, so waiters are served in arrival order.
 *
 * Proof of exactness (requests; tokens alike with sums): take any window (x, x + 60 s] and the
 * entries e1 <= ... <= ek in it. ek was booked after e1..ek-1 (bookings are in time order), and
 * they all lie in (ek - 60 s, ek], which held fewer than N entries when ek was booked; so
 * k - 1 < N, k <= N. Removing a booking (an aborted wait) only lowers counts. The property test
 * (memory-limiter.property.test.ts) checks it on random arrivals in simulated time.
 *
 * A request with more tokens than `tpm` is admitted once the window is empty and then fills it
 * alone (later requests wait for it to leave the window), rather than being refused forever.
 * Token refunds (`adjust` < 0) shrink the newest entries: the log does not know which entry
 * was the request's, so the bound holds for tokens taken, not for tokens refunded early.
 */
import { RATE_WINDOW_MS as W, type RateLimitDecision, type RateLimitRule, type RateLimiter } from './limiter.js';
import { SlidingLog } from './sliding-log.js';

/** Waits below this are float noise from summing non-integer intervals, not real waits. */
const EPS_MS = 1e-6;

interface Bucket {
  req: SlidingLog;
  tok: SlidingLog;
}

const newBucket = (): Bucket => ({ req: new SlidingLog(), tok: new SlidingLog() });

/** Earliest time >= `from` at which one more request fits `rpm` given the log (pruned to the window). */
export function requestSlot(log: SlidingLog, rpm: number, from: number): number {
  let at = from > log.last ? from : log.last;
  const n = log.length;
  if (n >= rpm) {
    const t = log.time(n - rpm) + W; // the entry that must leave the window first
    if (t > at) at = t;
  }
  return at;
}

/** Earliest time >= `from` at which `cost` more tokens fit `tpm` (an oversized cost: when the window is empty). */
export function tokenSlot(log: SlidingLog, tpm: number, cost: number, from: number): number {
  let at = from > log.last ? from : log.last;
  let sum = log.sum;
  const n = log.length;
  for (let j = 0; j < n; j++) {
    const t = log.time(j);
    if (t > at - W && sum + cost <= tpm) break;
    sum -= log.amount(j);
    if (t + W > at) at = t + W;
  }
  return at;
}

export interface MemoryRateLimiterOptions {
  /** Monotonic ms clock; default performance.now (wall-clock steps must not grant or eat quota). */
  now?: () => number;
  /** How often idle buckets are evicted (lazily on consume and by an unref'd timer); 0 disables the timer. */
  sweepIntervalMs?: number;
}

/**
 * @example
 * const limiter = new MemoryRateLimiter();
 * const d = await limiter.consume([{ key: 'tenant:acme', rpm: 600, tpm: 200_000 }], 1200, 2000, req.signal);
 * if (!d.allowed) throw rateLimited(d.retryAfterMs);
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweepEvery: number;
  private lastSweep: number;
  private readonly timer: NodeJS.Timeout | undefined;
  /** Buckets of the rules of the call in progress (consume's two passes are synchronous). */
  private readonly scratch: (Bucket | undefined)[] = [];

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    const every = options.sweepIntervalMs ?? W;
    this.sweepEvery = every > 0 ? every : W;
    this.lastSweep = this.now();
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(this.now()), every);
      this.timer.unref();
    }
  }

  /** Stops the background sweep (tests, shutdown). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Number of keys with state (idle ones are evicted). */
  get size(): number {
    return this.buckets.size;
  }

  consume(rules: RateLimitRule[], tokens: number, maxWaitMs: number, signal?: AbortSignal): Promise<RateLimitDecision> {
    const now = this.now();
    if (now - this.lastSweep >= this.sweepEvery) this.sweep(now);
    const cost = tokens > 0 ? tokens : 0;
    const n = rules.length;
    const scratch = this.scratch;
    let admitAt = now;
    let binding: RateLimitRule | undefined;

    // Pass 1: when could every rule admit this request?
    for (let i = 0; i < n; i++) {
      const rule = rules[i];
      if (!rule.rpm && !rule.tpm) {
        scratch[i] = undefined;
        continue;
      }
      const b = this.bucket(rule.key, now);
      scratch[i] = b;
      if (rule.rpm) {
        const at = requestSlot(b.req, rule.rpm, now);
        if (at > admitAt) {
          admitAt = at;
          binding = rule;
        }
      }
      if (rule.tpm && cost > 0) {
        const at = tokenSlot(b.tok, rule.tpm, cost, now);
        if (at > admitAt) {
          admitAt = at;
          binding = rule;
        }
      }
    }
    const wait = admitAt - now > EPS_MS ? admitAt - now : 0;
    if (wait > maxWaitMs || signal?.aborted) {
      const d = this.describe(rules, now, false, 0, Math.ceil(wait), binding);
      d.reason = signal?.aborted ? 'aborted' : 'rate_limited';
      return Promise.resolve(d);
    }

    // Pass 2: book the slot on every rule (all at the same time, so every log stays in order).
    const at = wait === 0 ? now : admitAt;
    for (let i = 0; i < n; i++) {
      const b = scratch[i];
      if (!b) continue;
      const rule = rules[i];
      if (rule.rpm) b.req.push(at, 1);
      if (rule.tpm && cost > 0) b.tok.push(at, cost);
    }
    if (wait === 0) return Promise.resolve(this.describe(rules, now, true, 0, 0, undefined));
    return this.sleep(rules, cost, now, at, binding, signal);
  }

  adjust(rules: RateLimitRule[], tokenDelta: number): Promise<void> {
    if (tokenDelta === 0 || !Number.isFinite(tokenDelta)) return Promise.resolve();
    const now = this.now();
    for (const rule of rules) {
      if (!rule.tpm) continue;
      if (tokenDelta > 0) {
        const b = this.bucket(rule.key, now);
        b.tok.push(now > b.tok.last ? now : b.tok.last, tokenDelta);
      } else {
        const b = this.buckets.get(rule.key);
        if (!b) continue;
        b.tok.prune(now - W);
        b.tok.refund(-tokenDelta);
      }
    }
    return Promise.resolve();
  }

  /** The key's logs pruned to the window ending at `now`. */
  private bucket(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = newBucket();
      this.buckets.set(key, b);
    } else {
      b.req.prune(now - W);
      b.tok.prune(now - W);
    }
    return b;
  }

  private sleep(rules: RateLimitRule[], cost: number, start: number, at: number, binding: RateLimitRule | undefined, signal: AbortSignal | undefined): Promise<RateLimitDecision> {
    const wait = at - start;
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        this.unbook(rules, cost, at);
        const now = this.now();
        const d = this.describe(rules, now, false, now - start, Math.max(0, Math.ceil(start + wait - now)), binding);
        d.reason = 'aborted';
        resolve(d);
      };
      const fire = (): void => {
        const now = this.now();
        // Timers run on the event loop's cached clock and may fire a little early: never admit before the slot.
        if (now < start + wait - EPS_MS) {
          timer = setTimeout(fire, Math.ceil(start + wait - now));
          return;
        }
        signal?.removeEventListener('abort', onAbort);
        resolve(this.describe(rules, now, true, now - start, 0, undefined));
      };
      let timer = setTimeout(fire, Math.ceil(wait));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Gives back a booked slot on every rule: an aborted wait takes nothing. */
  private unbook(rules: RateLimitRule[], cost: number, at: number): void {
    for (const rule of rules) {
      const b = this.buckets.get(rule.key); // still there: a booked bucket is not idle
      if (!b) continue;
      if (rule.rpm) b.req.remove(at, 1);
      if (rule.tpm && cost > 0) b.tok.remove(at, cost);
    }
  }

  /** Builds the decision with the header figures of the tightest rule of each kind. */
  private describe(rules: RateLimitRule[], now: number, allowed: boolean, waitedMs: number, retryAfterMs: number, rule: RateLimitRule | undefined): RateLimitDecision {
    const d: RateLimitDecision = { allowed, waitedMs, retryAfterMs, rule };
    let minReq = Number.POSITIVE_INFINITY;
    let minTok = Number.POSITIVE_INFINITY;
    for (const r of rules) {
      const b = this.buckets.get(r.key);
      if (r.rpm) {
        const left = Math.max(0, r.rpm - (b ? b.req.length : 0));
        if (left < minReq) {
          minReq = left;
          d.limitRequests = r.rpm;
          d.remainingRequests = left;
          d.resetRequestsMs = b && b.req.length > 0 ? Math.max(0, Math.ceil(b.req.last + W - now)) : 0;
        }
      }
      if (r.tpm) {
        const left = Math.max(0, Math.floor(r.tpm - (b ? b.tok.sum : 0) + EPS_MS));
        if (left < minTok) {
          minTok = left;
          d.limitTokens = r.tpm;
          d.remainingTokens = left;
          d.resetTokensMs = b && b.tok.length > 0 ? Math.max(0, Math.ceil(b.tok.last + W - now)) : 0;
        }
      }
    }
    return d;
  }

  /** Drops buckets whose logs left the window: they are indistinguishable from absent ones. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (b.req.last <= now - W && b.tok.last <= now - W) this.buckets.delete(key);
  }
}
