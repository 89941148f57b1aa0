/**
 * The proxied endpoints: each is a surface (its wire format) plus the one pipeline. A route's
 * surface also renders errors raised before the route runs (authentication, body parsing), so a
 * client always gets its own API's error shape.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Pipeline } from '../pipeline/run.js';
import { chatCompletionsSurface } from '../surfaces/chat-completions/index.js';
import { embeddingsSurface } from '../surfaces/embeddings/index.js';
import type { Surface } from '../surfaces/surface.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The inbound API a route serves; absent on non-proxied routes. */
    surface?: Surface;
  }
}

export function surfaceRoutes(app: FastifyInstance, pipeline: Pipeline): void {
  const serve = (path: string, surface: Surface) =>
    app.post(path, { config: { surface } }, (request, reply) => pipeline.run(surface, request, reply));
  serve('/v1/chat/completions', chatCompletionsSurface);
  serve('/v1/embeddings', embeddingsSurface);
}

/** The surface of the route `request` matched, if it is a proxied one. */
export function surfaceOf(request: FastifyRequest): Surface | undefined {
  return request.routeOptions.config?.surface;
}
