/** POST /v1/embeddings */
import type { FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../app.js';
import { GatewayError } from '../errors.js';
import { admit } from '../pipeline/admit.js';
import { readJsonAnswer } from '../pipeline/forward.js';
import { withFallback } from '../routing/fallback.js';
import { commitCost } from '../pipeline/audit.js';
import { meter, usageFromOpenAI } from '../pipeline/meter.js';
import { readEmbeddingsRequest } from '../pipeline/read-request.js';
import { omegaHeaders } from '../pipeline/respond.js';
import { runProxied } from './proxied.js';

export function embeddingsRoute(app: FastifyInstance, deps: GatewayDeps): void {
  app.post('/v1/embeddings', (request, reply) =>
    runProxied(deps, request, reply, async (ctx, abort) => {
      const { body, chain } = await admit(ctx, deps, readEmbeddingsRequest(ctx, request.body), 'embeddings', abort.signal);

      const { route, json, text } = await withFallback(ctx, chain, deps.routes, deps.config.routing, abort.signal, async (route) => {
        const { embeddingsRequest } = route.adapter;
        if (!embeddingsRequest) {
          throw new GatewayError('invalid_request', `The provider of "${route.publicModel}" has no embeddings API.`, { param: 'model' });
        }
        const res = await deps.upstream.send(ctx, route, embeddingsRequest(body, route.target), abort.signal);
        return { route, ...(await readJsonAnswer(ctx, route, res, deps.upstream.scrubber)) };
      });
      const embeddings = route.adapter.embeddingsResponse!(json, route.target, body);
      ctx.usage = usageFromOpenAI(embeddings.usage);
      meter(ctx);
      await commitCost(ctx, deps);
      reply
        .headers(omegaHeaders(ctx))
        .type('application/json')
        .send(deps.upstream.scrubber.scrubLiterals(embeddings === json ? text : JSON.stringify(embeddings)));
    }),
  );
}
