/** GET /admin/v1/health: the stores, Redis counters and every provider deployment with its circuit state. */
import { z } from 'zod';
import type { AdminModule } from '../api.js';
import { defineRoute, READERS } from '../route.js';

const Deployment = z.object({ id: z.string(), circuit: z.string().describe('closed, open or half-open.'), in_flight: z.number(), queued: z.number(), opened: z.number().describe('Times the circuit opened since start.') });

export const healthRoutes: AdminModule = (router, deps) => {
  router.add(
    defineRoute({
      method: 'GET',
      path: '/health',
      tag: 'health',
      summary: 'Show the health of the stores, Redis and providers.',
      description: 'Readiness detail of this replica: the durable store, the Redis counters (when configured), the audit queue, and each provider with the circuit state of its deployments.',
      roles: ['admin', 'auditor'],
      response: z.object({
        status: z.enum(['ok', 'degraded']),
        instance: z.string(),
        version: z.string(),
        config_version: z.string(),
        storage: z.object({ kind: z.string(), ok: z.boolean(), error: z.string().optional() }),
        redis: z.object({ configured: z.boolean(), state: z.string().optional() }),
        audit: z.object({ pending: z.number(), spooled: z.number() }),
        reviews_held: z.number(),
        providers: z.array(z.object({ name: z.string(), type: z.string(), deployments: z.array(Deployment) })),
      }),
      handler: async () => {
        let storage: { kind: string; ok: boolean; error?: string } = { kind: deps.stores.kind, ok: true };
        let counters: { state?: string } | undefined;
        try {
          const checks = await deps.readiness();
          counters = checks.counters as { state?: string } | undefined;
        } catch (err) {
          storage = { kind: deps.stores.kind, ok: false, error: (err as Error).message.slice(0, 200) };
        }
        const states = deps.snapshots.current.routes.deploymentStates();
        const providers = Object.entries(deps.snapshots.current.config.providers).map(([name, p]) => ({
          name,
          type: p.type,
          deployments: Object.entries(states)
            .filter(([id]) => id.startsWith(`${name}/`))
            .map(([id, s]) => ({ id, ...s })),
        }));
        const degraded = !storage.ok || counters?.state === 'degraded' || providers.some((p) => p.deployments.some((d) => d.circuit === 'open'));
        return {
          status: degraded ? ('degraded' as const) : ('ok' as const),
          instance: deps.identity.instance,
          version: deps.identity.version,
          config_version: deps.snapshots.current.version,
          storage,
          redis: { configured: deps.config.redis.url !== undefined, ...(counters?.state ? { state: counters.state } : {}) },
          audit: { pending: deps.audit.pending, spooled: deps.audit.spooled },
          reviews_held: deps.reviews.held,
          providers,
        };
      },
    }),
  );
};
