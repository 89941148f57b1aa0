/**
 * Property: whatever the arrivals (bursts, waits, aborts), a quota of N requests / M tokens per
 * minute never admits more than N requests or M tokens in any rolling 60 s window, measured at
 * the time each request was let through (simulated clock: vitest's fake timers).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryRateLimiter } from './memory-limiter.js';
import { RATE_WINDOW_MS as W } from './limiter.js';

afterEach(() => {
  vi.useRealTimers();
});

const arrival = fc.record({
  gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 20_000 })),
  tokens: fc.integer({ min: 0, max: 300 }),
  maxWaitMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 70_000 })),
  abortAfterMs: fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: undefined }),
});

/** Largest count and token sum of admissions within any window (x, x + W]. */
function worstWindow(admitted: { at: number; tokens: number }[]): { count: number; tokens: number } {
  const sorted = [...admitted].sort((a, b) => a.at - b.at);
  let count = 0;
  let tokens = 0;
  let lo = 0;
  let sum = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    sum += sorted[hi].tokens;
    while (sorted[lo].at <= sorted[hi].at - W) sum -= sorted[lo++].tokens;
    count = Math.max(count, hi - lo + 1);
    tokens = Math.max(tokens, sum);
  }
  return { count, tokens };
}

describe('MemoryRateLimiter exactness (property)', () => {
  it('never admits more than rpm requests or tpm tokens in any 60 s window', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 300, max: 1500 }), fc.array(arrival, { minLength: 1, maxLength: 80 }), async (rpm, tpm, arrivals) => {
        vi.useFakeTimers({ now: 0 });
        const limiter = new MemoryRateLimiter({ now: () => Date.now(), sweepIntervalMs: 0 });
        const rules = [
          { key: 'key:k', rpm },
          { key: 'tenant:t', tpm },
        ];
        const admitted: { at: number; tokens: number }[] = [];
        const pending: Promise<unknown>[] = [];
        for (const a of arrivals) {
          await vi.advanceTimersByTimeAsync(a.gapMs);
          const ac = new AbortController();
          if (a.abortAfterMs !== undefined) setTimeout(() => ac.abort(), a.abortAfterMs);
          pending.push(
            limiter.consume(rules, a.tokens, a.maxWaitMs, ac.signal).then((d) => {
              if (d.allowed) admitted.push({ at: Date.now(), tokens: a.tokens });
            }),
          );
        }
        await vi.advanceTimersByTimeAsync(80_000);
        await Promise.all(pending);
        const worst = worstWindow(admitted);
        expect(worst.count).toBeLessThanOrEqual(rpm);
        expect(worst.tokens).toBeLessThanOrEqual(tpm);
        vi.useRealTimers();
      }),
      { seed: 20261201, numRuns: 150 },
    );
  }, 60_000);
});
