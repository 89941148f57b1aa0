/**
 * A real OpenID provider (the `oidc-provider` package) on 127.0.0.1 for sign-in tests: one
 * confidential client, accounts whose claims the test chooses, and its development login and
 * consent pages, which `signInAtProvider` fills in like a browser would (cookies, redirects, forms).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { request } from 'undici';

export interface TestAccount {
  email?: string;
  name?: string;
  groups?: string[];
  tenant?: string;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  close(): Promise<void>;
}

export const CLIENT_ID = 'omega-console';
export const CLIENT_SECRET = 'test-console-client-secret-0123456789';

/**
 * Starts the provider. `accounts` maps a login name (the `sub`) to its claims; `redirectUri` is
 * the one callback registered for the client.
 */
export async function startOidcProvider(accounts: Record<string, TestAccount>, redirectUri: string): Promise<TestOidcProvider> {
  let handler: RequestListener | undefined;
  const server: Server = createServer((req, res) => handler!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    // Custom scopes carrying the role and tenant claims, as a corporate provider would.
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'], tenant: ['tenant'] },
    cookies: { keys: ['test-provider-cookie-key-0123456789'] },
    pkce: { required: () => true },
    async findAccount(_ctx, sub) {
      const account = accounts[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, ...(account.email ? { email: account.email, email_verified: true } : {}), ...(account.name ? { name: account.name } : {}), ...(account.groups ? { groups: account.groups } : {}), ...(account.tenant ? { tenant: account.tenant } : {}) };
        },
      };
    },
  });
  // The development interactions are for tests like this one; they warn once on the console.
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
  handler = provider.callback();
  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Plays the browser at the provider: from the authorization URL, through its login form (as
 * `login`) and consent form, to the redirect back to the client. Returns that redirect URL
 * (carrying `code` and `state`, or `error`).
 */
export async function signInAtProvider(authorizationUrl: string, login: string, redirectUri: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = new URL(authorizationUrl);
  let method: 'GET' | 'POST' = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 20; step++) {
    if (method === 'GET' && url.href.startsWith(redirectUri)) return url;
    const res = await request(url, {
      method,
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const text = await res.body.text();
    if (res.statusCode >= 300 && res.statusCode < 400) {
      url = new URL(String(res.headers.location), url);
      method = 'GET';
      body = undefined;
      continue;
    }
    if (res.statusCode !== 200) throw new Error(`the provider answered ${res.statusCode} at ${url.pathname}: ${text.slice(0, 300)}`);
    // A login or consent form: post it as a user would.
    const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(text)?.[1];
    const prompt = /name="prompt" value="(login|consent)"/.exec(text)?.[1];
    if (!action || !prompt) throw new Error(`no login or consent form at ${url.pathname}`);
    url = new URL(action.replaceAll('&amp;', '&'), url);
    method = 'POST';
    body = prompt === 'login' ? new URLSearchParams({ prompt, login, password: 'any' }).toString() : new URLSearchParams({ prompt }).toString();
  }
  throw new Error('the provider never redirected back to the client');
}
