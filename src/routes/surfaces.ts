/**
 * The proxied endpoints: each is a surface (its wire format) plus the one pipeline. A route's
 * surface also renders errors raised before the route runs (authentication, body parsing), so a
 * client always gets its own API's error shape.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Pipeline } from '../pipeline/run.js';
import type { ResponseStore } from '../store/types.js';
import { anthropicMessagesSurface, countTokensResponse, nativeCountTokensRequest, parseCountTokensRequest } from '../surfaces/anthropic-messages/index.js';
import { chatCompletionsSurface } from '../surfaces/chat-completions/index.js';
import { embeddingsSurface } from '../surfaces/embeddings/index.js';
import { createResponsesSurface, renderStored, responseNotFound, type ResponsesOutage, type ResponsesSettings } from '../surfaces/openai-responses/index.js';
import type { Surface } from '../surfaces/surface.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The inbound API a route serves; absent on non-proxied routes. */
    surface?: Surface;
  }
}

export interface SurfaceStores {
  responses: ResponseStore;
  responsesSettings: ResponsesSettings;
  /** The durable store's degraded mode (storage.on_unavailable), for stored responses. */
  storage?: ResponsesOutage;
}

export function surfaceRoutes(app: FastifyInstance, pipeline: Pipeline, stores: SurfaceStores): void {
  const serve = (path: string, surface: Surface) =>
    app.post(path, { config: { surface } }, (request, reply) => pipeline.run(surface, request, reply));
  const responses = createResponsesSurface(stores.responses, stores.responsesSettings, stores.storage);
  serve('/v1/chat/completions', chatCompletionsSurface);
  serve('/v1/embeddings', embeddingsSurface);
  serve('/v1/messages', anthropicMessagesSurface);
  serve('/v1/responses', responses);

  // Anthropic models count natively; every other model with the gateway's own estimate.
  app.post('/v1/messages/count_tokens', { config: { surface: anthropicMessagesSurface } }, (request, reply) =>
    pipeline.answerLocally(
      request,
      reply,
      async (ctx) => {
        const { wire, model } = parseCountTokensRequest(request.body);
        const route = pipeline.routeFor(ctx, model);
        if (route.target.provider.type !== 'anthropic') return countTokensResponse(wire, route.target.upstreamModel);
        return pipeline.exchangeOnce(ctx, route, nativeCountTokensRequest(wire, route.target, request.headers, queryOf(request)));
      },
      anthropicMessagesSurface.renderError,
    ),
  );

  // Stored responses are the tenant's own: another tenant's id is the same 404 as an unknown one.
  app.get<{ Params: { id: string } }>('/v1/responses/:id', { config: { surface: responses } }, (request, reply) =>
    pipeline.answerLocally(
      request,
      reply,
      async (ctx) => {
        const stored = await stores.responses.get(ctx.principal!.tenantId, request.params.id);
        if (!stored) throw responseNotFound(request.params.id);
        return renderStored(stored);
      },
      responses.renderError,
    ),
  );
  app.delete<{ Params: { id: string } }>('/v1/responses/:id', { config: { surface: responses } }, (request, reply) =>
    pipeline.answerLocally(
      request,
      reply,
      async (ctx) => {
        const { id } = request.params;
        if (!(await stores.responses.delete(ctx.principal!.tenantId, id))) throw responseNotFound(id);
        return { id, object: 'response', deleted: true };
      },
      responses.renderError,
    ),
  );
}

/** The surface of the route `request` matched, if it is a proxied one. */
export function surfaceOf(request: FastifyRequest): Surface | undefined {
  return request.routeOptions.config?.surface;
}

function queryOf(request: FastifyRequest): URLSearchParams {
  const at = request.url.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1));
}
