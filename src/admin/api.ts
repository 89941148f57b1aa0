/**
 * The admin API under /admin/v1. Every route needs a principal: an admin token
 * (`Authorization: Bearer`, throttled per client IP and token prefix like API keys) or whatever
 * the extra resolvers recognise (the console's session cookie). Routes come from modules that add
 * definitions to one AdminRouter; the OpenAPI document is generated from the same definitions.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../app.js';
import type { EdgeGuard } from '../edge/guard.js';
import { contextOf } from '../edge/request-context.js';
import { GatewayError } from '../errors.js';
import { openApiDocument } from './openapi.js';
import { adminTokenLookup, bearerOf, type AdminPrincipal, type PrincipalResolver } from './principal.js';
import { AdminRouter, ANY_ROLE, defineRoute } from './route.js';
import { z } from 'zod';

export const ADMIN_PREFIX = '/admin/v1';

/** Adds route definitions (e.g. `reviewRoutes`); called once when the app is built. */
export type AdminModule = (router: AdminRouter, deps: GatewayDeps) => void;

export interface AdminApiOptions {
  modules: AdminModule[];
  /** Tried after the bearer token, in order (e.g. the sign-in session cookie). */
  resolvers?: PrincipalResolver[];
}

/** The bearer-token resolver: null without a bearer token; a wrong one is a throttled 401. */
export function tokenResolver(deps: Pick<GatewayDeps, 'config'>, edge: EdgeGuard): PrincipalResolver {
  const lookup = adminTokenLookup(deps.config);
  const none = deps.config.admin.tokens.length === 0;
  return (request) => {
    const presented = bearerOf(request);
    if (presented === undefined) return null;
    const prefix = edge.throttle.prefixOf(presented);
    edge.throttle.check(request.ip, prefix);
    const principal = lookup(presented);
    if (principal) return principal;
    edge.throttle.fail(request.ip, prefix);
    throw new GatewayError('admin_unauthenticated', none ? 'No admin tokens are configured (admin.tokens).' : 'Incorrect admin token.');
  };
}

export function adminApi(app: FastifyInstance, deps: GatewayDeps, edge: EdgeGuard, options: AdminApiOptions): AdminRouter {
  const router = new AdminRouter();
  router.add(...coreRoutes(router, deps));
  for (const add of options.modules) add(router, deps);
  const resolvers = [tokenResolver(deps, edge), ...(options.resolvers ?? [])];
  app.decorateRequest('admin', null as unknown as AdminPrincipal);
  app.decorateRequest('adminCsrfToken', null);
  app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request: FastifyRequest) => {
        try {
          for (const resolve of resolvers) {
            const principal = await resolve(request);
            if (principal) {
              request.admin = principal;
              return;
            }
          }
          throw new GatewayError('admin_unauthenticated', 'Admin credentials are required: an admin token (Authorization: Bearer) or a console session.');
        } catch (err) {
          // The refusal is rendered and audited (by sample) like any unauthenticated request.
          request.ctx ??= contextOf(request);
          throw err;
        }
      });
      router.register(admin);
    },
    { prefix: ADMIN_PREFIX },
  );
  return router;
}

const PrincipalSchema = z.object({
  id: z.string(),
  kind: z.enum(['token', 'user']),
  role: z.enum(['admin', 'reviewer', 'auditor']),
  tenant: z.string().nullable().describe('The one tenant this principal sees; null = all.'),
  name: z.string().optional(),
});

/** Routes of the API itself: who am I, and the OpenAPI document. */
function coreRoutes(router: AdminRouter, deps: GatewayDeps) {
  return [
    defineRoute({
      method: 'GET',
      path: '/session',
      tag: 'session',
      summary: 'Show the calling principal.',
      description: 'Who the credentials belong to: role and tenant scope. A console session also gets its CSRF token (send it as `x-csrf-token` on writes).',
      roles: ANY_ROLE,
      response: z.object({ principal: PrincipalSchema, csrf_token: z.string().optional() }),
      handler: async ({ principal, request }) => ({ principal, ...(request.adminCsrfToken ? { csrf_token: request.adminCsrfToken } : {}) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      tag: 'session',
      summary: 'Get the OpenAPI 3.1 document of the admin API.',
      roles: ANY_ROLE,
      response: z.record(z.string(), z.unknown()),
      handler: async () => openApiDocument(router.routes, { version: deps.identity.version, prefix: ADMIN_PREFIX }),
    }),
  ];
}
