/**
 * Redis round trips per request, watched with Redis MONITOR on a fresh key prefix: a request
 * with rate quotas (requests and tokens) and a budget costs exactly two — one admission script
 * (check and take every quota and budget scope) and one settlement script (token difference,
 * budget commit) — and /metrics counts them.
 */
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { dropPrefix, randomPrefix, REDIS_URL, redisVariantsEnabled } from '../conformance/redis-harness.js';
import { startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

const ADMIN = 'admin-token-for-round-trip-tests-0123456789';

describe.skipIf(!(await redisVariantsEnabled()))('Redis round trips per request', { timeout: 60_000 }, () => {
  let upstream: FakeOpenAI;
  let gw: TestGateway;
  let monitor: Redis;
  const prefix = randomPrefix();
  const seen: string[][] = [];

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }
admin:
  tokens: [ { id: ops, token: "${ADMIN}" } ]
providers:
  fake-openai: { type: openai, base_url: "${upstream.baseUrl}", api_key: "sk-upstream-test-key-123", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 1 } }
tenants:
  acme:
    models: [gpt-test]
    rate_limits: { rpm: 1000, tpm: 1000000 }
    budget: { usd: 100, period: daily }
    teams:
      research:
        budget: { usd: 50, period: monthly }
        agents: { bot: { keys: [ { id: key_acme_bot, key: "${TENANT_KEY}", rate_limits: { rpm: 500 } } ] } }
`);
    monitor = await new Redis(REDIS_URL).monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands a script runs show up too (source "lua"): only what clients sent is a round trip.
      if (source !== 'lua' && args.some((a) => a.includes(prefix))) seen.push(args);
    });
  });
  afterAll(async () => {
    monitor?.disconnect();
    await gw?.stop();
    await upstream?.close();
    const redis = new Redis(REDIS_URL);
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const chat = async (stream = false) => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', stream, max_tokens: 20, messages: [{ role: 'user', content: 'count me [words:5]' }] }),
    });
    await res.body.text();
    expect(res.statusCode).toBe(200);
  };
  const roundTrips = async () => {
    const text = await (await request(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).body.text();
    return Number(/^omega_redis_round_trips_total (\d+)/m.exec(text)?.[1]);
  };
  /** MONITOR lines arrive asynchronously: wait until `n` are in (bounded), then a little for any extra. */
  const settle = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (seen.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
  };

  it('admission and settlement: two round trips for quotas and budgets together, counted in /metrics', async () => {
    await chat(); // loads the scripts
    await settle(2);
    for (const stream of [false, true]) {
      seen.length = 0;
      const before = await roundTrips();
      await chat(stream);
      await settle(2);
      expect(seen.map((args) => args[0]!.toLowerCase())).toEqual(['evalsha', 'evalsha']);
      expect((await roundTrips()) - before).toBe(2);
    }
  });
});
