import { describe, it, expect } from 'vitest';
import { redact } from './redact.js';
import type { Finding } from './types.js';

const f = (type: string, start: number, end: number, confidence = 0.9): Finding => ({
  detector: 'pii',
  type,
  start,
  end,
  confidence,
});

describe('redact', () => {
  it('returns the text unchanged without findings', () => {
    expect(redact('hello', [])).toBe('hello');
  });

  it('masks spans with the default mask', () => {
    const t = 'card 4111111111111111 ok';
    expect(redact(t, [f('payment_card', 5, 21)])).toBe('card [REDACTED:payment_card] ok');
  });

  it('merges overlapping spans into one mask named after the first', () => {
    const t = 'abcdefghij';
    expect(redact(t, [f('b', 4, 8), f('a', 2, 6)])).toBe('ab[REDACTED:a]ij');
    expect(redact(t, [f('a', 2, 6), f('b', 4, 8)])).toBe('ab[REDACTED:a]ij');
    expect(redact(t, [f('outer', 1, 9), f('inner', 3, 5)])).toBe('a[REDACTED:outer]j');
  });

  it('prefers the longer, then more confident finding at the same start', () => {
    expect(redact('abcdefghij', [f('short', 2, 4), f('long', 2, 6)])).toBe('ab[REDACTED:long]ghij');
    expect(redact('abcdefghij', [f('low', 2, 4, 0.5), f('high', 2, 4, 0.8)])).toBe('ab[REDACTED:high]efghij');
  });

  it('masks adjacent spans separately', () => {
    expect(redact('abcdef', [f('y', 3, 5), f('x', 1, 3)])).toBe('a[REDACTED:x][REDACTED:y]f');
  });

  it('passes the merged span to a custom mask', () => {
    const seen: [number, number][] = [];
    const out = redact('0123456789', [f('a', 1, 4), f('b', 3, 6)], (x) => {
      seen.push([x.start, x.end]);
      return '*'.repeat(x.end - x.start);
    });
    expect(out).toBe('0*****6789');
    expect(seen).toEqual([[1, 6]]);
  });

  it('clamps out-of-range spans and ignores empty ones', () => {
    expect(redact('abc', [f('x', -5, 1), f('y', 2, 99), f('z', 1, 1)])).toBe('[REDACTED:x]b[REDACTED:y]');
  });

  it('does not mutate the findings', () => {
    const fs = [f('b', 4, 8), f('a', 2, 6)];
    const copy = structuredClone(fs);
    redact('abcdefghij', fs);
    expect(fs).toEqual(copy);
  });
});
