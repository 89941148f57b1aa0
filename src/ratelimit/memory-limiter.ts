/**
 * In-process RateLimiter using GCRA (the generic cell rate algorithm: a token bucket stored as
 * one "theoretical arrival time" per limit). Why GCRA rather than sliding-window counters:
 * - exact and O(1): one number per (key, kind), no window-boundary double bursts, no
 *   approximation of the previous window;
 * - it says exactly when capacity returns, which is what smoothing needs: a request that does
 *   not fit now *books* its future slot (TAT moves forward) and sleeps until then — FIFO by
 *   arrival with no queue, no polling, and a correct retry-after for the ones refused;
 * - an idle bucket (TAT <= now) equals a fresh one, so evicting it loses nothing.
 *
 * Burst: a rested quota admits a full minute's worth at once (tolerance = 60 s); after that,
 * requests are spaced at limit/minute. A request with more tokens than `tpm` is admitted when
 * the bucket is full and leaves it in debt (later requests wait), rather than refused forever.
 */
import { RATE_WINDOW_MS as W, type RateLimitDecision, type RateLimitRule, type RateLimiter } from './limiter.js';

/** Waits below this are float noise from summing non-integer intervals, not real waits. */
const EPS_MS = 1e-6;

interface Bucket {
  /** Time at which the request quota is fully rested again. */
  reqTat: number;
  tokTat: number;
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
      let b = this.buckets.get(rule.key);
      if (!b) {
        b = { reqTat: now, tokTat: now };
        this.buckets.set(rule.key, b);
      }
      scratch[i] = b;
      if (rule.rpm) {
        const at = Math.max(b.reqTat, now) + W / rule.rpm - W;
        if (at > admitAt) {
          admitAt = at;
          binding = rule;
        }
      }
      if (rule.tpm && cost > 0) {
        const c = (cost * W) / rule.tpm;
        const at = Math.max(b.tokTat, now) + (c < W ? c : W) - W; // oversized: wait for a full bucket only
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

    // Pass 2: take from every rule (booking the future slot when waiting).
    for (let i = 0; i < n; i++) {
      const b = scratch[i];
      if (!b) continue;
      const rule = rules[i];
      if (rule.rpm) b.reqTat = Math.max(b.reqTat, now) + W / rule.rpm;
      if (rule.tpm && cost > 0) b.tokTat = Math.max(b.tokTat, now) + (cost * W) / rule.tpm;
    }
    if (wait === 0) return Promise.resolve(this.describe(rules, now, true, 0, 0, undefined));
    return this.sleep(rules, cost, now, wait, binding, signal);
  }

  adjust(rules: RateLimitRule[], tokenDelta: number): Promise<void> {
    if (tokenDelta === 0 || !Number.isFinite(tokenDelta)) return Promise.resolve();
    const now = this.now();
    for (const rule of rules) {
      if (!rule.tpm) continue;
      let b = this.buckets.get(rule.key);
      if (tokenDelta > 0) {
        if (!b) this.buckets.set(rule.key, (b = { reqTat: now, tokTat: now }));
        b.tokTat = Math.max(b.tokTat, now) + (tokenDelta * W) / rule.tpm;
      } else if (b) {
        b.tokTat = Math.max(now, b.tokTat + (tokenDelta * W) / rule.tpm); // a bucket never holds more than full
      }
    }
    return Promise.resolve();
  }

  private sleep(rules: RateLimitRule[], cost: number, start: number, wait: number, binding: RateLimitRule | undefined, signal: AbortSignal | undefined): Promise<RateLimitDecision> {
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        this.unbook(rules, cost);
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
  private unbook(rules: RateLimitRule[], cost: number): void {
    for (const rule of rules) {
      const b = this.buckets.get(rule.key); // still there: a booked bucket is not idle
      if (!b) continue;
      if (rule.rpm) b.reqTat -= W / rule.rpm;
      if (rule.tpm && cost > 0) b.tokTat -= (cost * W) / rule.tpm;
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
        const tat = b && b.reqTat > now ? b.reqTat : now;
        const left = Math.max(0, Math.floor(((now + W - tat) * r.rpm) / W + EPS_MS));
        if (left < minReq) {
          minReq = left;
          d.limitRequests = r.rpm;
          d.remainingRequests = left;
          d.resetRequestsMs = Math.ceil(tat - now);
        }
      }
      if (r.tpm) {
        const tat = b && b.tokTat > now ? b.tokTat : now;
        const left = Math.max(0, Math.floor(((now + W - tat) * r.tpm) / W + EPS_MS));
        if (left < minTok) {
          minTok = left;
          d.limitTokens = r.tpm;
          d.remainingTokens = left;
          d.resetTokensMs = Math.ceil(tat - now);
        }
      }
    }
    return d;
  }

  /** Drops rested buckets: they are indistinguishable from absent ones. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, b] of this.buckets) if (b.reqTat <= now && b.tokTat <= now) this.buckets.delete(key);
  }
}
