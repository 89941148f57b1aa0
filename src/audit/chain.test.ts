import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH } from './chain.js';

describe('chainHash', () => {
  it('is sha256(prev + "\\n" + record) exactly as the Hash object computed it (stored chains still verify)', () => {
    const previous = (prev: string, json: string) => createHash('sha256').update(prev).update('\n').update(json).digest('hex');
    const texts = ['{}', JSON.stringify({ a: 'héllo 日本語 🎉', b: 'line\nbreak', c: 1e21 }), 'x'.repeat(5_000), '\ud800 lone surrogate', ''];
    for (const prev of [GENESIS_HASH, previous(GENESIS_HASH, '{}'), '']) for (const text of texts) expect(chainHash(prev, text)).toBe(previous(prev, text));
    // A known value, so a change of the hash input cannot pass unnoticed.
    expect(chainHash(GENESIS_HASH, '{}')).toBe(createHash('sha256').update(`${GENESIS_HASH}\n{}`).digest('hex'));
  });
});
