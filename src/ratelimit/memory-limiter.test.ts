import { describe, it, expect, vi, afterEach } from 'vitest';
import { MemoryRateLimiter } from './memory-limiter.js';
import type { RateLimitDecision, RateLimitRule } from './limiter.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A limiter on vitest's fake clock: waits complete by advancing timers. */
function fake(): MemoryRateLimiter {
  vi.useFakeTimers({ now: Date.parse('2025-05-01T00:00:00Z') });
  return new MemoryRateLimiter({ now: () => Date.now(), sweepIntervalMs: 0 });
}

describe('MemoryRateLimiter', () => {
  it('serves a burst within the limit at once', async () => {
    const limiter = fake();
    const rule: RateLimitRule = { key: 'key:k1', rpm: 60 };
    const ds = await Promise.all(Array.from({ length: 60 }, () => limiter.consume([rule], 0, 0)));
    expect(ds.every((d) => d.allowed && d.waitedMs === 0 && d.retryAfterMs === 0)).toBe(true);
    expect(ds.map((d) => d.remainingRequests)).toEqual(Array.from({ length: 60 }, (_, i) => 59 - i));
    expect(ds[59]).toMatchObject({ limitRequests: 60, remainingRequests: 0, resetRequestsMs: 60_000 });
    const over = await limiter.consume([rule], 0, 0);
    expect(over).toMatchObject({ allowed: false, retryAfterMs: 1000, rule, reason: 'rate_limited', remainingRequests: 0 });
  });

  it('smooths a burst slightly over the limit within the wait bound, in arrival order (fake clock)', async () => {
    const limiter = fake();
    const rule = { key: 'tenant:acme', rpm: 60 };
    const order: number[] = [];
    const pending = Array.from({ length: 65 }, (_, i) =>
      limiter.consume([rule], 0, 10_000).then((d) => {
        order.push(i);
        return d;
      }),
    );
    await vi.advanceTimersByTimeAsync(5_000);
    const ds = await Promise.all(pending);
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(ds.slice(60).map((d) => d.waitedMs)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(order).toEqual(Array.from({ length: 65 }, (_, i) => i));
  });

  it('smooths a real burst: measured waits stay within the bound', async () => {
    const limiter = new MemoryRateLimiter({ sweepIntervalMs: 0 });
    const rule = { key: 'tenant:real', rpm: 600 }; // one slot per 100 ms after the burst
    const t0 = performance.now();
    const admitted: number[] = [];
    const ds = await Promise.all(
      Array.from({ length: 605 }, (_, i) =>
        limiter.consume([rule], 0, 1000).then((d) => {
          admitted[i] = performance.now() - t0;
          return d;
        }),
      ),
    );
    const elapsed = performance.now() - t0;
    expect(ds.every((d) => d.allowed)).toBe(true);
    const waits = ds.slice(600).map((d) => Math.round(d.waitedMs));
    console.log(`burst 605 @ 600 rpm: extra waits ${waits.join(', ')} ms, total ${elapsed.toFixed(0)} ms`);
    for (let i = 0; i < 5; i++) {
      expect(admitted[600 + i]).toBeGreaterThanOrEqual((i + 1) * 100); // never before its slot
      expect(waits[i]).toBeLessThan((i + 1) * 100 + 150);
    }
    expect(ds.slice(0, 600).every((d) => d.waitedMs === 0)).toBe(true);
    limiter.close();
  });

  it('refuses sustained overload with a correct retryAfterMs', async () => {
    const limiter = fake();
    const rule = { key: 'key:k2', rpm: 60 };
    const pending: Promise<RateLimitDecision>[] = [];
    for (let i = 0; i < 62; i++) pending.push(limiter.consume([rule], 0, 2000)); // 60 now + 2 booked
    const refused = await limiter.consume([rule], 0, 2000);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 3000, rule, waitedMs: 0 });
    await vi.advanceTimersByTimeAsync(2999);
    expect((await limiter.consume([rule], 0, 0)).allowed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await limiter.consume([rule], 0, 0)).allowed).toBe(true); // exactly when announced
    expect((await Promise.all(pending)).every((d) => d.allowed)).toBe(true);
    // the steady rate is the limit: one per second
    let served = 0;
    for (let s = 0; s < 30; s++) {
      await vi.advanceTimersByTimeAsync(500);
      for (let k = 0; k < 5; k++) if ((await limiter.consume([rule], 0, 0)).allowed) served++;
    }
    expect(served).toBe(15);
  });

  it('keeps independent keys apart and takes all rules or none', async () => {
    const limiter = fake();
    const a = { key: 'key:a', rpm: 2 };
    const b = { key: 'key:b', rpm: 2 };
    const tenant = { key: 'tenant:t', rpm: 3 };
    expect((await limiter.consume([a, tenant], 0, 0)).allowed).toBe(true);
    expect((await limiter.consume([a, tenant], 0, 0)).allowed).toBe(true);
    expect((await limiter.consume([a], 0, 0)).allowed).toBe(false);
    expect((await limiter.consume([b], 0, 0)).allowed).toBe(true); // b untouched by a
    // key c would fit, the tenant has 1 left; a refused on `a` must not take the tenant's last slot
    const refused = await limiter.consume([a, tenant], 0, 0);
    expect(refused.rule).toBe(a);
    const d = await limiter.consume([{ key: 'key:c', rpm: 5 }, tenant], 0, 0);
    expect(d).toMatchObject({ allowed: true, limitRequests: 3, remainingRequests: 0 }); // tightest rule reported
    expect((await limiter.consume([tenant], 0, 0)).rule).toBe(tenant);
  });

  it('enforces tokens per minute and reports token headers', async () => {
    const limiter = fake();
    const rule = { key: 'tenant-model:acme/gpt-5.4', tpm: 1000 };
    const first = await limiter.consume([rule], 600, 0);
    expect(first).toMatchObject({ allowed: true, limitTokens: 1000, remainingTokens: 400, resetTokensMs: 36_000 });
    const second = await limiter.consume([rule], 600, 0);
    expect(second).toMatchObject({ allowed: false, retryAfterMs: 12_000, remainingTokens: 400 }); // 200 tokens x 60 ms
    const small = await limiter.consume([rule], 400, 0);
    expect(small).toMatchObject({ allowed: true, remainingTokens: 0 });
  });

  it('adjust() returns unused tokens and charges extra ones', async () => {
    const limiter = fake();
    const rule = { key: 'tenant:acme', tpm: 1000 };
    await limiter.consume([rule], 900, 0);
    expect((await limiter.consume([rule], 800, 0)).allowed).toBe(false);
    await limiter.adjust([rule], -800); // actual was 100
    expect((await limiter.consume([rule], 800, 0)).allowed).toBe(true);
    await limiter.adjust([rule], -5000); // never more than a full bucket
    expect((await limiter.consume([rule], 1000, 0)).remainingTokens).toBe(0);
    await limiter.adjust([rule], 500); // actual was more: debt
    expect((await limiter.consume([rule], 1, 0)).retryAfterMs).toBe(Math.ceil(501 * 60));
  });

  it('admits a request larger than tpm when the bucket is full, leaving it in debt', async () => {
    const limiter = fake();
    const rule = { key: 'key:big', tpm: 1000 };
    expect((await limiter.consume([rule], 2500, 0)).allowed).toBe(true);
    expect((await limiter.consume([rule], 1, 0)).retryAfterMs).toBe(Math.ceil(1501 * 60));
    // another oversized one waits only for a full bucket (150 s), not forever
    expect(await limiter.consume([rule], 2500, 100_000)).toMatchObject({ allowed: false, retryAfterMs: 150_000 });
    const later = limiter.consume([rule], 2500, 200_000);
    await vi.advanceTimersByTimeAsync(150_000);
    expect(await later).toMatchObject({ allowed: true, waitedMs: 150_000 });
  });

  it('an aborted wait takes nothing and is refused', async () => {
    const limiter = fake();
    const rule = { key: 'key:k3', rpm: 60, tpm: 60_000 };
    for (let i = 0; i < 60; i++) await limiter.consume([rule], 10, 0);
    const ac = new AbortController();
    const waiting = limiter.consume([rule], 10, 5000, ac.signal);
    await vi.advanceTimersByTimeAsync(300);
    ac.abort();
    const d = await waiting;
    expect(d).toMatchObject({ allowed: false, reason: 'aborted', waitedMs: 300, retryAfterMs: 700 });
    // its slot went back: the next request gets the slot at +1000 ms, not +2000 ms
    const next = limiter.consume([rule], 10, 5000);
    await vi.advanceTimersByTimeAsync(700);
    expect(await next).toMatchObject({ allowed: true, waitedMs: 700 });
    const pre = new AbortController();
    pre.abort();
    expect(await limiter.consume([{ key: 'key:fresh', rpm: 5 }], 0, 1000, pre.signal)).toMatchObject({ allowed: false, reason: 'aborted' });
    expect((await limiter.consume([{ key: 'key:fresh', rpm: 5 }], 0, 0)).remainingRequests).toBe(4);
  });

  it('evicts idle keys (memory stays bounded)', async () => {
    const limiter = fake();
    for (let i = 0; i < 1000; i++) await limiter.consume([{ key: `key:${i}`, rpm: 100, tpm: 10_000 }], 50, 0);
    expect(limiter.size).toBe(1000);
    await vi.advanceTimersByTimeAsync(60_001);
    await limiter.consume([{ key: 'key:new', rpm: 1 }], 0, 0);
    expect(limiter.size).toBe(1);
  });

  it('ignores rules without limits and consumes in well under 0.05 ms', async () => {
    const limiter = new MemoryRateLimiter({ sweepIntervalMs: 0 });
    expect(await limiter.consume([{ key: 'key:none' }], 100, 0)).toMatchObject({ allowed: true });
    const rules = [
      { key: 'key:key_1', rpm: 1e9, tpm: 1e12 },
      { key: 'tenant:acme', rpm: 1e9, tpm: 1e12 },
      { key: 'tenant-model:acme/gpt-5.4', rpm: 1e9, tpm: 1e12 },
    ];
    const N = 100_000;
    for (let i = 0; i < 1000; i++) await limiter.consume(rules, 1200, 0);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await limiter.consume(rules, 1200, 0);
    const us = ((performance.now() - t0) / N) * 1000;
    const t1 = performance.now();
    for (let i = 0; i < N; i++) await limiter.adjust(rules, -200);
    const adjUs = ((performance.now() - t1) / N) * 1000;
    console.log(`MemoryRateLimiter, 3 rules (rpm+tpm): consume ${us.toFixed(2)} µs, adjust ${adjUs.toFixed(2)} µs (incl. await)`);
    expect(us).toBeLessThan(50);
    limiter.close();
  });
});
