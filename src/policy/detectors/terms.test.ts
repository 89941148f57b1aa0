import { describe, it, expect } from 'vitest';
import { createTermsDetector, MAX_REGEX_LENGTH } from './terms.js';
import type { Finding } from './types.js';

const spans = (fs: Finding[]) => fs.map((f) => [f.type, f.start, f.end]);

describe('blocked terms', () => {
  it('matches case-insensitively on word boundaries', () => {
    const d = createTermsDetector(['ass'], []);
    expect(spans(d.scan('class assistant bass pass'))).toEqual([]);
    expect(spans(d.scan('You ASS! what an ass.'))).toEqual([
      ['term', 4, 7],
      ['term', 17, 20],
    ]);
  });

  it('treats terms as literals, with flexible whitespace', () => {
    const d = createTermsDetector(['project  falcon', 'foo.bar', 'c++', 'a|b'], []);
    const t = 'PROJECT\n Falcon uses foo.bar (not fooxbar) in c++ and a|b but not ab';
    expect(spans(d.scan(t))).toEqual([
      ['term', 0, 15],
      ['term', 21, 28],
      ['term', 46, 49],
      ['term', 54, 57],
    ]);
  });

  it('prefers the longest term at a position', () => {
    const d = createTermsDetector(['bad', 'bad word'], []);
    expect(spans(d.scan('a bad word'))).toEqual([['term', 2, 10]]);
  });

  it('uses Unicode-aware boundaries', () => {
    const d = createTermsDetector(['café', 'straße'], []);
    expect(spans(d.scan('cafés CAFÉ Straße'))).toEqual([
      ['term', 6, 10],
      ['term', 11, 17],
    ]);
  });

  it('ignores blank terms', () => {
    expect(createTermsDetector(['', '   '], []).scan('anything')).toEqual([]);
  });
});

describe('custom regexes', () => {
  it('reports matches as type regex with confidence 1', () => {
    const d = createTermsDetector([], ['\\bACME-\\d{6}\\b']);
    expect(d.scan('ticket ACME-123456 and ACME-12')).toEqual([
      { detector: 'terms', type: 'regex', start: 7, end: 18, confidence: 1 },
    ]);
  });

  it('supports a leading (?i) and Unicode escapes', () => {
    const d = createTermsDetector([], ['(?i)secret\\s+plan', '\\p{Emoji_Presentation}']);
    expect(spans(d.scan('The SECRET plan 🚀'))).toEqual([
      ['regex', 4, 15],
      ['regex', 16, 18],
    ]);
  });

  it('skips empty matches instead of looping', () => {
    expect(spans(createTermsDetector([], ['x*']).scan('abxxc'))).toEqual([['regex', 2, 4]]);
  });

  it('merges term and regex findings sorted by start', () => {
    const d = createTermsDetector(['beta'], ['alpha']);
    expect(spans(d.scan('beta alpha beta'))).toEqual([
      ['term', 0, 4],
      ['regex', 5, 10],
      ['term', 11, 15],
    ]);
  });

  it('throws an error naming an invalid regex', () => {
    expect(() => createTermsDetector([], ['ok', 'a(b'])).toThrow(/terms regex #1 "a\(b" is not a valid regular expression/);
  });

  it('rejects over-long patterns', () => {
    expect(() => createTermsDetector([], ['a'.repeat(MAX_REGEX_LENGTH + 1)])).toThrow(/longer than 500/);
    expect(() => createTermsDetector([], ['a'.repeat(MAX_REGEX_LENGTH)])).not.toThrow();
  });
});
