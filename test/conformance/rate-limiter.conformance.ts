/**
 * Conformance suite for RateLimiter implementations: exact per-minute quotas (at most N in any
 * rolling 60 s window), smoothing by waiting for the window up to max_wait, all-or-nothing over
 * rules, token quotas with corrections, abandoned waits, and two replicas sharing one quota.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RATE_WINDOW_MS as W, type RateLimiter, type RateLimitRule } from '../../src/ratelimit/limiter.js';
import { TestClock } from './redis-harness.js';

export interface RateLimiterFixture {
  /** Two handles on one shared state: two replicas (memory: the same instance twice). */
  replicas: [RateLimiter, RateLimiter];
  close(): Promise<void>;
}

export type RateLimiterFactory = (now: () => number) => Promise<RateLimiterFixture>;

const uid = (): string => randomBytes(4).toString('hex');

export function rateLimiterConformance(name: string, factory: RateLimiterFactory): void {
  describe(`RateLimiter conformance: ${name}`, () => {
    const open: RateLimiterFixture[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((f) => f.close()));
    });
    /**
     * `frozen`: every call reads the same instant. Two replicas reading a running test clock
     * concurrently can reach Redis in the other order (a call stamped 1 ms later booked first
     * makes the earlier one wait 1 ms, refused at max wait 0); in production the time is Redis's
     * own TIME, read in arrival order, so that cannot happen.
     */
    async function setup(frozen = false): Promise<{ clock: TestClock; a: RateLimiter; b: RateLimiter }> {
      const clock = new TestClock(Date.parse('2026-03-10T12:00:00Z'));
      const instant = clock.now();
      const f = await factory(frozen ? () => instant : clock.now);
      open.push(f);
      return { clock, a: f.replicas[0], b: f.replicas[1] };
    }

    it('admits a burst of N at once, then nothing until the first request leaves the window', async () => {
      const { clock, a } = await setup();
      const rule: RateLimitRule = { key: `key:${uid()}`, rpm: 10 };
      const ds = [];
      for (let i = 0; i < 10; i++) ds.push(await a.consume([rule], 0, 0));
      expect(ds.every((d) => d.allowed && d.waitedMs === 0)).toBe(true);
      expect(ds.map((d) => d.remainingRequests)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      const over = await a.consume([rule], 0, 900);
      expect(over).toMatchObject({ allowed: false, reason: 'rate_limited', rule, remainingRequests: 0, limitRequests: 10 });
      expect(over.retryAfterMs).toBeGreaterThan(W - 1000);
      expect(over.retryAfterMs).toBeLessThanOrEqual(W);
      clock.advance(W);
      expect((await a.consume([rule], 0, 0)).allowed).toBe(true);
    });

    it('never admits more than N in any rolling 60 s window (random arrivals, simulated time)', async () => {
      const { clock, a } = await setup();
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 40_000 })), { minLength: 1, maxLength: 40 }),
          async (rpm, gaps) => {
            const rule = { key: `key:${uid()}`, rpm };
            const admitted: number[] = [];
            for (const gap of gaps) {
              clock.advance(gap);
              if ((await a.consume([rule], 0, 0)).allowed) admitted.push(clock.now());
            }
            for (let i = 0; i < admitted.length; i++) {
              const inWindow = admitted.filter((t) => t > admitted[i] - W && t <= admitted[i]).length;
              expect(inWindow).toBeLessThanOrEqual(rpm);
            }
          },
        ),
        { seed: 4242, numRuns: 25 },
      );
    });

    it('smooths: a request waits for the window when that is within max_wait, else is refused at once', async () => {
      const { clock, a } = await setup();
      const rule = { key: `key:${uid()}`, rpm: 5 };
      const filled = performance.now();
      expect((await Promise.all(Array.from({ length: 5 }, () => a.consume([rule], 0, 0)))).every((d) => d.allowed)).toBe(true);
      clock.advance(W - 300); // the window slides 300 ms after the fill
      const refused = await a.consume([rule], 0, 10);
      expect(refused).toMatchObject({ allowed: false, waitedMs: 0, reason: 'rate_limited' });
      expect(refused.retryAfterMs).toBeGreaterThan(300 - (performance.now() - filled) - 5);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(300);
      const t0 = performance.now();
      const waited = await a.consume([rule], 0, 1000);
      const elapsed = performance.now() - t0;
      expect(waited.allowed).toBe(true);
      expect(waited.waitedMs).toBeGreaterThan(150);
      expect(elapsed).toBeGreaterThanOrEqual(waited.waitedMs - 5);
      expect(elapsed).toBeLessThan(1000);
    });

    it('takes every rule or none', async () => {
      const { a } = await setup();
      const key = { key: `key:${uid()}`, rpm: 2 };
      const tenant = { key: `tenant:${uid()}`, rpm: 3 };
      expect((await a.consume([key, tenant], 0, 0)).allowed).toBe(true);
      expect((await a.consume([key, tenant], 0, 0)).allowed).toBe(true);
      const refused = await a.consume([key, tenant], 0, 0);
      expect(refused.rule).toEqual(key);
      // the refusal on `key` did not take the tenant's last slot
      expect(await a.consume([{ key: `key:${uid()}`, rpm: 5 }, tenant], 0, 0)).toMatchObject({ allowed: true, limitRequests: 3, remainingRequests: 0 });
      expect((await a.consume([tenant], 0, 0)).rule).toEqual(tenant);
      expect(await a.consume([{ key: `key:${uid()}` }], 100, 0)).toMatchObject({ allowed: true }); // a rule without limits is ignored
    });

    it('enforces tokens per minute; adjust refunds and charges', async () => {
      const { a } = await setup();
      const rule = { key: `tenant-model:${uid()}`, tpm: 1000 };
      const first = await a.consume([rule], 600, 0);
      expect(first).toMatchObject({ allowed: true, limitTokens: 1000, remainingTokens: 400 });
      const second = await a.consume([rule], 600, 0);
      expect(second).toMatchObject({ allowed: false, remainingTokens: 400, rule });
      expect(second.retryAfterMs).toBeGreaterThan(W - 1000);
      await a.adjust([rule], -500); // the first used 100
      expect(await a.consume([rule], 600, 0)).toMatchObject({ allowed: true, remainingTokens: 300 });
      await a.adjust([rule], 300); // the second used 300 more than estimated
      expect(await a.consume([rule], 1, 0)).toMatchObject({ allowed: false, remainingTokens: 0 });
    });

    it('gives the slot of an abandoned wait back', async () => {
      const { clock, a } = await setup();
      const rule = { key: `key:${uid()}`, rpm: 2, tpm: 1000 };
      expect((await a.consume([rule], 10, 0)).allowed).toBe(true);
      clock.advance(1000);
      expect((await a.consume([rule], 10, 0)).allowed).toBe(true);
      clock.advance(W - 1000 - 400); // the first leaves the window in 400 ms, the second 1 s later
      const ac = new AbortController();
      const waiting = a.consume([rule], 10, 2000, ac.signal);
      setTimeout(() => ac.abort(), 50);
      const d = await waiting;
      expect(d).toMatchObject({ allowed: false, reason: 'aborted' });
      expect(d.waitedMs).toBeGreaterThanOrEqual(40);
      // Had the abandoned booking been kept, the next slot would be ~1.35 s away, beyond 800 ms.
      const next = await a.consume([rule], 10, 800);
      expect(next.allowed).toBe(true);
      expect(next.waitedMs).toBeLessThan(400);
    });

    it('two replicas sharing a 60/min quota admit exactly 60 of 300 concurrent requests', async () => {
      const { a, b } = await setup(true);
      const rules = [{ key: `key:${uid()}`, rpm: 60 }, { key: `tenant:${uid()}`, rpm: 1000, tpm: 1_000_000 }];
      const ds = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).consume(rules, 100, 0)));
      expect(ds.filter((d) => d.allowed)).toHaveLength(60);
      expect(ds.filter((d) => !d.allowed).every((d) => d.rule?.key === rules[0].key && d.retryAfterMs > W - 5_000)).toBe(true);
    });
  });
}
