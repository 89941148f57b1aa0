/**
 * Gateways sharing one PostgreSQL database (storage.url = postgres://…): requests through two
 * replicas land in one verifiable chain per tenant; admin reads (audit, spend, policy versions)
 * see every replica's writes; a replica started later loads the policy another one stored.
 * Skipped when PostgreSQL is unreachable, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { createTestSchema, skipPostgres } from '../conformance/backends.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';

const ADMIN = 'admin-token-for-postgres-tests-0123456789';
const extra = `
admin:
  tokens: [ { id: ops, token: "${ADMIN}" } ]
policies:
  mutable:
    rules:
      - { id: no-orion, terms: ["project orion"], action: block }
`;

describe.skipIf(await skipPostgres())('gateway replicas on PostgreSQL', () => {
  let upstream: FakeOpenAI;
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  let yaml: string;
  const gateways: TestGateway[] = [];
  const start = async () => {
    const gw = await startTestGateway(yaml);
    gateways.push(gw);
    return gw;
  };
  const admin = async (gw: TestGateway, method: 'GET' | 'PUT', path: string, body?: unknown) => {
    const res = await request(`${gw.url}/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.statusCode, json: (await res.body.json()) as any };
  };

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    schema = await createTestSchema();
    yaml = baseConfig(upstream.baseUrl, extra)
      .replace('url: sqlite://${DATA_DIR}/omega.db', `url: "${schema.url}"\n  pool_size: 3`)
      .replace('  acme:\n', '  acme:\n    policy: mutable\n');
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.stop();
    await upstream?.close();
    await schema?.drop();
  });

  it('chains both replicas\' records into one verifiable chain, visible from either', async () => {
    const [a, b] = [await start(), await start()];
    expect(a.stores.kind).toBe('postgres');
    const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: `hello ${i}` }] })));
    expect(sent).toHaveLength(12);
    // A record is written just after its response is sent: wait until all twelve are stored.
    for (let waited = 0; waited < 5000; waited += 50) {
      await Promise.all([a.audit.flush(), b.audit.flush()]);
      if ((await admin(a, 'GET', '/audit?tenant=acme&limit=100')).json.data.length >= 12) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const verify = await admin(b, 'GET', '/audit/verify?tenant=acme');
    expect(verify.json).toMatchObject({ ok: true, chains: [{ chain: 'acme', records: 12, broken: null }] });
    const page = await admin(a, 'GET', '/audit?tenant=acme&limit=100');
    expect(page.json.data).toHaveLength(12);
    const spend = await admin(a, 'GET', '/spend?tenant=acme&since=1d');
    expect(spend.json.data.reduce((n: number, r: any) => n + r.requests, 0)).toBe(12);
  });

  it('stores a policy replaced on one replica: the others list the version, a replica started later enforces it', async () => {
    const [a, b] = gateways;
    const put = await admin(a!, 'PUT', '/policies/mutable', { rules: [{ id: 'no-harbor', terms: ['blue harbor'], action: 'block' }] });
    expect(put.status).toBe(200);
    const versions = await admin(b!, 'GET', '/policies/mutable/versions');
    expect(versions.json.data).toMatchObject([{ version: put.json.version, actor: expect.any(String), policy: { rules: [{ id: 'no-harbor' }] } }]);

    const c = await start();
    expect((await admin(c, 'GET', '/policies/mutable')).json.version).toBe(put.json.version);
    const refused = await c
      .client()
      .chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'ship it to Blue Harbor' }] })
      .catch((err: { status: number }) => err);
    expect((refused as { status: number }).status).toBe(403);
  });
});
