import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './backoff.js';

describe('backoff', () => {
  it('doubles from the initial delay, with equal jitter, up to the cap', () => {
    expect(backoffDelay(0, 200, 5000, undefined, () => 0)).toBe(100);
    expect(backoffDelay(0, 200, 5000, undefined, () => 1)).toBe(200);
    expect(backoffDelay(3, 200, 5000, undefined, () => 1)).toBe(1600);
    expect(backoffDelay(10, 200, 5000, undefined, () => 1)).toBe(5000);
    expect(backoffDelay(10, 200, 5000, undefined, () => 0)).toBe(2500);
  });

  it('honours Retry-After in seconds or as an HTTP date', () => {
    expect(backoffDelay(0, 200, 5000, '2', () => 0)).toBe(2000);
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
