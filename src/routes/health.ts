/** Liveness (/healthz: the process answers) and readiness (/readyz: it can serve traffic). */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../app.js';
import { adminTokens } from './admin/index.js';

export function healthRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  let shuttingDown = false;
  app.addHook('onClose', async () => {
    shuttingDown = true;
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    let checks: Record<string, unknown>;
    let ready = !shuttingDown;
    try {
      checks = await deps.readiness();
    } catch (err) {
      ready = false;
      checks = { error: (err as Error).message };
    }
    reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      version: deps.identity.version,
      config_version: deps.identity.configVersion,
      audit_pending: deps.audit.pending,
      ...checks,
    });
  });

  // Prometheus scrape endpoint; names tenants and models, so it needs an admin token unless made public.
  const actorOf = adminTokens(deps.config);
  app.get('/metrics', async (request, reply) => {
    if (!deps.config.telemetry.public_metrics) {
      if (!actorOf(request.headers.authorization)) {
        return reply.code(401).send({ error: { message: 'Missing or incorrect admin token (or set telemetry.public_metrics).', type: 'authentication_error', param: null, code: 'invalid_api_key' } });
      }
    }
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });
}
