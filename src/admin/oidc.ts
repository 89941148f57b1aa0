/**
 * OpenID Connect sign-in for the console (authorization code + PKCE S256, state and nonce) with
 * openid-client, and the mapping of a user's claims to an admin principal (`admin.oidc`).
 *
 * The login's secrets (PKCE verifier, state, nonce) travel in a short-lived, http-only cookie
 * signed with a key derived from the client secret, so the callback may reach any replica that
 * shares the configuration. A public client (no secret) signs with a per-process key instead.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { fastifyCookie } from '@fastify/cookie';
import * as client from 'openid-client';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import type { AdminPrincipal, AdminRole } from './principal.js';

export type OidcSettings = NonNullable<GatewayConfig['admin']['oidc']>;

/** What the login hands to its callback (inside the signed cookie). */
export interface OidcTransaction {
  state: string;
  nonce: string;
  verifier: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export const TRANSACTION_COOKIE = 'omega_oidc';
/** A login must come back within this long. */
export const TRANSACTION_TTL_MS = 10 * 60_000;
/** Roles in the order a user mapped to several gets them. */
const ROLE_ORDER: readonly AdminRole[] = ['admin', 'reviewer', 'auditor'];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why a user cannot sign in (shown to them): no access (403), or a failed sign-in (401). */
export class SignInRefused extends Error {
  constructor(
    message: string,
    readonly code: 'admin_forbidden' | 'signin_failed' = 'signin_failed',
  ) {
    super(message);
  }
}

/**
 * Maps ID token (and userinfo) claims to a principal per `admin.oidc`, or throws SignInRefused
 * naming what is missing. The id is the e-mail when present, else the subject.
 */
export function principalFromClaims(claims: Record<string, unknown>, settings: OidcSettings): AdminPrincipal {
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  if (!sub) throw new SignInRefused('The identity provider returned no subject (sub).');
  const email = typeof claims.email === 'string' && claims.email && claims.email_verified !== false ? claims.email : undefined;
  const values = asStrings(claimAt(claims, settings.role_claim));
  const mapped = new Set(values.flatMap((v) => (Object.hasOwn(settings.roles, v) ? [settings.roles[v]!] : [])));
  const role = ROLE_ORDER.find((r) => mapped.has(r)) ?? settings.default_role;
  if (!role) {
    throw new SignInRefused(
      `Your account (${email ?? sub}) has no console role: none of its "${settings.role_claim}" values (${values.length ? values.join(', ') : 'none'}) maps to a role in admin.oidc.roles. Ask an administrator for access.`,
      'admin_forbidden',
    );
  }
  let tenant: string | null = null;
  if (settings.tenant_claim) {
    const tenants = asStrings(claimAt(claims, settings.tenant_claim));
    if (tenants.length !== 1) {
      throw new SignInRefused(`Your account (${email ?? sub}) has ${tenants.length ? 'several values' : 'no value'} in the "${settings.tenant_claim}" claim, which names the one tenant you may see (or * for all).`, 'admin_forbidden');
    }
    tenant = tenants[0] === '*' ? null : tenants[0]!;
  }
  const name = typeof claims.name === 'string' && claims.name ? claims.name : undefined;
  return { id: email ?? sub, kind: 'user', role, tenant, ...(name ? { name } : {}) };
}

/** Whether the claims lack something the mapping reads (then userinfo is asked too). */
export function claimsIncomplete(claims: Record<string, unknown>, settings: OidcSettings): boolean {
  return claimAt(claims, settings.role_claim) === undefined || (settings.tenant_claim !== undefined && claimAt(claims, settings.tenant_claim) === undefined);
}

/** A claim by name, or by dotted path into nested objects (`realm_access.roles`); a literal name with dots wins. */
function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let at: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return value ? [value] : [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

/** The OIDC client: discovery (once, retried after a failure), authorization URLs, code exchange. */
export class OidcClient {
  private configuration: Promise<client.Configuration> | undefined;
  private readonly signingKey: Buffer;

  constructor(readonly settings: OidcSettings) {
    this.signingKey = settings.client_secret
      ? createHmac('sha256', settings.client_secret).update('omega console oidc transaction').digest()
      : randomBytes(32);
  }

  /** Starts a login: the provider URL to send the browser to, and the transaction cookie's value. */
  async login(now = Date.now()): Promise<{ url: URL; cookie: string }> {
    const config = await this.config();
    const tx: OidcTransaction = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(), expiresAt: now + TRANSACTION_TTL_MS };
    const scopes = new Set(['openid', ...this.settings.scopes]);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirect_uri,
      scope: [...scopes].join(' '),
      state: tx.state,
      nonce: tx.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(tx.verifier),
      code_challenge_method: 'S256',
    });
    return { url, cookie: this.seal(tx) };
  }

  /**
   * Completes a login: checks the transaction, exchanges the code (state, PKCE, ID token
   * signature, audience, issuer and nonce checked by openid-client), reads userinfo when the ID
   * token lacks a claim the mapping needs, and maps the claims. Throws SignInRefused for the user.
   */
  async callback(query: URLSearchParams, sealed: string | undefined, now = Date.now()): Promise<AdminPrincipal> {
    const providerError = query.get('error');
    if (providerError) {
      const description = query.get('error_description');
      throw new SignInRefused(`The identity provider refused the sign-in: ${providerError}${description ? ` (${description})` : ''}.`);
    }
    const tx = sealed === undefined ? undefined : this.unseal(sealed);
    if (!tx) throw new SignInRefused('This sign-in was not started here, or its cookie was lost: start again from the console.');
    if (tx.expiresAt <= now) throw new SignInRefused('This sign-in took longer than 10 minutes: start again from the console.');
    if (query.get('state') !== tx.state) throw new SignInRefused('The sign-in response does not match the sign-in this browser started (state): start again from the console.');
    const config = await this.config();
    const current = new URL(this.settings.redirect_uri);
    for (const [k, v] of query) current.searchParams.append(k, v);
    let claims: Record<string, unknown>;
    let accessToken: string;
    try {
      const tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: tx.verifier, expectedState: tx.state, expectedNonce: tx.nonce, idTokenExpected: true });
      claims = { ...tokens.claims() };
      accessToken = tokens.access_token;
    } catch (err) {
      throw new SignInRefused(`The identity provider's answer was refused: ${describe(err)}.`);
    }
    if (claimsIncomplete(claims, this.settings) && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await client.fetchUserInfo(config, accessToken, claims.sub as string);
        claims = { ...info, ...claims };
      } catch (err) {
        throw new SignInRefused(`The identity provider's userinfo could not be read: ${describe(err)}.`);
      }
    }
    return principalFromClaims(claims, this.settings);
  }

  private config(): Promise<client.Configuration> {
    if (!this.configuration) {
      const { issuer, client_id, client_secret } = this.settings;
      const url = new URL(issuer);
      // Plain http only for a provider on this machine (tests, local development).
      const insecure = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
      this.configuration = client
        .discovery(url, client_id, client_secret, client_secret ? client.ClientSecretBasic(client_secret) : client.None(), { timeout: 10, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) })
        .catch((err: unknown) => {
          this.configuration = undefined; // the next login tries again
          throw new GatewayError('upstream_unreachable', `The OpenID provider at ${issuer} could not be used: ${describe(err)}.`, { cause: err });
        });
    }
    return this.configuration;
  }

  private seal(tx: OidcTransaction): string {
    return fastifyCookie.sign(Buffer.from(JSON.stringify(tx)).toString('base64url'), this.signingKey);
  }

  private unseal(value: string): OidcTransaction | undefined {
    const { valid, value: payload } = fastifyCookie.unsign(value, this.signingKey);
    if (!valid || !payload) return undefined;
    try {
      const tx = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as OidcTransaction;
      return typeof tx.state === 'string' && typeof tx.nonce === 'string' && typeof tx.verifier === 'string' && typeof tx.expiresAt === 'number' ? tx : undefined;
    } catch {
      return undefined;
    }
  }
}

/** An error's message, without secrets (openid-client's messages name checks, not values). */
function describe(err: unknown): string {
  const e = err as { message?: string; code?: string; error?: string; error_description?: string };
  if (e.error) return `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
  return (e.message ?? String(err)).slice(0, 300);
}
