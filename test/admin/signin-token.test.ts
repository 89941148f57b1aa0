/**
 * Console sign-in with an admin token, against a real gateway: the cookie's attributes, the
 * session resolving to the token's principal on /admin/v1, CSRF on writes, sign-out, and refusal
 * of forged, expired and signed-out sessions.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { TENANT_KEY } from '../support/gateway.js';
import { startAdminHarness, TOKENS, type AdminHarness } from './harness.js';

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminHarness();
});
afterAll(async () => h?.stop());

interface Answer {
  status: number;
  json: any;
  setCookie: string[];
}

async function call(method: 'GET' | 'POST', path: string, options: { cookie?: string; csrf?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${h.gw.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.body.text();
  const raw = res.headers['set-cookie'];
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined, setCookie: Array.isArray(raw) ? raw : raw ? [raw] : [] };
}

/** Signs in with a token; returns the Cookie header to send and the CSRF token. */
async function signIn(token: string): Promise<{ cookie: string; csrf: string; answer: Answer }> {
  const answer = await call('POST', '/console/auth/token', { body: { token } });
  expect(answer.status).toBe(200);
  const session = answer.setCookie.find((c) => c.startsWith('omega_session='))!;
  return { cookie: session.split(';')[0]!, csrf: answer.json.csrf_token, answer };
}

describe('POST /console/auth/token', () => {
  it('sets an http-only, SameSite=Lax session cookie and returns the principal and CSRF token', async () => {
    const { answer, cookie, csrf } = await signIn(TOKENS.admin);
    expect(answer.json).toEqual({ principal: { id: 'root', kind: 'token', role: 'admin', tenant: null }, csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const attributes = answer.setCookie[0]!.split(';').map((a) => a.trim());
    expect(attributes[0]).toMatch(/^omega_session=[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/', `Max-Age=${12 * 3600}`]));
    // Plain http from loopback: the one case without Secure (a browser would drop it otherwise).
    expect(attributes).not.toContain('Secure');
    // The session resolves to the token's principal on the admin API, with the same CSRF token.
    const session = await call('GET', '/admin/v1/session', { cookie });
    expect(session.status).toBe(200);
    expect(session.json).toEqual({ principal: { id: 'root', kind: 'token', role: 'admin', tenant: null }, csrf_token: csrf });
  });

  it('marks the cookie Secure for any client not on loopback', async () => {
    const res = await h.gw.app.inject({ method: 'POST', url: '/console/auth/token', remoteAddress: '203.0.113.7', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: TOKENS.auditor }) });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).toMatch(/^omega_session=[^;]+;.*; Secure/);
    expect(String(res.headers['set-cookie'])).toContain('HttpOnly');
  });

  it("carries a scoped token's role and tenant into the session", async () => {
    const { cookie } = await signIn(TOKENS.acmeReviewer);
    expect((await call('GET', '/admin/v1/session', { cookie })).json.principal).toEqual({ id: 'ada', kind: 'token', role: 'reviewer', tenant: 'acme' });
    // A reviewer's session may not read health (admin and auditor only).
    const refused = await call('GET', '/admin/v1/health', { cookie });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('admin_forbidden');
  });

  it('refuses wrong tokens, tenant API keys and bad bodies without setting a cookie', async () => {
    for (const token of ['adm_wrong_token_0123456789abcdefghijk', TENANT_KEY]) {
      const res = await call('POST', '/console/auth/token', { body: { token } });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: { message: 'Incorrect admin token.', type: 'authentication_error', param: null, code: 'admin_unauthenticated' } });
      expect(res.setCookie).toEqual([]);
    }
    const bad = await call('POST', '/console/auth/token', { body: { secret: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'invalid_request', param: 'token' });
  });
});

describe('sessions on /admin/v1', () => {
  it('refuses a forged or malformed session cookie (401)', async () => {
    for (const value of [randomBytes(32).toString('base64url'), 'not-a-session', '']) {
      const res = await call('GET', '/admin/v1/session', { cookie: `omega_session=${value}` });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('admin_unauthenticated');
    }
  });

  it('a bearer token still wins over a stale cookie', async () => {
    const res = await request(`${h.gw.url}/admin/v1/session`, { headers: { authorization: `Bearer ${TOKENS.auditor}`, cookie: `omega_session=${randomBytes(32).toString('base64url')}` } });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as any).principal.id).toBe('audrey');
  });
});

describe('POST /console/auth/logout', () => {
  it('needs the CSRF token (403 csrf_failed when missing or wrong), then ends the session at once', async () => {
    const { cookie, csrf } = await signIn(TOKENS.admin);
    for (const wrong of [undefined, 'x'.repeat(43), csrf.slice(0, -1)]) {
      const res = await call('POST', '/console/auth/logout', { cookie, csrf: wrong });
      expect(res.status).toBe(403);
      expect(res.json.error).toMatchObject({ code: 'csrf_failed', type: 'permission_error' });
    }
    expect((await call('GET', '/admin/v1/session', { cookie })).status).toBe(200);
    const out = await call('POST', '/console/auth/logout', { cookie, csrf });
    expect(out.status).toBe(204);
    expect(out.setCookie[0]).toMatch(/^omega_session=;/);
    expect(out.setCookie[0]).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    const after = await call('GET', '/admin/v1/session', { cookie });
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('admin_unauthenticated');
    // Gone from the store too (only its hash was there).
    const sessionId = cookie.split('=')[1]!;
    expect(JSON.stringify(await h.gw.db.selectFrom('admin_sessions').selectAll().execute())).not.toContain(sessionId);
  });

  it('without a session just clears the cookie', async () => {
    const res = await call('POST', '/console/auth/logout');
    expect(res.status).toBe(204);
  });
});

describe('GET /console/auth/config', () => {
  it('says OIDC is off when admin.oidc is unset, and its login is 404', async () => {
    expect((await call('GET', '/console/auth/config')).json).toEqual({ oidc: { enabled: false, name: null } });
    const login = await call('GET', '/console/auth/oidc/login');
    expect(login.status).toBe(404);
    expect(login.json.error.code).toBe('not_found');
  });
});

describe('expiry', () => {
  it('refuses a session past its absolute timeout, however active', async () => {
    const short = await startAdminHarness('  sessions: { idle_timeout: 10s, absolute_timeout: 1500ms, cache_ttl: 100ms }\n');
    try {
      const res = await request(`${short.gw.url}/console/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKENS.admin }) });
      const cookie = String(res.headers['set-cookie']).split(';')[0]!;
      await res.body.dump();
      const status = async () => {
        const r = await request(`${short.gw.url}/admin/v1/session`, { headers: { cookie } });
        await r.body.dump();
        return r.statusCode;
      };
      expect(await status()).toBe(200);
      await new Promise((r) => setTimeout(r, 1600));
      expect(await status()).toBe(401);
    } finally {
      await short.stop();
    }
  });
});
