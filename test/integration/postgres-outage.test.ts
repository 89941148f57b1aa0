/**
 * PostgreSQL stopped mid-load and restarted (storage.on_unavailable), on a PostgreSQL server this
 * test starts itself (initdb + pg_ctl on a free port; `pg_ctl stop -m immediate` is the crash),
 * with two gateway processes and the real Redis:
 * - `open` (batched audit): keeps answering config keys and runtime keys it knew, refuses keys it
 *   never saw and admin writes with 503 store_unavailable, stays ready, shows it (metrics, /readyz);
 * - `closed` (strict audit): refuses with 503 store_unavailable what needs the database and
 *   reports not ready;
 * then both return by themselves, the spool is replayed, and every audit record of every
 * request is in the database exactly once, chained.
 * Under CI=true this runs (it fails if PostgreSQL cannot be started); elsewhere it is skipped
 * when initdb is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, keyHint } from '../../src/auth/api-keys.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { openStores } from '../../src/store/open-stores.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { dropPrefix, randomPrefix, REDIS_URL, redisVariantsEnabled } from '../conformance/redis-harness.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { hasInitdb, startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

const ADMIN = 'admin-token-for-outage-tests-0123456789';
const RUNTIME_KEY = 'omk_runtime_key_known_before_the_outage_01';
const UNSEEN_KEY = 'omk_runtime_key_first_used_in_the_outage_02';
const skip = (!hasInitdb && process.env.CI !== 'true') || !(await redisVariantsEnabled());

const config = (o: { upstream: string; db: string; prefix: string; mode: 'open' | 'closed'; durability: string; spool: string }) => `
server: { upstream_timeout: 10s }
storage: { url: "${o.db}", pool_size: 3, on_unavailable: ${o.mode} }
redis: { url: "${REDIS_URL}", key_prefix: "${o.prefix}" }
audit: { flush_interval: 50ms, durability: ${o.durability}, spool_file: "${o.spool}" }
keys: { cache_ttl: 200ms }
admin:
  tokens: [ { id: ops, token: "${ADMIN}" } ]
providers:
  fake-openai: { type: openai, base_url: "${o.upstream}", api_key: "sk-upstream-test-key-123", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 1 } }
policies:
  base: { rules: [ { id: no-orion, terms: [project orion], action: block } ] }
tenants:
  acme:
    models: [gpt-test]
    policy: base
    # A quota and a budget: admission goes to Redis, which stays up.
    rate_limits: { rpm: 1000000 }
    budget: { usd: 1000, period: daily }
    teams: { research: { agents: { bot: { keys: [ { id: key_acme_bot, key: "${TENANT_KEY}" } ] } } } }
`;

interface Sent {
  status: number;
  decisionId: string | undefined;
  code?: string;
}

async function chat(url: string, key = TENANT_KEY): Promise<Sent> {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', max_tokens: 5, messages: [{ role: 'user', content: 'hello [words:3]' }] }),
  });
  const body = (await res.body.json()) as { error?: { code?: string } };
  return { status: res.statusCode, decisionId: res.headers['x-omega-decision-id'] as string | undefined, code: body.error?.code };
}

async function admin(url: string, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.statusCode, json: await res.body.json() };
}

const until = async (what: () => Promise<boolean>, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await what().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
};

const storageState = async (url: string) => (await admin(url, 'GET', '/readyz')).json.storage?.state as string | undefined;

describe.skipIf(skip)('PostgreSQL stopped mid-load and restarted (storage.on_unavailable)', { timeout: 180_000 }, () => {
  let pg: OwnPostgres;
  let upstream: FakeOpenAI;
  let dir: string;
  let open: ChildGateway;
  let closed: ChildGateway;
  const prefixes = [randomPrefix(), randomPrefix()];

  beforeAll(async () => {
    pg = await startOwnPostgres();
    upstream = await startFakeOpenAI();
    dir = mkdtempSync(join(tmpdir(), 'omega-outage-'));
    // A runtime key, as `omega keys create` makes it (the stores migrate the fresh database too).
    const stores = await openStores(pg.url);
    await stores.keys.create({ id: 'key_runtime', hash: hashApiKey(RUNTIME_KEY), tenantId: 'acme', agentId: 'bot', hint: keyHint(RUNTIME_KEY), createdAt: new Date(), revokedAt: null, expiresAt: null });
    await stores.keys.create({ id: 'key_unseen', hash: hashApiKey(UNSEEN_KEY), tenantId: 'acme', agentId: 'bot', hint: keyHint(UNSEEN_KEY), createdAt: new Date(), revokedAt: null, expiresAt: null });
    await stores.close();
    const files = (['open', 'closed'] as const).map((mode, i) => {
      const file = join(dir, `${mode}.yaml`);
      writeFileSync(file, config({ upstream: upstream.baseUrl, db: pg.url, prefix: prefixes[i]!, mode, durability: mode === 'open' ? 'batched' : 'strict', spool: join(dir, `${mode}-spool.jsonl`) }));
      return file;
    });
    [open, closed] = await Promise.all([startChildGateway(files[0]!, 'gw-open'), startChildGateway(files[1]!, 'gw-closed')]);
  }, 120_000);

  afterAll(async () => {
    await open?.stop();
    await closed?.stop();
    await upstream?.close();
    await pg?.destroy();
    const redis = new Redis(REDIS_URL);
    for (const p of prefixes) await dropPrefix(redis, p);
    redis.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let loading = false;
  afterEach(() => {
    loading = false;
  });

  it('serves (open) or refuses (closed) as configured, loses no audit record, and recovers without a restart', async () => {
    const sent: Sent[] = [];
    // Before: everything works, and each gateway has seen (cached) the runtime key.
    for (const gw of [open, closed]) {
      sent.push(await chat(gw.url), await chat(gw.url, RUNTIME_KEY));
      expect(sent.slice(-2).map((s) => s.status)).toEqual([200, 200]);
      expect(await storageState(gw.url)).toBe('up');
    }

    // Load on the open gateway, from before the crash to after the recovery.
    loading = true;
    const load = Promise.all(
      Array.from({ length: 3 }, async () => {
        const mine: Sent[] = [];
        while (loading) mine.push(await chat(open.url).catch((err: Error) => ({ status: -1, decisionId: undefined, code: err.message })));
        return mine;
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    await pg.crash();

    // The outage is noticed (the audit flush or the readiness ping fails) within a bound.
    expect(await until(async () => (await storageState(open.url)) === 'down' && (await storageState(closed.url)) === 'down', 15_000)).toBe(true);

    // open: config keys and runtime keys it knew are served; a key it never saw cannot be checked.
    const during = { open: await chat(open.url), runtime: await chat(open.url, RUNTIME_KEY), unseen: await chat(open.url, UNSEEN_KEY) };
    expect(during.open.status).toBe(200);
    expect(during.runtime.status).toBe(200);
    expect(during.unseen).toMatchObject({ status: 503, code: 'store_unavailable' });
    sent.push(during.open, during.runtime);
    // closed (strict audit): the decision cannot be committed, so nothing is forwarded.
    const refused = await chat(closed.url);
    expect(refused).toMatchObject({ status: 503, code: 'store_unavailable' });
    sent.push(refused);
    expect(await chat(closed.url, RUNTIME_KEY)).toMatchObject({ status: 503, code: 'store_unavailable' });

    // Admin writes (and reads) are refused clearly, in the OpenAI error shape, and not applied.
    const put = await admin(open.url, 'PUT', '/admin/policies/base', { rules: [] });
    expect(put.status).toBe(503);
    expect(put.json.error).toMatchObject({ code: 'store_unavailable', type: 'api_error' });
    expect(put.json.error.message).toMatch(/database is unreachable/);
    expect((await admin(open.url, 'GET', '/admin/audit?limit=1')).json.error?.code).toBe('store_unavailable');
    const blocked = await request(`${open.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'about project orion' }] }),
    });
    expect(blocked.statusCode).toBe(403); // the refused PUT left the old policy in force
    sent.push({ status: 403, decisionId: blocked.headers['x-omega-decision-id'] as string });
    await blocked.body.dump();

    // Shown: readiness (open stays ready, closed does not), metrics.
    expect((await request(`${open.url}/readyz`)).statusCode).toBe(200);
    expect((await request(`${closed.url}/readyz`)).statusCode).toBe(503);
    const metrics = (await request(`${open.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.body.text())) as string;
    expect(metrics).toMatch(/omega_backend_up\{backend="postgres"\} 0/);
    expect(metrics).toMatch(/omega_backend_up\{backend="redis"\} 1/);
    expect(metrics).toMatch(/omega_degraded\{concern="storage"\} 1/);
    expect(metrics).toMatch(/omega_degraded_decisions_total\{concern="keys",decision="served"\} [1-9]/);
    expect(metrics).toMatch(/omega_degraded_decisions_total\{concern="keys",decision="refused"\} [1-9]/);
    expect(metrics).toMatch(/omega_audit_spooled [1-9]/);
    const closedMetrics = (await request(`${closed.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.body.text())) as string;
    expect(closedMetrics).toMatch(/omega_degraded_decisions_total\{concern="audit",decision="refused"\} [1-9]/);

    // Back: both return by themselves.
    await new Promise((r) => setTimeout(r, 500));
    await pg.start();
    expect(await until(async () => (await storageState(open.url)) === 'up' && (await storageState(closed.url)) === 'up', 30_000)).toBe(true);
    loading = false;
    const loaded = (await load).flat();
    // The open gateway answered every request of the load, through the outage.
    expect(loaded.length).toBeGreaterThan(10);
    expect(loaded.filter((s) => s.status !== 200)).toEqual([]);
    sent.push(...loaded);

    sent.push(await chat(closed.url), await chat(open.url, UNSEEN_KEY));
    expect(sent.slice(-2).map((s) => s.status)).toEqual([200, 200]);
    expect((await admin(open.url, 'PUT', '/admin/policies/base', { rules: [] })).status).toBe(200);

    // Every request that got past authentication has its final record, exactly once, and the chains verify.
    const stores = await openStores(pg.url);
    try {
      const wanted = new Set(sent.map((s) => s.decisionId!));
      expect(wanted.size).toBe(sent.length);
      let finals = new Map<string, number>();
      const complete = await until(async () => {
        finals = new Map();
        for (const chain of await stores.auditQuery.chains()) {
          for (const row of await stores.auditQuery.chainRows(chain)) if (row.kind === 'request') finals.set(row.decision_id, (finals.get(row.decision_id) ?? 0) + 1);
        }
        return [...wanted].every((id) => finals.has(id));
      }, 30_000);
      expect([...wanted].filter((id) => !finals.has(id))).toEqual([]);
      expect(complete).toBe(true);
      expect([...finals.values()].filter((n) => n !== 1)).toEqual([]);
      const verdicts = await verifyAudit(stores.auditQuery);
      expect(verdicts.length).toBeGreaterThan(0);
      for (const v of verdicts) expect(v.broken).toBeNull();
      // The spools are empty again.
      for (const gw of [open, closed]) expect((await admin(gw.url, 'GET', '/readyz')).json.storage.audit_spooled).toBe(0);
    } finally {
      await stores.close();
    }
  });
});

/**
 * Stored responses (/v1/responses) while PostgreSQL is down: `open` answers and keeps the
 * response in memory (continuable on this replica) until the database takes it; `closed`
 * refuses requests that ask to be stored (503 store_unavailable) and answers `store: false` ones.
 */
describe.skipIf(!hasInitdb && process.env.CI !== 'true')('stored responses while PostgreSQL is down', { timeout: 120_000 }, () => {
  let pg: OwnPostgres;
  let upstream: FakeOpenAI;
  let open: TestGateway;
  let closed: TestGateway;

  // Each gateway its own spool file (two in one process here; by default they would share ./data's).
  const spools = mkdtempSync(join(tmpdir(), 'omega-outage-spools-'));
  const yaml = (mode: string) => `
storage: { url: "${pg.url}", pool_size: 2, on_unavailable: ${mode} }
audit: { flush_interval: 50ms, spool_file: "${join(spools, `${mode}.jsonl`)}" }
admin:
  tokens: [ { id: ops, token: "${ADMIN}" } ]
providers:
  openai: { type: openai, base_url: "${upstream.baseUrl}", api_key: sk-upstream-test-key-123, circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 2 } }
tenants:
  acme:
    teams: { t: { agents: { bot: { keys: [ { id: k, key: "${TENANT_KEY}" } ] } } } }
`;

  beforeAll(async () => {
    pg = await startOwnPostgres();
    upstream = await startFakeOpenAI();
    open = await startTestGateway(yaml('open'));
    closed = await startTestGateway(yaml('closed'));
  }, 60_000);
  afterAll(async () => {
    await open?.stop();
    await closed?.stop();
    await upstream?.close();
    await pg?.destroy();
    rmSync(spools, { recursive: true, force: true });
  });

  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (err: { status?: number; code?: string }) => ({ status: err.status, code: err.code }),
    );

  it('open keeps answered responses until the store takes them; closed refuses to store', async () => {
    const first = await open.client().responses.create({ model: 'gpt-test', input: 'before the outage' });
    expect(first.id).toMatch(/^resp_/);

    await pg.crash();
    expect(await until(async () => (await storageState(open.url)) === 'down' && (await storageState(closed.url)) === 'down', 15_000)).toBe(true);

    const during = await open.client().responses.create({ model: 'gpt-test', input: 'during the outage' });
    // Continued on this replica from memory, although the database has not got it yet.
    const next = await open.client().responses.create({ model: 'gpt-test', input: 'and after it', previous_response_id: during.id });
    expect(next.id).toMatch(/^resp_/);
    // Reading from the store itself needs the database.
    expect(await refusal(open.client().responses.retrieve(first.id))).toEqual({ status: 503, code: 'store_unavailable' });

    expect(await refusal(closed.client().responses.create({ model: 'gpt-test', input: 'store me' }))).toEqual({ status: 503, code: 'store_unavailable' });
    expect((await closed.client().responses.create({ model: 'gpt-test', input: 'do not store me', store: false })).id).toMatch(/^resp_/);

    const metrics = async (gw: TestGateway) => (await request(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).body.text();
    expect(await metrics(open)).toMatch(/omega_degraded_decisions_total\{concern="responses",decision="served"\} [1-9]/);
    expect(await metrics(closed)).toMatch(/omega_degraded_decisions_total\{concern="responses",decision="refused"\} 1/);

    await pg.start();
    expect(await until(async () => (await storageState(open.url)) === 'up' && (await storageState(closed.url)) === 'up', 30_000)).toBe(true);
    // Written on recovery: readable from the store (on any replica).
    expect(await until(async () => (await open.stores.responses.get('acme', during.id)) !== undefined && (await open.stores.responses.get('acme', next.id)) !== undefined, 10_000)).toBe(true);
    expect((await closed.client().responses.retrieve(during.id)).id).toBe(during.id);
    expect((await closed.client().responses.create({ model: 'gpt-test', input: 'store me now' })).id).toMatch(/^resp_/);
  });
});
