/**
 * GET /v1/models and /v1/models/:model — only the models the caller's tenant may use, in
 * OpenAI's list shape, or Anthropic's when the caller speaks Anthropic (an `anthropic-version`
 * header, as the Anthropic SDKs always send).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError, toOpenAIError } from '../errors.js';
import type { Pipeline, RequestContext } from '../pipeline/run.js';

export function modelsRoute(app: FastifyInstance, pipeline: Pipeline): void {
  const created = Math.floor(Date.now() / 1000);
  const createdAt = new Date(created * 1000).toISOString();
  const openai = (ctx: RequestContext, id: string) => ({ id, object: 'model' as const, created, owned_by: pipeline.ownerOf(ctx, id) });
  const anthropic = (id: string) => ({ type: 'model' as const, id, display_name: id, created_at: createdAt });
  const speaksAnthropic = (request: FastifyRequest) => typeof request.headers['anthropic-version'] === 'string';

  app.get('/v1/models', (request, reply) =>
    pipeline.answerLocally(request, reply, (ctx) => {
      const ids = pipeline.modelsFor(ctx);
      if (!speaksAnthropic(request)) return { object: 'list', data: ids.map((id) => openai(ctx, id)) };
      return { data: ids.map(anthropic), has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null };
    }, speaksAnthropic(request) ? anthropicError : toOpenAIError),
  );

  app.get<{ Params: { model: string } }>('/v1/models/:model', (request, reply) =>
    pipeline.answerLocally(request, reply, (ctx) => {
      const id = request.params.model;
      ctx.modelRequested = id;
      if (!pipeline.modelsFor(ctx).includes(id)) {
        throw new GatewayError('model_not_found', `The model "${id}" does not exist or you do not have access to it.`, { param: 'model' });
      }
      return speaksAnthropic(request) ? anthropic(id) : openai(ctx, id);
    }, speaksAnthropic(request) ? anthropicError : toOpenAIError),
  );
}

/** Placeholder until the Anthropic surface's renderer is wired: Anthropic's error shape. */
function anthropicError(err: GatewayError) {
  return { status: err.status, body: { type: 'error', error: { type: err.type, message: err.message } } };
}
