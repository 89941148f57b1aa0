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
    // the window holds 60: the next slot is when the first of them leaves it
    expect(over).toMatchObject({ allowed: false, retryAfterMs: 60_000, rule, reason: 'rate_limited', remainingRequests: 0 });
  });

  it('admits at most N in the first second, even with waiting allowed (a burst bucket admitted N+1)', async () => {
    const limiter = fake();
    const rule: RateLimitRule = { key: 'key:exact', rpm: 60 };
    const admitted: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) {
      const d = await limiter.consume([rule], 0, 900);
      if (d.allowed) admitted.push(Date.now() - t0);
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(admitted.filter((t) => t < 1000)).toHaveLength(60);
  });

  it('smooths a burst over the limit by waiting for the window, in arrival order (fake clock)', async () => {
    const limiter = fake();
    const rule = { key: 'tenant:acme', rpm: 60 };
    for (let i = 0; i < 30; i++) expect((await limiter.consume([rule], 0, 0)).allowed).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    for (let i = 0; i < 30; i++) expect((await limiter.consume([rule], 0, 0)).allowed).toBe(true);
    await vi.advanceTimersByTimeAsync(55_000); // t = 56 s: the first 30 leave the window at 60 s, the next 30 at 61 s
    const order: number[] = [];
    const pending = Array.from({ length: 35 }, (_, i) =>
      limiter.consume([rule], 0, 10_000).then((d) => {
        order.push(i);
        return d;
      }),
    );
    await vi.advanceTimersByTimeAsync(5_000);
    const ds = await Promise.all(pending);
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(ds.map((d) => d.waitedMs)).toEqual([...Array(30).fill(4000), ...Array(5).fill(5000)]);
    expect(order).toEqual(Array.from({ length: 35 }, (_, i) => i));
  });

  it('smooths a real burst: measured waits stay within the bound', async () => {
    let offset = 0; // simulated past: the quota filled 59.5 s ago
    const limiter = new MemoryRateLimiter({ sweepIntervalMs: 0, now: () => performance.now() + offset });
    const rule = { key: 'tenant:real', rpm: 600 };
    for (let i = 0; i < 600; i++) {
      if (i >= 595) offset += 100; // 595 at T, then one at T+100 … T+500
      expect((await limiter.consume([rule], 0, 0)).allowed).toBe(true);
    }
    offset += 59_000; // now = T + 59.5 s: slots open at T+60 s (595 of them), then every 100 ms
    const t0 = performance.now();
    const admitted: number[] = [];
    const ds = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        limiter.consume([rule], 0, 1000).then((d) => {
          admitted[i] = performance.now() - t0;
          return d;
        }),
      ),
    );
    const elapsed = performance.now() - t0;
    expect(ds.every((d) => d.allowed)).toBe(true);
    const waits = ds.slice(594).map((d) => Math.round(d.waitedMs));
    console.log(`600 @ 600 rpm, window full: waits ${waits.join(', ')} ms, total ${elapsed.toFixed(0)} ms`);
    const expected = [500, 600, 700, 800, 900, 1000];
    for (let i = 0; i < 6; i++) {
      expect(admitted[594 + i]).toBeGreaterThanOrEqual(expected[i] - 2); // never before its slot
      expect(waits[i]).toBeLessThan(expected[i] + 150);
    }
    limiter.close();
  });

  it('refuses sustained overload with a correct retryAfterMs, and admits N per window at a steady pace', async () => {
    const limiter = fake();
    const rule = { key: 'key:k2', rpm: 60 };
    for (let i = 0; i < 60; i++) expect((await limiter.consume([rule], 0, 2000)).allowed).toBe(true);
    const refused = await limiter.consume([rule], 0, 2000);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 60_000, rule, waitedMs: 0 });
    await vi.advanceTimersByTimeAsync(59_999);
    expect((await limiter.consume([rule], 0, 0)).allowed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await limiter.consume([rule], 0, 0)).allowed).toBe(true); // exactly when announced
    // offered 10 per second for a minute: 59 more fit this window, then nothing until it slides
    let served = 0;
    for (let s = 0; s < 119; s++) {
      await vi.advanceTimersByTimeAsync(500);
      for (let k = 0; k < 5; k++) if ((await limiter.consume([rule], 0, 0)).allowed) served++;
    }
    expect(served).toBe(59);
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
    expect(first).toMatchObject({ allowed: true, limitTokens: 1000, remainingTokens: 400, resetTokensMs: 60_000 });
    const second = await limiter.consume([rule], 600, 0);
    expect(second).toMatchObject({ allowed: false, retryAfterMs: 60_000, remainingTokens: 400 }); // when the 600 leave the window
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
    expect((await limiter.consume([rule], 1, 0)).retryAfterMs).toBe(60_000);
  });

  it('admits a request larger than tpm when the window is empty, filling it alone', async () => {
    const limiter = fake();
    const rule = { key: 'key:big', tpm: 1000 };
    expect((await limiter.consume([rule], 2500, 0)).allowed).toBe(true);
    expect((await limiter.consume([rule], 1, 0)).retryAfterMs).toBe(60_000);
    // another oversized one waits only for an empty window, not forever
    expect(await limiter.consume([rule], 2500, 50_000)).toMatchObject({ allowed: false, retryAfterMs: 60_000 });
    const later = limiter.consume([rule], 2500, 200_000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await later).toMatchObject({ allowed: true, waitedMs: 60_000 });
  });

  it('an aborted wait takes nothing and is refused', async () => {
    const limiter = fake();
    const rule = { key: 'key:k3', rpm: 60, tpm: 60_000 };
    for (let i = 0; i < 60; i++) {
      expect((await limiter.consume([rule], 10, 0)).allowed).toBe(true); // one per second: t = 0 … 59 s
      await vi.advanceTimersByTimeAsync(i < 59 ? 1000 : 500);
    }
    // t = 59.5 s: the next slot opens at 60 s, when the first entry leaves
    const ac = new AbortController();
    const waiting = limiter.consume([rule], 10, 5000, ac.signal);
    await vi.advanceTimersByTimeAsync(300);
    ac.abort();
    const d = await waiting;
    expect(d).toMatchObject({ allowed: false, reason: 'aborted', waitedMs: 300, retryAfterMs: 200 });
    // its slot went back: the next request gets the slot at 60 s, not 61 s
    const next = limiter.consume([rule], 10, 5000);
    await vi.advanceTimersByTimeAsync(200);
    expect(await next).toMatchObject({ allowed: true, waitedMs: 200 });
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
