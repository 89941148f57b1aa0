/**
 * RateLimiter on Redis: the sliding log of memory-limiter.ts (see its proof of exactness) in
 * one Lua script per call, so quotas are exact across every replica sharing the Redis.
 *
 * One round trip per request: the script checks and books every rule atomically (all or
 * nothing) and returns the wait; a request that must wait has its slot booked already and
 * sleeps client-side (bounded by max_wait and the abort signal), then proceeds without asking
 * again. An abandoned wait costs a second round trip to give its slot back.
 *
 * Time: Redis's clock (TIME) by default, so replicas with skewed clocks still share one
 * timeline; `now` overrides it (tests, simulation).
 */
import type { Redis } from 'ioredis';
import { RATE_WINDOW_MS as W, type RateLimitDecision, type RateLimitRule, type RateLimiter } from '../../ratelimit/limiter.js';
import { LUA_ADJUST, LUA_CONSUME, LUA_UNBOOK } from './lua-rate.js';
import { ScriptRunner, script, taggedPrefix } from './scripts.js';

const CONSUME = script(LUA_CONSUME);
const UNBOOK = script(LUA_UNBOOK);
const ADJUST = script(LUA_ADJUST);

export interface RedisRateLimiterOptions {
  redis: Redis;
  /** Key prefix (a hash tag is added when missing). Default 'omega'. */
  prefix?: string;
  /** Clock in epoch ms; default: Redis's own clock. */
  now?: () => number;
}

/** Keys and ARGV of the rules that have a limit: three keys and (rpm, tpm) per rule. */
export function ruleArgs(prefix: string, rules: RateLimitRule[]): { keys: string[]; limits: number[] } {
  const keys: string[] = [];
  const limits: number[] = [];
  for (const r of rules) {
    const base = `${prefix}:rl:${r.key}`;
    keys.push(`${base}:r`, `${base}:t`, `${base}:s`);
    limits.push(r.rpm ?? 0, r.tpm ?? 0);
  }
  return { keys, limits };
}

/** The decision's header figures from the per-rule figures a script returns (count, newest, sum, newest per rule). */
export function describeFigures(rules: RateLimitRule[], figures: unknown[], offset: number, now: number, d: RateLimitDecision): RateLimitDecision {
  let minReq = Number.POSITIVE_INFINITY;
  let minTok = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    const f = offset + 4 * i;
    if (r.rpm) {
      const count = Number(figures[f]);
      const left = Math.max(0, r.rpm - count);
      if (left < minReq) {
        minReq = left;
        d.limitRequests = r.rpm;
        d.remainingRequests = left;
        d.resetRequestsMs = figures[f + 1] === '' ? 0 : Math.max(0, Math.ceil(Number(figures[f + 1]) + W - now));
      }
    }
    if (r.tpm) {
      const left = Math.max(0, Math.floor(r.tpm - Number(figures[f + 2]) + 1e-6));
      if (left < minTok) {
        minTok = left;
        d.limitTokens = r.tpm;
        d.remainingTokens = left;
        d.resetTokensMs = figures[f + 3] === '' ? 0 : Math.max(0, Math.ceil(Number(figures[f + 3]) + W - now));
      }
    }
  }
  return d;
}

export const activeRules = (rules: RateLimitRule[]): RateLimitRule[] => (rules.every((r) => r.rpm || r.tpm) ? rules : rules.filter((r) => r.rpm || r.tpm));

/**
 * @example
 * const limiter = new RedisRateLimiter({ redis: new Redis(url) });
 * const d = await limiter.consume([{ key: 'tenant:acme', rpm: 600 }], 1200, 2000, req.signal);
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly runner: ScriptRunner;
  private readonly prefix: string;
  private readonly now: (() => number) | undefined;

  constructor(options: RedisRateLimiterOptions) {
    this.runner = new ScriptRunner(options.redis);
    this.prefix = taggedPrefix(options.prefix ?? 'omega');
    this.now = options.now;
  }

  /** Redis round trips so far (benchmark: divide by requests). */
  get roundTrips(): number {
    return this.runner.roundTrips;
  }

  async consume(rules: RateLimitRule[], tokens: number, maxWaitMs: number, signal?: AbortSignal): Promise<RateLimitDecision> {
    const active = activeRules(rules);
    if (active.length === 0) return { allowed: true, waitedMs: 0, retryAfterMs: 0 };
    if (signal?.aborted) return { allowed: false, waitedMs: 0, retryAfterMs: 0, reason: 'aborted' };
    const cost = tokens > 0 ? tokens : 0;
    const { keys, limits } = ruleArgs(this.prefix, active);
    const res = (await this.runner.run(CONSUME, keys, [this.now ? this.now() : '', cost, maxWaitMs, active.length, ...limits])) as unknown[];
    const booked = res[0] === 1;
    const now = Number(res[1]);
    const atText = res[2] as string;
    const wait = Number(atText) - now;
    const rule = Number(res[3]) > 0 ? active[Number(res[3]) - 1] : undefined;
    if (!booked) {
      const d = describeFigures(active, res, 4, now, { allowed: false, waitedMs: 0, retryAfterMs: Math.ceil(wait), rule, reason: 'rate_limited' });
      return d;
    }
    const d = describeFigures(active, res, 4, now, { allowed: true, waitedMs: 0, retryAfterMs: 0 });
    if (wait <= 0) return d;
    return this.sleep(wait, signal, d, rule, () => this.unbook(active, atText, cost));
  }

  async adjust(rules: RateLimitRule[], tokenDelta: number): Promise<void> {
    if (tokenDelta === 0 || !Number.isFinite(tokenDelta)) return;
    const withTokens = rules.filter((r) => r.tpm);
    if (withTokens.length === 0) return;
    const { keys, limits } = ruleArgs(this.prefix, withTokens);
    await this.runner.run(ADJUST, keys, [this.now ? this.now() : '', tokenDelta, withTokens.length, ...limits]);
  }

  private async unbook(active: RateLimitRule[], at: string, cost: number): Promise<void> {
    const { keys, limits } = ruleArgs(this.prefix, active);
    await this.runner.run(UNBOOK, keys, [at, cost, active.length, ...limits]);
  }

  /** Waits out a booked slot; on abort gives the slot back and refuses. */
  private sleep(wait: number, signal: AbortSignal | undefined, admitted: RateLimitDecision, rule: RateLimitRule | undefined, unbook: () => Promise<void>): Promise<RateLimitDecision> {
    return sleepForSlot(wait, signal, admitted, rule, unbook);
  }
}

/** Sleeps `wait` ms (the booked slot), or resolves refused ('aborted') after giving the slot back. */
export function sleepForSlot(wait: number, signal: AbortSignal | undefined, admitted: RateLimitDecision, rule: RateLimitRule | undefined, unbook: () => Promise<void>): Promise<RateLimitDecision> {
  const start = performance.now();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      const waited = performance.now() - start;
      const refused: RateLimitDecision = { ...admitted, allowed: false, waitedMs: waited, retryAfterMs: Math.max(0, Math.ceil(wait - waited)), rule, reason: 'aborted' };
      unbook().then(
        () => resolve(refused),
        () => resolve(refused), // the booking then simply ages out of the window
      );
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ ...admitted, waitedMs: performance.now() - start });
    }, Math.ceil(wait));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
