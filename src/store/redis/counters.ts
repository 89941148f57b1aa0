/**
 * Opens the Redis-backed shared counters from the configuration: one connection shared by the
 * rate limiter, the budget ledger and the combined admission (same key prefix, so admission's
 * holds and bookings settle through the ledger and limiter).
 */
import { Redis } from 'ioredis';
import { RedisAdmission } from './admission.js';
import { RedisBudgetLedger } from './budget-ledger.js';
import { RedisRateLimiter } from './rate-limiter.js';

export interface RedisCounters {
  redis: Redis;
  limiter: RedisRateLimiter;
  ledger: RedisBudgetLedger;
  admission: RedisAdmission;
  /** Redis round trips made by all three so far (benchmark: divide by requests served). */
  roundTrips(): number;
  close(): Promise<void>;
}

export interface RedisCountersOptions {
  /** `redis.url` */
  url: string;
  /** `redis.key_prefix` */
  keyPrefix: string;
  /** `budgets.timezone` */
  timeZone: string;
}

/**
 * @example
 * const counters = await openRedisCounters({ url: config.redis.url, keyPrefix: config.redis.key_prefix, timeZone: config.budgets.timezone });
 */
export async function openRedisCounters(options: RedisCountersOptions): Promise<RedisCounters> {
  // Fail fast rather than queue: a request must not hang on a Redis that is away (degraded modes decide what then).
  const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 });
  // Failed commands carry the error to the caller (degraded mode decides); the client's own
  // 'error' events while it reconnects would otherwise print as unhandled.
  redis.on('error', () => undefined);
  await redis.connect();
  const prefix = options.keyPrefix;
  const limiter = new RedisRateLimiter({ redis, prefix });
  const ledger = new RedisBudgetLedger({ redis, prefix, timeZone: options.timeZone });
  const admission = new RedisAdmission({ redis, prefix, timeZone: options.timeZone });
  return {
    redis,
    limiter,
    ledger,
    admission,
    roundTrips: () => limiter.roundTrips + ledger.roundTrips + admission.roundTrips,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
