/**
 * The admin API across two replicas sharing PostgreSQL and Redis: a reviewer following the live
 * feed on one replica sees a request held on the other, approves it there, and the waiting SDK
 * call on the first completes; admin events from both replicas verify in one chain; overview and
 * spend aggregate on PostgreSQL. Skipped when PostgreSQL or Redis is unreachable, except under CI=true.
 */
import type { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, skipPostgres } from '../conformance/backends.js';
import { connect, dropPrefix, randomPrefix, REDIS_URL, redisVariantsEnabled } from '../conformance/redis-harness.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, OTHER_TENANT_KEY, startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/requests.js';
import { ADMIN_TOKENS_YAML, TOKENS, type Who } from './harness.js';

const skip = (await skipPostgres()) || !(await redisVariantsEnabled());

describe.skipIf(skip)('admin API on two replicas (PostgreSQL + Redis)', () => {
  let upstream: FakeOpenAI;
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  const prefix = randomPrefix();
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    schema = await createTestSchema();
    const yaml = baseConfig(
      upstream.baseUrl,
      `${ADMIN_TOKENS_YAML}
redis:
  url: "${REDIS_URL}"
  key_prefix: "${prefix}"
policies:
  held:
    review: { mode: hold, timeout: 20s, on_timeout: block }
    rules: [ { id: long-answers, when: 'request.max_tokens > 1000', action: review } ]
`,
    )
      .replace('url: sqlite://${DATA_DIR}/omega.db', `url: "${schema.url}"\n  pool_size: 3`)
      .replace('  acme:\n', '  acme:\n    policy: held\n')
      .replace('  globex:\n', '  globex:\n    policy: held\n');
    a = await startTestGateway(yaml);
    b = await startTestGateway(yaml);
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await upstream?.close();
    await schema?.drop();
    const redis = connect();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const call = async (gw: TestGateway, who: Who, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${TOKENS[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('a reviewer on replica B follows, sees and approves a request held on replica A', async () => {
    const feed = await fetch(`${b.url}/admin/v1/reviews/events`, { headers: { authorization: `Bearer ${TOKENS.acmeReviewer}` } });
    expect(feed.status).toBe(200);
    const reader = feed.body!.getReader();
    let text = '';
    const read = async (until: () => boolean) => {
      const end = Date.now() + 15_000;
      while (!until()) {
        if (Date.now() > end) throw new Error(`feed timed out: ${text}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    const globex = a.client(OTHER_TENANT_KEY).chat.completions.create({ model: 'gpt-other', max_tokens: 2000, messages: [{ role: 'user', content: 'globex [replica]' }] }).then(() => null, (e: APIError) => e);
    const held = a.client(TENANT_KEY).chat.completions.create({ model: 'gpt-test', max_tokens: 2000, messages: [{ role: 'user', content: 'please [replica]' }] });
    await read(() => text.includes('event: review.created'));
    const created = JSON.parse(/event: review.created\ndata: (.*)\n/.exec(text.replace(/id: .*\n/g, ''))![1]!);
    expect(created).toMatchObject({ tenant: 'acme', status: 'pending' });
    const approved = await call(b, 'acmeReviewer', 'POST', `/reviews/${created.id}/approve`, { reason: 'fine' });
    expect(approved.json.status).toBe('approved');
    expect((await held).choices[0]!.message.content).toBeTruthy();
    await read(() => text.includes('event: review.decided'));
    expect(text).not.toContain('globex [replica]');
    await reader.cancel();
    const globexItem = await waitFor(async () => (await call(a, 'admin', 'GET', '/reviews?status=pending&tenant=globex')).json.data[0], 'globex item', 10_000);
    await call(a, 'admin', 'POST', `/reviews/${globexItem.id}/reject`, {});
    expect((await globex)?.status).toBe(403);
  });

  it('publishes a policy on one replica that decides the next request on the other; events verify in one chain', async () => {
    const published = await call(a, 'admin', 'POST', '/policies/held/versions', { policy: { rules: [{ id: 'no-okapis', terms: ['okapi'], action: 'block' }] } });
    expect(published.status).toBe(201);
    await waitFor(async () => (await call(b, 'admin', 'GET', '/policies/held')).json.version === published.json.version, 'replica B applies the version', 15_000);
    const refusedOnB = await b.client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'an okapi' }] }).then(() => null, (e: APIError) => e);
    expect(refusedOnB?.status).toBe(403);
    await Promise.all([a.audit.flush(), b.audit.flush()]);
    const events = (await call(b, 'auditor', 'GET', '/audit?kind=admin')).json.data.map((e: any) => `${e.action} ${e.tenant_id ?? '_'}`);
    expect(events).toEqual(expect.arrayContaining(['review.approve acme', 'review.reject globex', 'policy.publish _']));
    const verified = (await call(a, 'auditor', 'GET', '/audit/verify')).json;
    expect(verified.ok).toBe(true);
  });

  it('aggregates overview and spend on PostgreSQL', async () => {
    await a.client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello' }] });
    await Promise.all([a.audit.flush(), b.audit.flush()]);
    const overview = (await call(b, 'auditor', 'GET', '/overview?window=1h')).json;
    expect(overview.buckets).toHaveLength(12);
    expect(overview.totals.requests).toBeGreaterThanOrEqual(4);
    expect(overview.totals.block).toBeGreaterThanOrEqual(1);
    const busy = overview.buckets.filter((x: any) => x.requests > 0);
    expect(busy.every((x: any) => x.latency_p50_ms !== null && x.latency_p95_ms >= x.latency_p50_ms)).toBe(true);
    const spend = (await call(a, 'acmeAdmin', 'GET', '/spend?group_by=agent')).json.data;
    expect(spend).toEqual([expect.objectContaining({ tenant: 'acme', team: 'research', agent: 'bot' })]);
    expect(spend[0].cost_usd).toBeGreaterThan(0);
  });
});
