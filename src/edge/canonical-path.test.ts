import { describe, expect, it } from 'vitest';
import { canonicalUrl } from './canonical-path.js';

describe('canonicalUrl', () => {
  it.each([
    ['/v1/chat/completions', '/v1/chat/completions'],
    ['/%76%31/chat/completions', '/v1/chat/completions'],
    ['//v1//chat/completions', '/v1/chat/completions'],
    ['/v1/./chat/completions', '/v1/chat/completions'],
    ['/v1/../v1/chat/completions', '/v1/chat/completions'],
    ['/v1/%2e%2e/v1/chat/completions', '/v1/chat/completions'],
    ['/../../v1/models', '/v1/models'],
    ['/v1/chat/completions?x=a//b/../c', '/v1/chat/completions?x=a//b/../c'],
    ['/V1/Chat/Completions', '/V1/Chat/Completions'],
    ['/v1/chat%2Fcompletions', '/v1/chat%2Fcompletions'],
    ['/v1/chat%2fcompletions', '/v1/chat%2Fcompletions'],
    ['/v1/%2525', '/v1/%2525'],
    ['/v1/%zz', '/v1/%zz'],
    ['/v1/%ff%fe', '/v1/%ff%fe'],
    ['/v1/%00', '/v1/%00'],
    ['/admin/reviews/Rev_AbC', '/admin/reviews/Rev_AbC'],
    ['/', '/'],
    ['/v1/models/', '/v1/models/'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalUrl(input)).toBe(expected);
  });

  it('is linear in the length of the path (time grows ~4x for 4x the input, not 16x)', () => {
    // Best of three runs each, as a ratio: an absolute budget would flake on a busy machine.
    const time = (reps: number) => {
      const path = '/%2e%2e/.//%41'.repeat(reps);
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        canonicalUrl(path);
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    time(5_000); // warm up
    expect(time(80_000) / time(20_000)).toBeLessThan(10);
  });
});
