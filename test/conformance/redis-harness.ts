/**
 * The real Redis of this machine for conformance tests. Under CI=true the Redis variants always
 * run (an unreachable Redis fails them); elsewhere they are skipped, with a message, when Redis
 * is down. Every harness uses its own random key prefix, so parallel test files never collide.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Whether to run the Redis variants (always under CI). */
export async function redisVariantsEnabled(what = 'the Redis conformance variants'): Promise<boolean> {
  if (process.env.CI === 'true') return true;
  if (await reachable()) return true;
  console.warn(`Redis at ${REDIS_URL} is unreachable: skipping ${what} (under CI=true they run and fail).`);
  return false;
}

export const randomPrefix = (): string => `omega-test-${randomBytes(6).toString('hex')}`;

/** A new connection (a "replica"); tests disconnect it. */
export function connect(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
}

/** Deletes every key under a prefix (never FLUSHALL: other tests share this Redis). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** A clock that runs in real time from a chosen epoch and can be moved forward. */
export class TestClock {
  private offset = 0;
  private readonly origin: number;
  constructor(start: number) {
    this.origin = start - performance.now();
  }
  readonly now = (): number => this.origin + performance.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}
