import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { AuthThrottle } from './auth-throttle.js';

const options = { maxFailures: 3, windowMs: 1000, blockMs: 5000, keyPrefixLength: 12, maxTracked: 4 };

function refusal(fn: () => void): GatewayError | undefined {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  return undefined;
}

describe('AuthThrottle', () => {
  it('blocks an IP after maxFailures within the window, for blockMs, with Retry-After', () => {
    let now = 0;
    const t = new AuthThrottle(options, () => now);
    for (let i = 0; i < 3; i++) {
      expect(refusal(() => t.check('1.1.1.1', undefined))).toBeUndefined();
      t.fail('1.1.1.1', undefined);
    }
    const err = refusal(() => t.check('1.1.1.1', undefined))!;
    expect(err.code).toBe('too_many_auth_failures');
    expect(err.headers).toEqual({ 'retry-after': '5' });
    now = 4500;
    expect(refusal(() => t.check('1.1.1.1', undefined))?.headers).toEqual({ 'retry-after': '1' });
    now = 5001;
    expect(refusal(() => t.check('1.1.1.1', undefined))).toBeUndefined();
  });

  it('failures spread over more than a window do not add up', () => {
    let now = 0;
    const t = new AuthThrottle(options, () => now);
    for (let i = 0; i < 10; i++) {
      t.fail('2.2.2.2', undefined);
      now += 600;
      if (i % 2 === 1) now += 1000;
    }
    expect(refusal(() => t.check('2.2.2.2', undefined))).toBeUndefined();
  });

  it('tracks a prefix of at most half the key, never the key', () => {
    const t = new AuthThrottle(options);
    expect(t.prefixOf('omk_live_abcdefghijklmnopqrstuvwxyz')).toBe('omk_live_abc');
    expect(t.prefixOf('short-key')).toBe('shor');
    expect(t.prefixOf(undefined)).toBeUndefined();
  });

  it('keeps at most maxTracked entries, forgetting the least recently failed', () => {
    const t = new AuthThrottle(options, () => 0);
    for (let i = 0; i < 3; i++) t.fail('keep', undefined);
    for (let i = 0; i < 100; i++) t.fail(`10.0.0.${i}`, undefined);
    expect(t.size).toBe(4);
    // The blocked entry was the oldest touched, so it is gone too: bounded memory first.
    expect(refusal(() => t.check('keep', undefined))).toBeUndefined();
  });
});
