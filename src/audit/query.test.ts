import { describe, expect, it } from 'vitest';
import { csvHeader, csvLine } from './query.js';

describe('CSV export', () => {
  const fields = ['a', 'b'] as const;
  const line = (a: unknown, b: unknown = 'x') => csvLine({ a, b }, fields);

  it.each([
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+1+cmd|/c calc!A0', "'+1+cmd|/c calc!A0"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('prefixes a formula-leading text cell %j with a quote', (value, cell) => {
    expect(line(value)).toBe(`${cell},x`);
  });

  it('leaves numbers, ordinary text and JSON values as they are', () => {
    expect(line(-5, 'gpt-4o')).toBe('-5,gpt-4o');
    expect(line('a-b=c', null)).toBe('a-b=c,');
    expect(line(['x', '=y'], { k: 1 })).toBe('"[""x"",""=y""]","{""k"":1}"');
    expect(csvHeader(fields)).toBe('a,b');
  });
});
