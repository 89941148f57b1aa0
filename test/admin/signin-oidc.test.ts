/**
 * Console sign-in through OpenID Connect, end to end: a real OpenID provider (oidc-provider) on
 * 127.0.0.1, a real gateway, and the browser's part played with undici (redirects, cookies, the
 * provider's login and consent forms). The gateway's public callback is https://console.example.test
 * (as behind a TLS proxy); the test carries the provider's redirect to the gateway's own address.
 * The provider puts the role and tenant claims in userinfo only (its default), so the gateway's
 * userinfo fallback is exercised too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { signInAtProvider, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { parseConfigText } from '../../src/config/load.js';
import { baseConfig, startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_TOKENS_YAML } from './harness.js';

const REDIRECT_URI = 'https://console.example.test/console/auth/oidc/callback';

let idp: TestOidcProvider;
let upstream: FakeOpenAI;
let gw: TestGateway;
beforeAll(async () => {
  idp = await startOidcProvider(
    {
      alice: { email: 'alice@example.com', name: 'Alice Ådahl', groups: ['staff', 'omega-reviewers'], tenant: 'acme' },
      root: { email: 'root@example.com', groups: ['omega-reviewers', 'omega-admins'], tenant: '*' },
      bob: { email: 'bob@example.com', groups: ['marketing'], tenant: 'acme' },
      carol: { email: 'carol@example.com', groups: ['omega-auditors'] },
    },
    REDIRECT_URI,
  );
  upstream = await startFakeOpenAI();
  // The client secret comes from the environment (\${ENV} interpolation), as in production.
  const env = { OMEGA_TEST_OIDC_SECRET: idp.clientSecret };
  gw = await startTestGateway(baseConfig(upstream.baseUrl, ADMIN_TOKENS_YAML + OIDC_YAML()), env);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
  await idp?.close();
});

const OIDC_YAML = () => `  oidc:
    issuer: "${idp.issuer}"
    client_id: ${idp.clientId}
    client_secret: "\${OMEGA_TEST_OIDC_SECRET}"
    redirect_uri: ${REDIRECT_URI}
    name: Example SSO
    scopes: [openid, email, profile, groups, tenant]
    role_claim: groups
    roles: { omega-admins: admin, omega-reviewers: reviewer, omega-auditors: auditor }
    tenant_claim: tenant
`;

async function gateway(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${gw.url}${path}`, { headers });
  const text = await res.body.text();
  const raw = res.headers['set-cookie'];
  const setCookie = Array.isArray(raw) ? raw : raw ? [raw] : [];
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, location: res.headers.location as string | undefined, setCookie, text, json, contentType: String(res.headers['content-type']) };
}

function cookieNamed(setCookie: string[], name: string): string | undefined {
  return setCookie.find((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`))?.split(';')[0];
}

/** Starts a login at the gateway; returns the provider URL and the transaction cookie. */
async function startLogin() {
  const login = await gateway('/console/auth/oidc/login');
  expect(login.status).toBe(302);
  const transaction = cookieNamed(login.setCookie, 'omega_oidc');
  expect(transaction).toBeDefined();
  return { authorizationUrl: login.location!, transaction: transaction!, setCookie: login.setCookie };
}

/** The provider's redirect back, delivered to the gateway (what the proxy in front of it would do). */
function callbackPath(redirect: URL): string {
  return `${redirect.pathname}${redirect.search}`;
}

describe('OIDC sign-in', () => {
  it('refuses to load a config whose client secret variable is unset', async () => {
    expect(() => parseConfigText(baseConfig(upstream.baseUrl, ADMIN_TOKENS_YAML + OIDC_YAML()), '<inline>', { DATA_DIR: '/tmp' })).toThrow(/admin\.oidc\.client_secret: environment variable OMEGA_TEST_OIDC_SECRET is not set/);
  });

  it('GET /console/auth/config names the provider', async () => {
    expect((await gateway('/console/auth/config')).json).toEqual({ oidc: { enabled: true, name: 'Example SSO' } });
  });

  it('login redirects to the provider with PKCE S256, state and nonce, kept in a signed http-only cookie', async () => {
    const { authorizationUrl, setCookie } = await startLogin();
    const url = new URL(authorizationUrl);
    expect(url.origin).toBe(idp.issuer);
    const p = url.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe(idp.clientId);
    expect(p.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(p.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(p.get('scope')!.split(' ')).toEqual(['openid', 'email', 'profile', 'groups', 'tenant']);
    const attributes = setCookie.find((c) => c.startsWith('omega_oidc='))!.split(';').map((a) => a.trim());
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/console/auth/oidc', 'Max-Age=600']));
    // The verifier is in there, but not readable as such: the cookie is signed, and the challenge differs from anything in it.
    expect(attributes[0]).not.toContain(p.get('code_challenge')!);
  });

  it('signs a mapped user in: session cookie, 302 to /console/, principal with role and tenant from the claims', async () => {
    const { authorizationUrl, transaction } = await startLogin();
    const redirect = await signInAtProvider(authorizationUrl, 'alice', REDIRECT_URI);
    expect(redirect.searchParams.get('code')).toBeTruthy();
    const callback = await gateway(callbackPath(redirect), { cookie: transaction });
    expect(callback.status).toBe(302);
    expect(callback.location).toBe('/console/');
    const session = cookieNamed(callback.setCookie, 'omega_session');
    expect(session).toMatch(/^omega_session=[A-Za-z0-9_-]{43}$/);
    expect(callback.setCookie.find((c) => c.startsWith('omega_session='))).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/);
    // The transaction cookie is cleared: it is single-use.
    expect(callback.setCookie.some((c) => /^omega_oidc=;/.test(c))).toBe(true);

    const who = await gateway('/admin/v1/session', { cookie: session! });
    expect(who.status).toBe(200);
    expect(who.json).toEqual({ principal: { id: 'alice@example.com', kind: 'user', role: 'reviewer', tenant: 'acme', name: 'Alice Ådahl' }, csrf_token: expect.any(String) });
    // A reviewer: no health.
    expect((await gateway('/admin/v1/health', { cookie: session! })).status).toBe(403);

    // The same code cannot be used twice (the transaction cookie is gone, and the provider would refuse it).
    const replay = await gateway(callbackPath(redirect), { cookie: transaction });
    expect(replay.status).toBe(401);
  });

  it('maps several groups to the strongest role, and tenant "*" to all tenants', async () => {
    const { authorizationUrl, transaction } = await startLogin();
    const callback = await gateway(callbackPath(await signInAtProvider(authorizationUrl, 'root', REDIRECT_URI)), { cookie: transaction });
    expect(callback.status).toBe(302);
    const who = await gateway('/admin/v1/session', { cookie: cookieNamed(callback.setCookie, 'omega_session')! });
    expect(who.json.principal).toEqual({ id: 'root@example.com', kind: 'user', role: 'admin', tenant: null });
  });

  it('refuses a callback whose state differs from the one this browser started (no session)', async () => {
    const { authorizationUrl, transaction } = await startLogin();
    const redirect = await signInAtProvider(authorizationUrl, 'alice', REDIRECT_URI);
    redirect.searchParams.set('state', 'an-attackers-state-value-0123456789');
    const callback = await gateway(callbackPath(redirect), { cookie: transaction });
    expect(callback.status).toBe(401);
    expect(callback.json.error).toMatchObject({ code: 'signin_failed', type: 'authentication_error' });
    expect(callback.json.error.message).toContain('state');
    expect(cookieNamed(callback.setCookie, 'omega_session')).toBeUndefined();
  });

  it("refuses a callback without this browser's transaction cookie, or with a tampered one", async () => {
    const { authorizationUrl, transaction } = await startLogin();
    const redirect = await signInAtProvider(authorizationUrl, 'alice', REDIRECT_URI);
    const without = await gateway(callbackPath(redirect));
    expect(without.status).toBe(401);
    expect(without.json.error.code).toBe('signin_failed');
    const [name, value] = transaction.split('=') as [string, string];
    const tampered = await gateway(callbackPath(redirect), { cookie: `${name}=${value.slice(0, -2)}xx` });
    expect(tampered.status).toBe(401);
  });

  it('refuses a user whose claims map to no role: a clear page for the browser, JSON otherwise', async () => {
    const first = await startLogin();
    const json = await gateway(callbackPath(await signInAtProvider(first.authorizationUrl, 'bob', REDIRECT_URI)), { cookie: first.transaction });
    expect(json.status).toBe(403);
    expect(json.json.error).toMatchObject({ code: 'admin_forbidden', type: 'permission_error' });
    expect(json.json.error.message).toContain('bob@example.com');
    expect(json.json.error.message).toContain('marketing');
    expect(cookieNamed(json.setCookie, 'omega_session')).toBeUndefined();

    const second = await startLogin();
    const page = await gateway(callbackPath(await signInAtProvider(second.authorizationUrl, 'bob', REDIRECT_URI)), { cookie: second.transaction, accept: 'text/html,application/xhtml+xml' });
    expect(page.status).toBe(403);
    expect(page.contentType).toContain('text/html');
    expect(page.text).toContain('No access to the console');
    expect(page.text).toContain('has no console role');
    expect(cookieNamed(page.setCookie, 'omega_session')).toBeUndefined();
  });

  it('refuses a user without the tenant claim when tenant_claim is set', async () => {
    const { authorizationUrl, transaction } = await startLogin();
    const callback = await gateway(callbackPath(await signInAtProvider(authorizationUrl, 'carol', REDIRECT_URI)), { cookie: transaction });
    expect(callback.status).toBe(403);
    expect(callback.json.error.message).toContain('"tenant"');
  });

  it("shows the provider's own refusal (error=access_denied)", async () => {
    const { transaction } = await startLogin();
    const callback = await gateway('/console/auth/oidc/callback?error=access_denied&error_description=End-User+aborted+interaction', { cookie: transaction });
    expect(callback.status).toBe(401);
    expect(callback.json.error.message).toContain('access_denied');
  });
});
