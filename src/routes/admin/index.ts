/**
 * The first admin API under /admin (deprecated: /admin/v1 replaces it, see docs/admin-api.md).
 * Its paths keep working for existing scripts, authenticated like /admin/v1 (the same token
 * resolver and throttle) but only for admin-role tokens of all tenants, since these handlers do
 * not know scopes. Every answer carries `Deprecation: true` and a `Link` to its successor.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../../app.js';
import { hashApiKey } from '../../auth/api-keys.js';
import type { EdgeGuard } from '../../edge/guard.js';
import { contextOf } from '../../edge/request-context.js';
import { GatewayError } from '../../errors.js';
import { tokenResolver } from '../../admin/api.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin token's id, set by the admin auth hook. */
    adminActor: string | null;
  }
}

export type AdminRoutes = (app: FastifyInstance, deps: GatewayDeps) => void;

/**
 * Recognises the configured admin tokens of role `admin` and all tenants (for /readyz detail and
 * /metrics): returns the id of the token presented as `Authorization: Bearer …`, or null.
 * Hashes are compared in constant time.
 */
export function adminTokens(config: GatewayDeps['config']): (authorization: string | undefined) => string | null {
  // Only unscoped admin-role tokens: reviewers, auditors and tenant-scoped tokens use /admin/v1, which enforces their limits.
  const tokens = config.admin.tokens.filter((t) => t.role === 'admin' && t.tenant === undefined).map((t) => ({ id: t.id, hash: Buffer.from(t.hash ?? hashApiKey(t.token!)) }));
  return (authorization) => {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return null;
    const presented = Buffer.from(hashApiKey(m[1]!));
    return tokens.find((t) => t.hash.length === presented.length && timingSafeEqual(t.hash, presented))?.id ?? null;
  };
}

/** Old path prefix → its /admin/v1 successor, for the Link header. */
const SUCCESSOR: [RegExp, string][] = [
  [/^\/admin\/reviews/, '/admin/v1/reviews'],
  [/^\/admin\/audit\/verify/, '/admin/v1/audit/verify'],
  [/^\/admin\/audit/, '/admin/v1/audit'],
  [/^\/admin\/spend/, '/admin/v1/spend'],
  [/^\/admin\/alerts/, '/admin/v1/alerts'],
  [/^\/admin\/policies/, '/admin/v1/policies'],
];

export function adminApi(app: FastifyInstance, deps: GatewayDeps, edge: EdgeGuard, routes: AdminRoutes[]): void {
  const resolve = tokenResolver(deps, edge);
  app.decorateRequest('adminActor', null);
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request: FastifyRequest, reply) => {
        const path = request.url.split('?')[0]!;
        reply.header('deprecation', 'true');
        const successor = SUCCESSOR.find(([re]) => re.test(path))?.[1];
        if (successor) reply.header('link', `<${successor}>; rel="successor-version"`);
        try {
          const principal = await resolve(request);
          if (!principal) throw new GatewayError('admin_unauthenticated', 'Missing admin token (Authorization: Bearer).');
          if (principal.role !== 'admin' || principal.tenant !== null) throw new GatewayError('admin_forbidden', 'The deprecated /admin paths take admin-role tokens of all tenants only; use /admin/v1.');
          request.admin = principal;
          request.adminActor = principal.id;
        } catch (err) {
          request.ctx ??= contextOf(request);
          throw err;
        }
      });
      for (const register of routes) register(admin, deps);
    },
    { prefix: '/admin' },
  );
}
