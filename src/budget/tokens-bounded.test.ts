/**
 * Bounded tokenizer work (issue 10 item 1): a long pre-token (CJK run, "aaaa…") used to cost
 * time quadratic in its length. Property test over adversarial units with a fixed seed, plus
 * the documented exactness: prose counts the same in pieces, and the estimate beyond the exact
 * budget follows its formula.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { linearEnough, repeatTo, settledGrowth } from '../../test/support/growth.js';
import { EXACT_WORK_PER_REQUEST, NON_ASCII_WORK, estimateInputTokens, preloadTokenizerFor, roughTokens } from './tokens.js';

const require = createRequire(import.meta.url);
const o200k = require('gpt-tokenizer/encoding/o200k_base') as { countTokens(s: string): number };

const chat = (content: string) => ({ messages: [{ role: 'user', content }] });
const count = (s: string): number => estimateInputTokens(chat(s), 'gpt-4o');

/** Random CJK ideographs: the tokenizer's own cache cannot shortcut them. */
function randomCjk(n: number, seed: number): string {
  let x = seed;
  let s = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += String.fromCharCode(0x4e00 + (x % 20000));
  }
  return s;
}

describe('token estimation does bounded work', () => {
  preloadTokenizerFor('gpt-4o');

  it('time on 4x the input stays under 8x for adversarial units (fixed seed)', () => {
    const units = ['中', '日本語のテキスト', 'a', '1', ' ', '\n', '😀', 'Ab3+', '<|endoftext|>', 'é', '\u200b', 'ab ', "'s"];
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...units), fc.string({ minLength: 1, maxLength: 6, unit: 'binary' })), (unit) => {
        // Each measurement uses fresh text (a suffix differs) so the count cache cannot answer.
        let k = 0;
        const g = settledGrowth(count, (n) => repeatTo(unit, n) + String(k++), 40_000);
        if (!linearEnough(g)) throw new Error(`${JSON.stringify(unit)}: ${g.small.toFixed(1)} ms -> ${g.large.toFixed(1)} ms`);
      }),
      { seed: 20261201, numRuns: 30, endOnFailure: true },
    );
  }, 120_000);

  it('a 1 MB run of CJK costs well under a second (was over a minute)', () => {
    const t0 = performance.now();
    const n = count('中'.repeat(1_000_000));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(n).toBeGreaterThan(900_000);
  });

  it('random CJK up to the exact budget is counted quickly, and close to the whole-string count', () => {
    const s = randomCjk(EXACT_WORK_PER_REQUEST / NON_ASCII_WORK - 100, 7);
    const t0 = performance.now();
    count(s);
    expect(performance.now() - t0).toBeLessThan(500);
    // Pieces are cut hard inside a run: at most a token or two of difference per 512 chars.
    const small = randomCjk(3000, 11);
    expect(Math.abs(count(small) - 7 - o200k.countTokens(small))).toBeLessThanOrEqual(2 * Math.ceil(small.length / 512));
  });

  it('counts prose in pieces exactly like the whole string', () => {
    const prose = repeatTo('The quick brown fox jumps over the lazy dog, again and again. ', 20_000);
    expect(count(prose)).toBe(o200k.countTokens(prose) + 3 + 1 + 3);
  });

  it('estimates beyond the exact budget: ceil(ASCII / 4) + one per non-ASCII unit', () => {
    expect(roughTokens('abcdefgh中文')).toBe(2 + 2);
    const big = 'x'.repeat(EXACT_WORK_PER_REQUEST + 4000);
    expect(count(big)).toBe(3 + 1 + 3 + roughTokens(big));
  });
});
