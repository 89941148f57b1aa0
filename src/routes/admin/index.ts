/**
 * The admin API under /admin: every route requires one of the configured admin tokens
 * (`admin.tokens`); the token's id is the actor recorded for what it does (e.g. the reviewer).
 * Admin errors use the same OpenAI error shape as the proxy. Wrong tokens are throttled per client
 * IP and token prefix (429 too_many_auth_failures), like API keys.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../../app.js';
import { hashApiKey } from '../../auth/api-keys.js';
import type { EdgeGuard } from '../../edge/guard.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin token's id, set by the admin auth hook. */
    adminActor: string | null;
  }
}

export type AdminRoutes = (app: FastifyInstance, deps: GatewayDeps) => void;

/**
 * Recognises the configured admin tokens: returns the id of the token presented as
 * `Authorization: Bearer …`, or null. Hashes are compared in constant time.
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

export function adminApi(app: FastifyInstance, deps: GatewayDeps, edge: EdgeGuard, routes: AdminRoutes[]): void {
  const actorOf = adminTokens(deps.config);
  const none = deps.config.admin.tokens.length === 0;
  app.decorateRequest('adminActor', null);
  app.register(
    async (admin) => {
      // Throttled like API keys; a refusal is counted and audited by sample.
      admin.addHook('onRequest', async (request: FastifyRequest) => {
        request.adminActor = edge.admin(request, actorOf, none ? 'The admin API is disabled: no admin.tokens are configured.' : undefined);
      });
      for (const register of routes) register(admin, deps);
    },
    { prefix: '/admin' },
  );
}
