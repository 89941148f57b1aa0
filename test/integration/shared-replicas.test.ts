/**
 * Three gateway processes (each its own port) sharing the real PostgreSQL (a fresh database) and
 * Redis (a fresh key prefix): a budget holds exactly across all of them, a per-minute key quota
 * admits exactly its count across all of them, and the shared audit chains verify afterwards.
 * Under CI=true this runs (and fails when a server is unreachable); elsewhere it is skipped then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { createTestDatabase, skipPostgres } from '../conformance/backends.js';
import { dropPrefix, randomPrefix, REDIS_URL, redisVariantsEnabled } from '../conformance/redis-harness.js';
import { OTHER_TENANT_KEY, TENANT_KEY } from '../support/gateway.js';

const ADMIN = 'admin-token-for-replica-tests-0123456789';
const skip = (await skipPostgres()) || !(await redisVariantsEnabled());

// Output priced at $1000 per million tokens, input free, max_tokens = the words the fake answers
// with: every request holds and then costs exactly $0.01, so a $0.505 budget affords 50.
const config = (upstream: string, dbUrl: string, prefix: string) => `
server: { upstream_timeout: 10s }
storage: { url: "${dbUrl}", pool_size: 3 }
redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }
rate_limiting: { max_wait: 0ms }
audit: { flush_interval: 20ms }
admin:
  tokens: [ { id: ops, token: "${ADMIN}" } ]
providers:
  fake-openai: { type: openai, base_url: "${upstream}", api_key: "sk-upstream-test-key-123", circuit_breaker: { enabled: false } }
models:
  gpt-exact: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 0, output: 1000 } }
tenants:
  acme:
    models: [gpt-exact]
    budget: { usd: 0.505, period: daily }
    # A quota too, so admission takes quota and budget together (one Redis round trip).
    rate_limits: { rpm: 100000 }
    teams: { research: { agents: { bot: { keys: [ { id: key_acme_bot, key: "${TENANT_KEY}" } ] } } } }
  globex:
    models: [gpt-exact]
    teams: { ops: { agents: { runner: { keys: [ { id: key_globex_runner, key: "${OTHER_TENANT_KEY}", rate_limits: { rpm: 60 } } ] } } } }
`;

async function startChild(file: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/serve-child.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  return { url, child };
}

async function chat(url: string, key: string, i: number): Promise<number> {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-exact', max_tokens: 10, messages: [{ role: 'user', content: `request ${i} [words:10]` }] }),
  });
  await res.body.dump();
  return res.statusCode;
}

describe.skipIf(skip)('three gateway processes sharing PostgreSQL and Redis', { timeout: 120_000 }, () => {
  let upstream: FakeOpenAI;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;
  const prefix = randomPrefix();
  const gateways: { url: string; child: ChildProcess }[] = [];

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'omega-replicas-'));
    const file = join(dir, 'omega.yaml');
    writeFileSync(file, config(upstream.baseUrl, db.url, prefix));
    // Started together: they also race to migrate the fresh database.
    gateways.push(...(await Promise.all([startChild(file), startChild(file), startChild(file)])));
  }, 120_000);

  afterAll(async () => {
    for (const { child } of gateways) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await upstream?.close();
    await db?.drop();
    const redis = new Redis(REDIS_URL);
    await dropPrefix(redis, prefix);
    redis.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a budget affording 50 requests admits exactly 50 of 300 sent across the three', async () => {
    const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => chat(gateways[i % 3]!.url, TENANT_KEY, i)));
    const admitted = statuses.filter((s) => s === 200).length;
    // At most what it affords, and none refused that it could afford (every admitted one cost exactly its hold).
    expect(admitted).toBe(50);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 402 || s === 429)).toBe(true);
  });

  it('a 60-per-minute key quota admits 60 across the three', async () => {
    const statuses = await Promise.all(Array.from({ length: 120 }, (_, i) => chat(gateways[i % 3]!.url, OTHER_TENANT_KEY, i)));
    expect(statuses.filter((s) => s === 200).length).toBe(60);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
  });

  it('audit chains verify afterwards, from every replica', async () => {
    // Audit records are group-committed off the request path: wait (bounded) until every
    // replica's batches have landed, then each replica must see all of them, chained.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await request(`${gateways[0]!.url}/admin/audit/verify`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const body = (await res.body.json()) as { chains: { chain: string; records: number }[] };
      const count = (chain: string) => body.chains.find((c) => c.chain === chain)?.records ?? 0;
      if ((count('acme') >= 300 && count('globex') >= 120) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const { url } of gateways) {
      const res = await request(`${url}/admin/audit/verify`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const body = (await res.body.json()) as { ok: boolean; chains: { chain: string; records: number }[] };
      expect(res.statusCode).toBe(200);
      expect(body.ok).toBe(true);
      expect(body.chains.find((c) => c.chain === 'acme')!.records).toBe(300);
      expect(body.chains.find((c) => c.chain === 'globex')!.records).toBe(120);
    }
  });
});
