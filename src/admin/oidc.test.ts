/** Claims → principal mapping (admin.oidc): roles from a claim (flat or nested), tenant scope, refusals. */
import { describe, expect, it } from 'vitest';
import { AdminOidcSchema } from '../config/schema.js';
import { claimsIncomplete, principalFromClaims, SignInRefused, type OidcSettings } from './oidc.js';

const settings = (extra: Record<string, unknown> = {}): OidcSettings =>
  AdminOidcSchema.parse({
    issuer: 'https://id.example.com',
    client_id: 'console',
    redirect_uri: 'https://gw.example.com/console/auth/oidc/callback',
    roles: { 'omega-admins': 'admin', 'omega-reviewers': 'reviewer', 'omega-auditors': 'auditor' },
    ...extra,
  });

function refusal(fn: () => unknown): SignInRefused {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignInRefused) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('principalFromClaims', () => {
  it.each([
    [{ roles: 'omega-reviewers' }, 'reviewer'],
    [{ roles: ['staff', 'omega-auditors'] }, 'auditor'],
    [{ roles: ['omega-auditors', 'omega-reviewers'] }, 'reviewer'],
    [{ roles: ['omega-reviewers', 'omega-admins', 'omega-auditors'] }, 'admin'],
  ])('maps %j to %s (the strongest mapped role)', (claims, role) => {
    expect(principalFromClaims({ sub: 'u1', ...claims }, settings()).role).toBe(role);
  });

  it('names the user by verified e-mail, else by subject, with the display name', () => {
    expect(principalFromClaims({ sub: 'u1', email: 'a@x.test', name: 'A', roles: 'omega-admins' }, settings())).toEqual({ id: 'a@x.test', kind: 'user', role: 'admin', tenant: null, name: 'A' });
    expect(principalFromClaims({ sub: 'u1', email: 'a@x.test', email_verified: false, roles: 'omega-admins' }, settings()).id).toBe('u1');
  });

  it('reads nested claims by dotted path (Keycloak realm roles)', () => {
    const s = settings({ role_claim: 'realm_access.roles', tenant_claim: 'org.tenant' });
    expect(principalFromClaims({ sub: 'u1', realm_access: { roles: ['omega-reviewers'] }, org: { tenant: 'acme' } }, s)).toMatchObject({ role: 'reviewer', tenant: 'acme' });
    // A literal claim name containing dots wins over the path.
    expect(principalFromClaims({ sub: 'u1', 'realm_access.roles': 'omega-admins', org: { tenant: '*' } }, s)).toMatchObject({ role: 'admin', tenant: null });
  });

  it('refuses a user whose values map to no role, naming them and their values, unless default_role is set', () => {
    const err = refusal(() => principalFromClaims({ sub: 'u1', email: 'bob@x.test', roles: ['staff', 'sales'] }, settings()));
    expect(err.code).toBe('admin_forbidden');
    expect(err.user).toBe('bob@x.test');
    expect(err.message).toContain('staff, sales');
    expect(refusal(() => principalFromClaims({ sub: 'u1' }, settings())).message).toContain('(none)');
    expect(principalFromClaims({ sub: 'u1', roles: 'staff' }, settings({ default_role: 'auditor' })).role).toBe('auditor');
  });

  it('does not map inherited object properties (a claim value of "constructor" or "__proto__")', () => {
    expect(refusal(() => principalFromClaims({ sub: 'u1', roles: ['constructor', '__proto__', 'toString'] }, settings())).code).toBe('admin_forbidden');
  });

  it('with tenant_claim: scopes to the one tenant, "*" for all, refuses none or several', () => {
    const s = settings({ tenant_claim: 'tenant' });
    expect(principalFromClaims({ sub: 'u1', roles: 'omega-reviewers', tenant: 'acme' }, s).tenant).toBe('acme');
    expect(principalFromClaims({ sub: 'u1', roles: 'omega-reviewers', tenant: ['globex'] }, s).tenant).toBe('globex');
    expect(principalFromClaims({ sub: 'u1', roles: 'omega-admins', tenant: '*' }, s).tenant).toBeNull();
    expect(refusal(() => principalFromClaims({ sub: 'u1', roles: 'omega-admins' }, s)).code).toBe('admin_forbidden');
    expect(refusal(() => principalFromClaims({ sub: 'u1', roles: 'omega-admins', tenant: ['acme', 'globex'] }, s)).message).toContain('several values');
  });

  it('refuses claims without a subject', () => {
    expect(refusal(() => principalFromClaims({ roles: 'omega-admins' }, settings())).code).toBe('signin_failed');
  });
});

describe('claimsIncomplete', () => {
  it('asks for userinfo when the role or tenant claim is missing from the ID token', () => {
    expect(claimsIncomplete({ sub: 'u1' }, settings())).toBe(true);
    expect(claimsIncomplete({ sub: 'u1', roles: [] }, settings())).toBe(false);
    expect(claimsIncomplete({ sub: 'u1', roles: [] }, settings({ tenant_claim: 'tenant' }))).toBe(true);
  });
});
