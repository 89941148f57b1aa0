/** Liveness (/healthz: the process answers) and readiness (/readyz: it can serve traffic). */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../app.js';
import type { EdgeGuard } from '../edge/guard.js';
import { adminTokens } from './admin/index.js';

export function healthRoutes(app: FastifyInstance, deps: GatewayDeps, edge: EdgeGuard): void {
  const actorOf = adminTokens(deps.config);
  let shuttingDown = false;
  app.addHook('onClose', async () => {
    shuttingDown = true;
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  // Status for everyone (load balancers); the detail (tenants' deployments, circuits, versions)
  // only with an admin token, since it maps the deployment for an attacker. A presented token is
  // checked (and throttled) like the admin API's: a wrong one is a 401, not a quiet oracle.
  app.get('/readyz', async (request, reply) => {
    const detail = request.headers.authorization !== undefined && edge.admin(request, actorOf) !== null;
    let checks: Record<string, unknown>;
    let ready = !shuttingDown;
    try {
      const { ready: serving, ...rest } = await deps.readiness();
      checks = rest;
      if (serving === false) ready = false;
    } catch (err) {
      ready = false;
      checks = { error: (err as Error).message };
    }
    const status = ready ? 'ready' : 'not_ready';
    if (!detail) return reply.code(ready ? 200 : 503).send({ status });
    reply.code(ready ? 200 : 503).send({
      status,
      version: deps.identity.version,
      config_version: deps.identity.configVersion,
      audit_pending: deps.audit.pending,
      ...checks,
    });
  });

  // Prometheus scrape endpoint; names tenants and models, so it needs an admin token unless made public.
  app.get('/metrics', async (request, reply) => {
    if (!deps.config.telemetry.public_metrics) edge.admin(request, actorOf, 'Missing or incorrect admin token (or set telemetry.public_metrics).');
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });
}
