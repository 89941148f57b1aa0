/** The admin API's frame: principals from tokens (roles, scope), 401/403/400 in the OpenAI error shape, GET /session, /health and the OpenAPI document. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_TENANT_KEY, TENANT_KEY } from '../support/gateway.js';
import { startAdminHarness, TOKENS, type AdminHarness } from './harness.js';

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminHarness();
});
afterAll(async () => h?.stop());

describe('authentication', () => {
  it('answers 401 admin_unauthenticated without credentials, with a wrong token and with tenant API keys', async () => {
    for (const who of [null, { token: 'adm_wrong_token_0123456789abcdefghij' }, { token: TENANT_KEY }, { token: OTHER_TENANT_KEY }]) {
      const res = await h.call(who, 'GET', '/session');
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: { message: expect.any(String), type: 'authentication_error', param: null, code: 'admin_unauthenticated' } });
    }
  });

});

describe('GET /session', () => {
  it('names the principal with its role and scope', async () => {
    expect((await h.call('admin', 'GET', '/session')).json).toEqual({ principal: { id: 'root', kind: 'token', role: 'admin', tenant: null } });
    expect((await h.call('acmeReviewer', 'GET', '/session')).json).toEqual({ principal: { id: 'ada', kind: 'token', role: 'reviewer', tenant: 'acme' } });
    expect((await h.call('auditor', 'GET', '/session')).json.principal.role).toBe('auditor');
  });
});

describe('GET /health', () => {
  it('shows storage, audit and providers with their circuit state to admins and auditors, not reviewers', async () => {
    const res = await h.call('auditor', 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', storage: { kind: 'sqlite', ok: true }, redis: { configured: false } });
    const fake = res.json.providers.find((p: any) => p.name === 'fake-openai');
    expect(fake.deployments).toContainEqual(expect.objectContaining({ id: 'fake-openai/gpt-upstream', circuit: 'closed' }));
    const refused = await h.call('reviewer', 'GET', '/health');
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: 'admin_forbidden', type: 'permission_error' });
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document listing every route with its roles', async () => {
    const res = await h.call('admin', 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
    expect(res.json.paths['/admin/v1/session'].get['x-roles']).toEqual(['admin', 'reviewer', 'auditor']);
    expect(res.json.paths['/admin/v1/health'].get['x-roles']).toEqual(['admin', 'auditor']);
  });
});

describe('unknown admin paths', () => {
  it('are 404 in the error shape once authenticated', async () => {
    const res = await h.call('admin', 'GET', '/nothing-here');
    expect(res.status).toBe(404);
    expect(TOKENS.admin).toBeTruthy();
  });
});

describe('throttling (last: it blocks this client)', () => {
  it('throttles repeated wrong tokens from one client (429)', async () => {
    let last = 0;
    for (let i = 0; i < 40 && last !== 429; i++) last = (await h.call({ token: `adm_guess_${i}_0123456789abcdefghijklmn` }, 'GET', '/session')).status;
    expect(last).toBe(429);
  });
});
