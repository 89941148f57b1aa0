import { MemoryRateLimiter } from '../../src/ratelimit/memory-limiter.js';
import { RedisRateLimiter } from '../../src/store/redis/rate-limiter.js';
import { rateLimiterConformance } from './rate-limiter.conformance.js';
import { connect, dropPrefix, randomPrefix, redisVariantsEnabled } from './redis-harness.js';

rateLimiterConformance('memory', async (now) => {
  const limiter = new MemoryRateLimiter({ now, sweepIntervalMs: 0 });
  return { replicas: [limiter, limiter], close: async () => limiter.close() };
});

if (await redisVariantsEnabled()) {
  rateLimiterConformance('redis (two connections)', async (now) => {
    const prefix = randomPrefix();
    const [r1, r2] = [connect(), connect()];
    return {
      replicas: [new RedisRateLimiter({ redis: r1, prefix, now }), new RedisRateLimiter({ redis: r2, prefix, now })],
      close: async () => {
        await dropPrefix(r1, prefix);
        r1.disconnect();
        r2.disconnect();
      },
    };
  });
}
