/**
 * The signal bus, in memory and on the real Redis of this machine (skipped when Redis is down,
 * except under CI=true): a message reaches every subscriber of its channel (the sender's own
 * included), only that channel, and only buses of the same key prefix.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySignalBus } from './memory/signals.js';
import { RedisSignalBus } from './redis/signals.js';
import type { SignalBus } from './types.js';
import { REDIS_URL, redisVariantsEnabled } from '../../test/conformance/redis-harness.js';


const redis = await redisVariantsEnabled('the Redis signal bus tests');

const open: SignalBus[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

function inbox(bus: SignalBus, channel: Parameters<SignalBus['subscribe']>[0]): Promise<string[]> & { got: string[] } {
  const got: string[] = [];
  const ready = bus.subscribe(channel, (m) => got.push(m)).then(() => got);
  return Object.assign(ready, { got });
}

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
};

describe('MemorySignalBus', () => {
  it('delivers to every subscriber of the channel, later than the publish, and to no other channel', async () => {
    const bus = new MemorySignalBus();
    open.push(bus);
    const a = await inbox(bus, 'review.decided');
    const b = await inbox(bus, 'review.decided');
    const other = await inbox(bus, 'policy.replaced');
    await bus.publish('review.decided', '{"id":"rev_1"}');
    expect(a).toEqual([]); // not synchronously: handlers run as they would from Redis
    await until(() => a.length > 0 && b.length > 0);
    expect(a).toEqual(['{"id":"rev_1"}']);
    expect(b).toEqual(['{"id":"rev_1"}']);
    expect(other).toEqual([]);
  });
});

describe.runIf(redis)('RedisSignalBus', () => {
  const bus = async (keyPrefix: string) => {
    const b = await RedisSignalBus.open({ url: REDIS_URL, keyPrefix });
    open.push(b);
    return b;
  };

  it('reaches every replica of the same prefix (the sender too), on its channel only', async () => {
    const prefix = `omega-test-${randomBytes(6).toString('hex')}`;
    const [one, two, elsewhere] = [await bus(prefix), await bus(prefix), await bus(`${prefix}-other`)];
    const atOne = await inbox(one, 'key.revoked');
    const atTwo = await inbox(two, 'key.revoked');
    const otherChannel = await inbox(two, 'policy.replaced');
    const otherPrefix = await inbox(elsewhere, 'key.revoked');
    await one.publish('key.revoked', '{"id":"key_1"}');
    await until(() => atOne.length > 0 && atTwo.length > 0);
    expect(atOne).toEqual(['{"id":"key_1"}']);
    expect(atTwo).toEqual(['{"id":"key_1"}']);
    await new Promise((r) => setTimeout(r, 50));
    expect(otherChannel).toEqual([]);
    expect(otherPrefix).toEqual([]);
  });

  it('a handler that throws does not stop the others', async () => {
    const prefix = `omega-test-${randomBytes(6).toString('hex')}`;
    const b = await bus(prefix);
    await b.subscribe('review.decided', () => {
      throw new Error('boom');
    });
    const got = await inbox(b, 'review.decided');
    await b.publish('review.decided', 'x');
    await until(() => got.length > 0);
    expect(got).toEqual(['x']);
  });

  it('refuses to open when Redis cannot be reached', async () => {
    await expect(RedisSignalBus.open({ url: 'redis://127.0.0.1:9', keyPrefix: 'x' })).rejects.toThrow();
  });
});
