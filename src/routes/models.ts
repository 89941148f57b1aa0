/** GET /v1/models and /v1/models/:model — only the models the caller's tenant may use. */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../app.js';
import { GatewayError } from '../errors.js';
import { omegaHeaders, sendError } from '../pipeline/respond.js';
import { auditRequest } from '../pipeline/audit.js';

export function modelsRoute(app: FastifyInstance, deps: GatewayDeps): void {
  const created = Math.floor(Date.now() / 1000);
  const describe = (id: string) => ({ id, object: 'model' as const, created, owned_by: deps.config.models[id]?.provider ?? 'omega' });

  app.get('/v1/models', (request, reply) => {
    const ctx = request.ctx!;
    const data = deps.routes.modelsFor(ctx.principal!).map(describe);
    reply.headers(omegaHeaders(ctx)).send({ object: 'list', data });
    auditRequest(ctx, deps);
  });

  app.get<{ Params: { model: string } }>('/v1/models/:model', (request, reply) => {
    const ctx = request.ctx!;
    const id = request.params.model;
    ctx.modelRequested = id;
    if (deps.routes.modelsFor(ctx.principal!).includes(id)) {
      reply.headers(omegaHeaders(ctx)).send(describe(id));
    } else {
      sendError(reply, ctx, new GatewayError('model_not_found', `The model "${id}" does not exist or you do not have access to it.`, { param: 'model' }));
    }
    auditRequest(ctx, deps);
  });
}
