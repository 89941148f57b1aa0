/**
 * Admin API: policies. A PUT validates and compiles the new policy, swaps it in at once for
 * this process, stores it and announces it, so every replica reloads it from the store (see
 * policy/sync.ts); every decision records the version that made it.
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../../app.js';
import { recordAdminEvent } from '../../admin/events.js';
import { GatewayError } from '../../errors.js';

export function policyRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  const set = deps.policy.policies;
  const describe = (name: string) => {
    const p = set.get(name)!;
    return { name, version: p.version, policy: p.config };
  };

  app.get('/policies', async () => ({ object: 'list', data: set.names().map(describe) }));

  app.get<{ Params: { name: string } }>('/policies/:name/versions', async (request) => {
    const rows = await deps.stores.policies.list(request.params.name);
    return { object: 'list', data: rows.map((r) => ({ version: r.version, actor: r.actor, created_at: new Date(r.createdAt).toISOString(), policy: r.config })) };
  });

  app.get<{ Params: { name: string } }>('/policies/:name', async (request) => {
    if (!set.get(request.params.name)) throw new GatewayError('unknown_endpoint', `No policy "${request.params.name}".`);
    return describe(request.params.name);
  });

  app.put<{ Params: { name: string }; Body: unknown }>('/policies/:name', async (request) => {
    const before = set.get(request.params.name);
    try {
      set.replace(request.params.name, request.body);
    } catch (err) {
      throw new GatewayError('invalid_request', `The policy is invalid and was not applied: ${(err as Error).message}`);
    }
    const version = set.get(request.params.name)!.version;
    // Kept in the store, so the change survives a restart and every version stays on record.
    await deps.stores.policies.put({ name: request.params.name, version, config: request.body, actor: request.adminActor!, createdAt: Date.now() });
    await deps.policySync.announce(request.params.name, version);
    await recordAdminEvent(deps, request.admin, {
      action: 'policy.publish',
      target: { type: 'policy', id: request.params.name },
      before: before ? { version: before.version, policy: before.config } : null,
      after: { version, policy: set.get(request.params.name)!.config },
    });
    request.log.info({ policy: request.params.name, version, actor: request.adminActor }, 'policy replaced');
    return describe(request.params.name);
  });
}
