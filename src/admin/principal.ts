/**
 * Who is calling the admin API. Every /admin/v1 route runs for an AdminPrincipal (a token from
 * `admin.tokens`, or a signed-in user): its role says what it may do, its tenant (null = all)
 * what it may see. Tenant keys (omk_…) are never principals here.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { hashApiKey } from '../auth/api-keys.js';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';

export type AdminRole = 'admin' | 'reviewer' | 'auditor';

export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'reviewer', 'auditor'];

export interface AdminPrincipal {
  id: string; // token id, or the OIDC subject / e-mail for users
  kind: 'token' | 'user';
  role: AdminRole;
  tenant: string | null; // null = all tenants
  name?: string; // display name
}

/** Returns the principal for a request, null when these credentials are absent; throws GatewayError when present but invalid. */
export type PrincipalResolver = (request: FastifyRequest) => AdminPrincipal | null | Promise<AdminPrincipal | null>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller of an /admin/v1 route (set before any handler runs; 401 otherwise). */
    admin: AdminPrincipal;
    /** Set by a session resolver (sign-in): the CSRF token GET /session hands to the console. */
    adminCsrfToken: string | null;
  }
}

/**
 * Recognises the configured admin tokens by their sha256, compared in constant time: returns
 * the token's principal, or null for anything else (tenant keys included).
 */
export function adminTokenLookup(config: Pick<GatewayConfig, 'admin'>): (presented: string) => AdminPrincipal | null {
  const tokens = config.admin.tokens.map((t) => ({
    hash: Buffer.from(t.hash ?? hashApiKey(t.token!)),
    principal: { id: t.id, kind: 'token', role: t.role, tenant: t.tenant ?? null } satisfies AdminPrincipal,
  }));
  return (presented) => {
    const hash = Buffer.from(hashApiKey(presented));
    // Every configured token is compared, so the time taken does not say which one came close.
    let found: AdminPrincipal | null = null;
    for (const t of tokens) if (t.hash.length === hash.length && timingSafeEqual(t.hash, hash)) found = t.principal;
    return found;
  };
}

/** The bearer token of `Authorization: Bearer …`, or undefined. */
export function bearerOf(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
}

// ---- Tenant scope. Another tenant's objects read as absent (404), so their existence does not leak.

export function notFound(what: string): GatewayError {
  return new GatewayError('not_found', `No ${what}.`);
}

/** Whether the principal may see an object of `tenant` (null: a gateway-wide object, visible only to unscoped principals). */
export function canSee(principal: AdminPrincipal, tenant: string | null): boolean {
  return principal.tenant === null || principal.tenant === tenant;
}

/** Throws 404 (`what` names the object) unless the principal may see an object of `tenant`. */
export function assertVisible(principal: AdminPrincipal, tenant: string | null, what: string): void {
  if (!canSee(principal, tenant)) throw notFound(what);
}

/**
 * The tenant a list must be filtered to: the principal's own tenant when it is scoped (asking for
 * another one is a 404, as for an object), else the requested one (undefined = all).
 */
export function listTenant(principal: AdminPrincipal, requested: string | undefined): string | undefined {
  if (principal.tenant === null) return requested;
  if (requested !== undefined && requested !== principal.tenant) throw notFound(`tenant "${requested}"`);
  return principal.tenant;
}
