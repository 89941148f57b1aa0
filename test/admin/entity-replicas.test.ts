/**
 * A change made through one replica's admin API reaches another replica: two gateways sharing
 * one SQLite file without Redis (the store resync, within ENTITY_RESYNC_MS), and two sharing
 * PostgreSQL with Redis signals (at once). The PostgreSQL + Redis variant runs under CI=true.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITY_RESYNC_MS } from '../../src/config/runtime.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { createTestDatabase, skipPostgres } from '../conformance/backends.js';
import { dropPrefix, randomPrefix, REDIS_URL, redisVariantsEnabled } from '../conformance/redis-harness.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';
import { refused, waitFor } from '../support/requests.js';
import { ADMIN_TOKENS_YAML, TOKENS } from './harness.js';

let upstream: FakeOpenAI;
beforeAll(async () => {
  upstream = await startFakeOpenAI();
});
afterAll(async () => {
  await upstream?.close();
});

async function admin(gw: TestGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${gw.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

const sdk = (gw: TestGateway, key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
const ask = (gw: TestGateway, key: string, model = 'gpt-test') => sdk(gw, key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

/** Creates an agent and key on `a`, then expects `b` to serve the key (and a new model) within `withinMs`. */
async function propagates(a: TestGateway, b: TestGateway, withinMs: number): Promise<void> {
  const tenant = `t${Math.random().toString(36).slice(2, 8)}`;
  expect((await admin(a, 'POST', '/tenants', { id: tenant, models: ['*'] })).status).toBe(201);
  await admin(a, 'POST', `/tenants/${tenant}/teams`, { id: 'core' });
  await admin(a, 'POST', `/tenants/${tenant}/teams/core/agents`, { id: 'bot' });
  const key = (await admin(a, 'POST', '/keys', { tenant, agent: 'bot' })).json.key as string;
  await ask(a, key);
  // Polling b with the key would trip its failed-authentication throttle: wait for its snapshot to catch up instead.
  const caughtUp = () => waitFor(() => b.runtime.holder.current.version === a.runtime.holder.current.version, 'the other replica to load the change', withinMs);
  await caughtUp();
  await ask(b, key);
  const model = `gpt-${tenant}`;
  await admin(a, 'PUT', `/models/${model}`, { provider: 'fake-openai', model: 'gpt-upstream-replica' });
  const started = Date.now();
  await caughtUp();
  const took = Date.now() - started;
  await ask(b, key, model);
  expect(upstream.requests.at(-1)!.body.model).toBe('gpt-upstream-replica');
  expect(took).toBeLessThan(withinMs);
  // A file-declared tenant stays read-only on both.
  expect((await admin(b, 'PUT', '/tenants/acme/budget', { usd: 1 })).json.error.code).toBe('managed_by_file');
  // A revocation on one is honoured by the other.
  const keyId = (await admin(a, 'GET', `/keys?tenant=${tenant}`)).json.data[0].id as string;
  await admin(a, 'POST', `/keys/${keyId}/revoke`, {});
  await new Promise((r) => setTimeout(r, 200)); // keys.cache_ttl is 50 ms in these tests
  expect((await refused(ask(b, key))).status).toBe(401);
}

const skip = (await skipPostgres()) || !(await redisVariantsEnabled());

describe('entity changes across replicas', () => {
  it('reach a replica sharing the SQLite file (no Redis) within the resync interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omega-shared-'));
    const yaml = baseConfig(upstream.baseUrl, ADMIN_TOKENS_YAML).replace('sqlite://${DATA_DIR}/omega.db', `sqlite://${join(dir, 'shared.db')}`);
    const a = await startTestGateway(yaml);
    const b = await startTestGateway(yaml);
    try {
      await propagates(a, b, ENTITY_RESYNC_MS * 3);
    } finally {
      await a.stop();
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(skip)('reach a replica sharing PostgreSQL at once through Redis signals', async () => {
    const db = await createTestDatabase();
    const prefix = randomPrefix();
    const yaml = baseConfig(upstream.baseUrl, `${ADMIN_TOKENS_YAML}\nredis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }\n`).replace('sqlite://${DATA_DIR}/omega.db', db.url);
    const a = await startTestGateway(yaml);
    const b = await startTestGateway(yaml);
    try {
      // Well under the resync interval: the signal, not the safety net, carried it.
      await propagates(a, b, ENTITY_RESYNC_MS - 1000);
    } finally {
      await a.stop();
      await b.stop();
      const redis = new Redis(REDIS_URL);
      await dropPrefix(redis, prefix);
      redis.disconnect();
      await db.drop();
    }
  }, 60_000);
});
