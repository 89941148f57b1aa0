/** POST /v1/chat/completions — the stage order, top to bottom. */
import type { FastifyInstance } from 'fastify';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { createHash } from 'node:crypto';
import type { GatewayDeps } from '../app.js';
import type { RequestContext } from '../pipeline/context.js';
import { admit } from '../pipeline/admit.js';
import { commitCost } from '../pipeline/audit.js';
import { evaluateResponsePolicy } from '../pipeline/evaluate-policy.js';
import { applyRedactions } from '../policy/redact-request.js';
import { checkStreamAnswer, pipeStream, readJsonAnswer } from '../pipeline/forward.js';
import { withFallback } from '../routing/fallback.js';
import { meter, usageFromOpenAI } from '../pipeline/meter.js';
import { readChatRequest } from '../pipeline/read-request.js';
import { omegaHeaders } from '../pipeline/respond.js';
import { runProxied } from './proxied.js';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export function chatCompletionsRoute(app: FastifyInstance, deps: GatewayDeps): void {
  app.post('/v1/chat/completions', (request, reply) =>
    runProxied(deps, request, reply, async (ctx, abort) => {
      const { body, chain } = await admit(ctx, deps, readChatRequest(ctx, request.body), 'chat', abort.signal);

      // Retries and fallback happen only before the first byte reaches the client.
      const answer = await withFallback(ctx, chain, deps.routes, deps.config.routing, abort.signal, async (route) => {
        const res = await deps.upstream.send(ctx, route, route.adapter.chatRequest(body, route.target), abort.signal);
        if (ctx.stream) {
          await checkStreamAnswer(ctx, route, res, deps.upstream.scrubber);
          return { route, res, json: undefined, text: '' };
        }
        return { route, res, ...(await readJsonAnswer(ctx, route, res, deps.upstream.scrubber)) };
      });
      const { route } = answer;
      if (ctx.stream) {
        const writeHead = () => {
          reply.hijack();
          reply.raw.writeHead(200, { ...SSE_HEADERS, ...omegaHeaders(ctx) });
        };
        await pipeStream(ctx, route, answer.res, reply.raw, writeHead, abort, deps.upstream.scrubber, () => commitCost(ctx, deps));
        return;
      }
      const { json, text } = answer;
      let completion = route.adapter.chatResponse(json, route.target);
      observeCompletion(ctx, completion);
      meter(ctx);
      const redactions = evaluateResponsePolicy(ctx, completion.choices.map((c) => c.message?.content));
      if (redactions.length > 0) completion = applyRedactions(completion, redactions);
      if (ctx.storedCompletion) for (const c of completion.choices) ctx.storedCompletion.push(c.message?.content ?? '');
      await commitCost(ctx, deps);
      // An untranslated, unredacted answer goes back as the provider's bytes: no re-encoding
      // (but never with a configured credential in it, should a proxy echo one into a 200).
      reply
        .headers(omegaHeaders(ctx))
        .type('application/json')
        .send(deps.upstream.scrubber.scrubLiterals(completion === json ? text : JSON.stringify(completion)));
    }),
  );
}

function observeCompletion(ctx: RequestContext, completion: ChatCompletion): void {
  ctx.usage = usageFromOpenAI(completion.usage);
  const hash = createHash('sha256');
  for (const choice of completion.choices) {
    const content = choice.message?.content;
    if (content) {
      ctx.outputChars += content.length;
      hash.update(content);
    }
    ctx.toolCallsCount += choice.message?.tool_calls?.length ?? 0;
    ctx.finishReason ??= choice.finish_reason ?? null;
  }
  ctx.outputHash = hash.digest('hex');
}
