/**
 * Property tests: every detector's time grows at most linearly on adversarial inputs (issue 10
 * item 1). Inputs are a short "unit" repeated to 40k and 160k characters; fast-check draws units
 * from known worst cases and from random strings over the characters the scanners key on.
 * Fixed seed and run count keep the test deterministic and bounded in time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linearEnough, repeatTo, settledGrowth } from '../../../test/support/growth.js';
import { createInjectionDetector, createPiiDetector, createSecretsDetector, createTermsDetector } from './index.js';
import type { Detector } from './types.js';

const DETECTORS: Detector[] = [
  createPiiDetector(),
  createSecretsDetector(),
  createInjectionDetector(),
  createTermsDetector(['secret project', 'bad word', 'c++'], []),
];

/** Worst cases found by hand (each was slow or quadratic somewhere, or is a likely trap). */
export const ADVERSARIAL_UNITS = [
  'a@', 'a@b', 'a@b.co ', `${'a'.repeat(60)}@`, '中', '日本語のテキスト', '1', '1 ', '1-', '1.', '(1', ' ', '\n', '"', "'",
  'Ab3+', 'eyJ', 'eyJaaaaaaaaa.', '-----BEGIN ', '-----BEGIN RSA PRIVATE KEY-----.', 'a:', '::', 'a:b:', 'password=',
  'pass ', 'bearer ', 'Bearer ', '://', 'sk-', 'ghp_', 'AKIA', 'xoxb-', '#', '## ', '<|', '[INST]', '>', '\nsystem: ',
  'ignore ', 'ignore previous system prompt filter restrict above anything ', '4111 1111 1111 1111 ', 'DE89',
  '=', 'a=', '/', 'aws secret ', 'AIza', '\u200b', 'ＡＢＣ', '😀',
];

// Characters the scanners branch on; random units over them find combinations nobody listed.
const ALPHABET = [...'@.:-_=+/ \n\t"\'#<|>[]()0123456789aAbBeEkKsSpPyYzZ中😀'];
const unitArb = fc.oneof(
  fc.constantFrom(...ADVERSARIAL_UNITS),
  fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 12 }).map((cs) => cs.join('')),
);

describe('detectors do bounded work per character', () => {
  for (const det of DETECTORS) {
    it(`${det.id}: time on 4x the input stays under 8x (fixed seed)`, () => {
      const scan = (s: string): unknown => det.scan(s);
      fc.assert(
        fc.property(unitArb, (unit) => {
          const g = settledGrowth(scan, (n) => repeatTo(unit, n), 40_000);
          if (!linearEnough(g)) throw new Error(`${det.id} on ${JSON.stringify(unit)}: ${g.small.toFixed(1)} ms -> ${g.large.toFixed(1)} ms`);
        }),
        { seed: 20261201, numRuns: 70, endOnFailure: true },
      );
    }, 120_000);
  }

  it('the worst known unit costs little per character at 160k', () => {
    // Absolute bound, generous for a busy CI box: 160k chars of any unit scan in under ~0.5 s.
    for (const unit of ADVERSARIAL_UNITS) {
      const text = repeatTo(unit, 160_000);
      const t0 = performance.now();
      for (const det of DETECTORS) det.scan(text);
      expect(performance.now() - t0, JSON.stringify(unit)).toBeLessThan(1500);
    }
  }, 120_000);
});
