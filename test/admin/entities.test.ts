/**
 * Runtime entities through /admin/v1 (tenants, teams, agents, keys, models, aliases, budgets,
 * provider credentials), driven as an operator would, with the gateway then used through the
 * real `openai` SDK: what the API creates works at once, what the file declares is read-only,
 * credentials are write-only and sealed at rest, bad input is a 400 in the OpenAI error shape.
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';
import { refused } from '../support/requests.js';
import { ADMIN_TOKENS_YAML, TOKENS, type Who } from './harness.js';

let upstream: FakeOpenAI;
let gw: TestGateway;

async function call(who: Who, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKENS[who]}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}/admin/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

const sdk = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(baseConfig(upstream.baseUrl, ADMIN_TOKENS_YAML), {}, { masterKey: randomBytes(32).toString('base64') });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

describe('entities through the admin API', () => {
  it('creates a tenant, team, agent and key; the key works at once with the openai SDK, until it is revoked', async () => {
    const tenant = await call('admin', 'POST', '/tenants', { id: 'initech', name: 'Initech', models: ['gpt-test'], budget: { usd: 50, period: 'monthly' } });
    expect(tenant.status).toBe(201);
    expect(tenant.json).toMatchObject({ object: 'tenant', id: 'initech', managed_by: 'api', budget: { usd: 50, period: 'monthly' } });
    expect((await call('admin', 'POST', '/tenants/initech/teams', { id: 'core' })).status).toBe(201);
    const agent = await call('admin', 'POST', '/tenants/initech/teams/core/agents', { id: 'helper', rate_limits: { rpm: 100 } });
    expect(agent.status).toBe(201);
    expect(agent.json).toMatchObject({ object: 'agent', id: 'helper', team: 'core', tenant: 'initech', managed_by: 'api' });

    const created = await call('admin', 'POST', '/keys', { tenant: 'initech', agent: 'helper' });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^omk_/);
    expect(created.json).toMatchObject({ object: 'key', tenant: 'initech', team: 'core', agent: 'helper', status: 'active', managed_by: 'api', expires_at: null });

    const answer = await sdk(created.json.key).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello from initech' }] });
    expect(answer.choices[0]!.message.content).toBe('Echo: hello from initech');
    const record = (await gw.auditRecords()).find((r) => r.tenant_id === 'initech' && (r.kind as string) !== 'admin');
    expect(record).toMatchObject({ tenant_id: 'initech', team_id: 'core', agent_id: 'helper', key_id: created.json.id });

    // The secret is never shown again.
    const listed = await call('admin', 'GET', '/keys?tenant=initech');
    expect(listed.text).not.toContain(created.json.key);
    expect(listed.json.data.map((k: { id: string }) => k.id)).toEqual([created.json.id]);

    const revoked = await call('admin', 'POST', `/keys/${created.json.id}/revoke`, { reason: 'test' });
    expect(revoked.json.status).toBe('revoked');
    expect((await refused(sdk(created.json.key).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }))).status).toBe(401);

    // Every write is an admin event in the tenant's chain.
    const actions = (await gw.auditRecords()).filter((r) => (r.kind as string) === 'admin').map((r) => (r as unknown as { action: string }).action);
    expect(actions).toEqual(expect.arrayContaining(['tenant.create', 'team.create', 'agent.create', 'key.create', 'key.revoke']));
  });

  it('rotates a key: the new one works at once, the old one no longer; expired keys are refused', async () => {
    const first = await call('admin', 'POST', '/keys', { tenant: 'acme', agent: 'bot' });
    const rotated = await call('admin', 'POST', `/keys/${first.json.id}/rotate`, {});
    expect(rotated.status).toBe(201);
    expect(rotated.json.key).not.toBe(first.json.key);
    await sdk(rotated.json.key).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    expect((await refused(sdk(first.json.key).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }))).status).toBe(401);

    const soon = await call('admin', 'POST', '/keys', { tenant: 'acme', agent: 'bot', expires_at: new Date(Date.now() + 1500).toISOString() });
    await sdk(soon.json.key).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    await new Promise((r) => setTimeout(r, 1600));
    expect((await refused(sdk(soon.json.key).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }))).status).toBe(401);
    expect((await call('admin', 'GET', `/keys/${soon.json.id}`)).json.status).toBe('expired');
  });

  it('routes a model added through the API at once, and an alias to it', async () => {
    await call('admin', 'POST', '/tenants', { id: 'hooli', models: ['*'] });
    await call('admin', 'POST', '/tenants/hooli/teams', { id: 'lab' });
    await call('admin', 'POST', '/tenants/hooli/teams/lab/agents', { id: 'runner' });
    const key = (await call('admin', 'POST', '/keys', { tenant: 'hooli', agent: 'runner' })).json.key as string;
    expect((await refused(sdk(key).chat.completions.create({ model: 'gpt-brand-new', messages: [{ role: 'user', content: 'x' }] }))).status).toBe(404);

    const model = await call('admin', 'PUT', '/models/gpt-brand-new', { provider: 'fake-openai', model: 'gpt-upstream-new', price: { input: 1, output: 1 } });
    expect(model.status).toBe(201);
    expect(model.json).toMatchObject({ object: 'model', id: 'gpt-brand-new', available: true, managed_by: 'api' });
    await sdk(key).chat.completions.create({ model: 'gpt-brand-new', messages: [{ role: 'user', content: 'new model' }] });
    expect(upstream.requests.at(-1)!.body.model).toBe('gpt-upstream-new');
    expect((await sdk(key).models.list()).data.map((m) => m.id)).toContain('gpt-brand-new');

    expect((await call('admin', 'POST', '/aliases', { tenant: 'hooli', alias: 'newest', model: 'gpt-brand-new' })).status).toBe(201);
    await sdk(key).chat.completions.create({ model: 'newest', messages: [{ role: 'user', content: 'via alias' }] });
    expect(upstream.requests.at(-1)!.body.model).toBe('gpt-upstream-new');
    // A model still named by an alias cannot go.
    expect((await call('admin', 'DELETE', '/models/gpt-brand-new')).status).toBe(400);
  });

  it('keeps what the file declares read-only (409 managed_by_file)', async () => {
    const acme = await call('admin', 'GET', '/tenants/acme');
    expect(acme.json).toMatchObject({ id: 'acme', managed_by: 'file', teams: ['research'] });
    for (const [method, path, body] of [
      ['PUT', '/tenants/acme', { models: ['*'] }],
      ['POST', '/tenants', { id: 'acme' }],
      ['PUT', '/tenants/acme/budget', { usd: 1 }],
      ['DELETE', '/tenants/acme/rate-limits', undefined],
      ['PUT', '/tenants/acme/teams/research', {}],
      ['DELETE', '/tenants/acme/teams/research/agents/bot', undefined],
      ['PUT', '/models/gpt-test', { provider: 'fake-openai' }],
      ['PUT', '/providers/fake-openai/credential', { api_key: 'sk-from-the-api-0123456789' }],
      ['POST', '/keys/key_acme_bot/revoke', {}],
    ] as const) {
      const res = await call('admin', method, path, body);
      expect([path, res.status, res.json?.error?.code]).toEqual([path, 409, 'managed_by_file']);
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: null });
    }
    // Adding under a file tenant is the API's: a team of its own.
    const team = await call('admin', 'POST', '/tenants/acme/teams', { id: 'ops' });
    expect(team.json).toMatchObject({ id: 'ops', managed_by: 'api' });
    expect((await call('admin', 'GET', '/keys?tenant=acme')).json.data.find((k: { id: string }) => k.id === 'key_acme_bot')).toMatchObject({ managed_by: 'file', hint: null });
  });

  it('stores a provider credential sealed, never returns, logs or audits it, and serves with it at once', async () => {
    expect((await refused(gw.client().chat.completions.create({ model: 'keyless-model', messages: [{ role: 'user', content: 'x' }] }))).status).toBe(503);
    const set = await call('admin', 'PUT', '/providers/keyless/credential', { api_key: FAKE_UPSTREAM_KEY });
    expect(set.status).toBe(200);
    expect(set.text).not.toContain(FAKE_UPSTREAM_KEY);
    expect(set.json).toMatchObject({ provider: 'keyless', credential: { source: 'api' } });

    await gw.client().chat.completions.create({ model: 'keyless-model', messages: [{ role: 'user', content: 'with the stored key' }] });
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${FAKE_UPSTREAM_KEY}`);

    const providers = await call('admin', 'GET', '/providers');
    expect(providers.text).not.toContain(FAKE_UPSTREAM_KEY);
    expect(providers.json.data.find((p: { name: string }) => p.name === 'keyless')).toMatchObject({ credential: { source: 'api' }, managed_by: 'file' });
    expect(providers.json.data.find((p: { name: string }) => p.name === 'fake-openai')).toMatchObject({ credential: { source: 'file' }, deployments: expect.arrayContaining([expect.objectContaining({ id: 'fake-openai/gpt-upstream', circuit: 'closed' })]) });

    // At rest: sealed, no trace of the secret in the row, the audit trail or the events.
    const rows = await sql<{ provider: string; sealed: string }>`select provider, sealed from provider_credentials`.execute(gw.db);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(rows.rows[0]!.sealed).not.toContain(FAKE_UPSTREAM_KEY);
    const audit = JSON.stringify(await gw.auditRecords());
    expect(audit).not.toContain(FAKE_UPSTREAM_KEY);
    expect(audit).toContain('provider.credential.set');
  });

  it('answers bad input with a 400 in the OpenAI error shape', async () => {
    const badId = await call('admin', 'POST', '/tenants', { id: 'no spaces allowed' });
    expect(badId.status).toBe(400);
    expect(badId.json).toEqual({ error: { message: expect.stringMatching(/^id: /), type: 'invalid_request_error', param: 'id', code: 'invalid_request' } });
    const unknownField = await call('admin', 'POST', '/tenants', { id: 'x1', colour: 'red' });
    expect(unknownField.status).toBe(400);
    const badModel = await call('admin', 'PUT', '/models/gpt-x', { provider: 'no-such-provider' });
    expect(badModel.status).toBe(400);
    expect(badModel.json.error.message).toMatch(/unknown provider "no-such-provider"/);
    const both = await call('admin', 'PUT', '/models/gpt-y', { provider: 'fake-openai', deployments: [{ provider: 'fake-openai' }] });
    expect(both.json.error).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error' });
    const badPolicy = await call('admin', 'POST', '/tenants/acme/teams', { id: 'pol', policy: 'no-such-policy' });
    expect(badPolicy.status).toBe(400);
    expect(badPolicy.json.error.message).toMatch(/unknown policy "no-such-policy"/);
    const past = await call('admin', 'POST', '/keys', { tenant: 'acme', agent: 'bot', expires_at: '2001-01-01T00:00:00Z' });
    expect(past.json.error).toMatchObject({ code: 'invalid_request', param: 'expires_at' });
    expect((await call('admin', 'POST', '/keys', { tenant: 'acme', agent: 'ghost' })).status).toBe(404);
    expect((await call('admin', 'PUT', '/providers/keyless/credential', { api_key: '' })).json.error).toMatchObject({ code: 'invalid_request', param: 'api_key' });
  });

  it('respects roles and tenant scope', async () => {
    const scoped = await call('acmeAdmin', 'GET', '/tenants');
    expect(scoped.json.data.map((t: { id: string }) => t.id)).toEqual(['acme']);
    expect((await call('acmeAdmin', 'GET', '/tenants/globex')).status).toBe(404);
    expect((await call('acmeAdmin', 'GET', '/tenants/initech/teams')).status).toBe(404);
    expect((await call('acmeAdmin', 'POST', '/keys', { tenant: 'globex', agent: 'runner' })).status).toBe(404);
    expect((await call('acmeAdmin', 'POST', '/tenants', { id: 'mine' })).status).toBe(403);
    expect((await call('acmeAdmin', 'PUT', '/models/gpt-z', { provider: 'fake-openai' })).status).toBe(403);
    expect((await call('acmeAdmin', 'GET', '/keys')).json.data.every((k: { tenant: string }) => k.tenant === 'acme')).toBe(true);
    const own = await call('acmeAdmin', 'POST', '/tenants/acme/teams/ops/agents', { id: 'scoped-agent' });
    expect(own.status).toBe(201);
    expect((await call('reviewer', 'POST', '/keys', { tenant: 'acme', agent: 'bot' })).status).toBe(403);
    expect((await call('auditor', 'GET', '/tenants')).status).toBe(403);
    expect((await call('auditor', 'GET', '/providers')).status).toBe(200);
  });

  it('lists the endpoints in the OpenAPI document', async () => {
    const doc = (await call('admin', 'GET', '/openapi.json')).json;
    for (const path of ['/tenants', '/tenants/{tenant}/teams/{team}/agents', '/keys/{id}/rotate', '/providers/{name}/credential', '/models/{model}', '/aliases', '/tenants/{tenant}/budget', '/tenants/{tenant}/rate-limits', '/config/reload']) {
      expect(Object.keys(doc.paths)).toContain(`/admin/v1${path}`);
    }
  });
});

describe('provider credentials without a master key', () => {
  it('refuses clearly to store one (503 master_key_missing)', async () => {
    const plain = await startTestGateway(baseConfig(upstream.baseUrl, ADMIN_TOKENS_YAML));
    try {
      const res = await fetch(`${plain.url}/admin/v1/providers/keyless/credential`, { method: 'PUT', headers: { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ api_key: 'sk-never-stored-0123456789' }) });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('master_key_missing');
      expect(body.error.message).toMatch(/OMEGA_MASTER_KEY/);
      const rows = await sql`select * from provider_credentials`.execute(plain.db);
      expect(rows.rows).toHaveLength(0);
    } finally {
      await plain.stop();
    }
  });
});
