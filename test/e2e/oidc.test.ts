/**
 * Console sign-in through OpenID Connect, end to end in Chromium: a real OpenID provider
 * (`oidc-provider`, test/support/oidc-provider.ts) on loopback, the gateway configured with it,
 * and a browser that clicks "Sign in with …", logs in at the provider, consents, and lands in the
 * console with the role and tenant scope its claims map to. A user whose claims map to no role
 * is turned away with a page saying why.
 */
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { accessibilityProblems, HAVE_CHROMIUM, LAPTOP, launchChromium, MUST_RUN, screenshot } from '../support/browser.js';
import { ensureConsoleBuilt } from '../support/console-build.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';

/** A free loopback port: the gateway's URL is in its own config (the OIDC redirect URI). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(upstream: string, idp: TestOidcProvider): string {
  return `
storage:
  url: sqlite://\${DATA_DIR}/omega.db
admin:
  tokens:
    - { id: root, token: "adm_e2e_oidc_root_token_0123456789ab" }
  oidc:
    issuer: "${idp.issuer}"
    client_id: "${idp.clientId}"
    client_secret: "${idp.clientSecret}"
    redirect_uri: "${idp.redirectUri}"
    scopes: [openid, email, profile, groups, tenant]
    name: Test SSO
    role_claim: groups
    roles: { omega-admins: admin, omega-reviewers: reviewer }
    tenant_claim: tenant
providers:
  fake-openai: { type: openai, base_url: "${upstream}", api_key: "${FAKE_UPSTREAM_KEY}" }
models:
  gpt-test: { provider: fake-openai }
tenants:
  acme:
    models: [gpt-test]
`;
}

const run = HAVE_CHROMIUM || MUST_RUN;
let upstream: FakeOpenAI;
let idp: TestOidcProvider;
let gw: TestGateway;
let browser: Browser;

describe.skipIf(!run)('console sign-in with OpenID Connect (Chromium)', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    await ensureConsoleBuilt();
    upstream = await startFakeOpenAI();
    const port = await freePort();
    idp = await startOidcProvider(
      {
        ada: { email: 'ada@example.com', name: 'Ada Admin', groups: ['staff', 'omega-admins'], tenant: '*' },
        rex: { email: 'rex@example.com', name: 'Rex Reviewer', groups: ['omega-reviewers'], tenant: 'acme' },
        eve: { email: 'eve@example.com', name: 'Eve Nobody', groups: ['staff'], tenant: 'acme' },
      },
      `http://127.0.0.1:${port}/console/auth/oidc/callback`,
    );
    gw = await startTestGateway(config(upstream.baseUrl, idp), {}, { port });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await idp?.close();
    await upstream?.close();
  });

  /** From the console's sign-in page through the provider's login and consent pages. */
  async function signInAs(login: string) {
    const context = await browser.newContext({ viewport: LAPTOP });
    const page = await context.newPage();
    await page.goto(`${gw.url}/console/`);
    const button = page.getByRole('link', { name: 'Sign in with Test SSO' });
    await button.waitFor();
    await button.click();
    // The provider's development login form, then its consent form.
    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.locator('input[name=login]').fill(login);
    await page.locator('input[name=password]').fill('any');
    await page.locator('button[type=submit]').click();
    await page.locator('button[type=submit]').filter({ hasText: /continue/i }).click();
    await page.waitForURL((url) => url.origin === gw.url);
    return { context, page };
  }

  it('offers the provider on the sign-in page', async () => {
    const context = await browser.newContext({ viewport: LAPTOP });
    const page = await context.newPage();
    await page.goto(`${gw.url}/console/`);
    await page.getByRole('link', { name: 'Sign in with Test SSO' }).waitFor();
    expect(await page.getByRole('link', { name: 'Sign in with Test SSO' }).getAttribute('href')).toBe('/console/auth/oidc/login');
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'sign-in-oidc');
    await context.close();
  });

  it('signs an admin in through the provider, with the role its groups map to', async () => {
    const { context, page } = await signInAs('ada');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const who = await page.locator('.whoami').textContent();
    expect(who).toContain('admin');
    expect(who).toMatch(/ada@example\.com|Ada Admin/);
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).toEqual(expect.arrayContaining(['Overview', 'Review queue', 'Tenants & keys', 'Policies']));
    const cookie = (await context.cookies()).find((c) => c.name === 'omega_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');
    await context.close();
  });

  it('signs a tenant-scoped reviewer in to the review queue only', async () => {
    const { context, page } = await signInAs('rex');
    await page.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['Review queue']);
    expect(await page.locator('.whoami').textContent()).toContain('tenant acme');
    await context.close();
  });

  it('turns away a user whose claims map to no role, saying why', async () => {
    const { context, page } = await signInAs('eve');
    await page.getByRole('heading', { name: 'No access to the console' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('no console role');
    expect((await context.cookies()).find((c) => c.name === 'omega_session')).toBeUndefined();
    await context.close();
  });
});
