/** Liveness (/healthz: the process answers) and readiness (/readyz: it can serve traffic). */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../app.js';

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
}
