/**
 * Stages forward → observe → respond: the upstream exchange of an admitted request, with retries
 * and fallback, and the answer in the client's API shape. Where the routed provider speaks the
 * client's own API the body goes upstream as sent (after redactions) and the answer comes back as
 * the provider sent it; otherwise the pivot form is translated both ways by the provider adapter.
 */
import { hash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { RoutingConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { applyRedactions } from '../policy/redact-request.js';
import type { ChatCompletion, ChatRequest } from '../providers/adapter.js';
import { withFallback } from '../routing/fallback.js';
import type { AnsweredBy, ChatSurface, EmbeddingsSurface, Inbound, NativeCodec, Surface } from '../surfaces/surface.js';
import type { RequestContext } from './context.js';
import { evaluateResponsePolicy } from './evaluate-policy.js';
import { checkStreamAnswer, pipeStream, readJsonAnswer, type UpstreamClient } from './forward.js';
import { meter, usageFromOpenAI } from './meter.js';
import { callsOfCompletion, judgeProposedCalls, noteProposedCall, StreamedCalls, type ProposedCall } from './proposed-tool-calls.js';
import type { ReviewQueue } from '../review/queue.js';
import { omegaHeaders } from './respond.js';
import type { ModelRoute, ResolvedRoute, RouteTable } from './select-route.js';

/** The per-request state the stages share besides the context: the body and where it may go. */
export interface Exchange {
  readonly ctx: RequestContext;
  readonly surface: Surface;
  readonly inbound: Inbound;
  /** The parsed JSON body as received. */
  readonly raw: unknown;
  /** The client's wire body: validated by `read`, redacted by `policy`; what is forwarded. */
  wire: object;
  model: ModelRoute | undefined;
  chain: ModelRoute[];
  readonly reply: FastifyReply;
  readonly abort: AbortController;
  readonly signal: AbortSignal;
  /** Strict durability: commits what the request cost before its answer's last bytes (no-op in batched mode). */
  readonly commitCost: () => Promise<void>;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** The native codec when `route`'s provider speaks the surface's own API. */
function nativeFor(surface: ChatSurface, route: ResolvedRoute): NativeCodec<object> | undefined {
  const native = surface.native;
  return native && native.providerTypes.has(route.target.provider.type) ? native : undefined;
}

export async function forwardChat(x: Exchange, upstream: UpstreamClient, routes: RouteTable, routing: RoutingConfig, reviews: ReviewQueue): Promise<void> {
  const { ctx, signal, reply } = x;
  const surface = x.surface as ChatSurface;
  // Translated once, on the first attempt that needs it (a fallback may switch to a native provider and back).
  let pivot: ChatRequest | undefined;
  // Retries and fallback happen only before the first byte reaches the client.
  const answer = await withFallback(ctx, x.chain, routes, routing, signal, async (route) => {
    const native = nativeFor(surface, route);
    const req = native ? native.request(x.wire, route.target, x.inbound) : route.adapter.chatRequest((pivot ??= surface.toChat(x.wire)), route.target);
    const res = await upstream.send(ctx, route, req, signal);
    if (ctx.stream) {
      await checkStreamAnswer(ctx, route, res, upstream.scrubber);
      return { route, res, native, json: undefined, text: '' };
    }
    return { route, res, native, ...(await readJsonAnswer(ctx, route, res, upstream.scrubber)) };
  });
  const { route, native } = answer;

  if (ctx.stream) {
    const writeHead = () => {
      reply.hijack();
      reply.raw.writeHead(200, { ...SSE_HEADERS, ...omegaHeaders(ctx) });
    };
    const translator = native ? native.observeStream(route.target) : route.adapter.chatStream(route.target);
    const encoder = surface.streamEncoder(x.wire, { clientWantsUsage: ctx.clientWantsUsage, inputTokens: ctx.inputTokensEstimated });
    const policy = ctx.policy?.compiled;
    const toolCalls = policy?.hasToolCallRules ? { calls: new StreamedCalls(policy), judge: (calls: ProposedCall[]) => judgeProposedCalls(ctx, calls, reviews, route.publicModel, signal) } : undefined;
    await pipeStream(ctx, route, answer.res, reply.raw, writeHead, x.abort, { translator, encoder, native: native !== undefined, toolCalls }, upstream.scrubber, x.commitCost);
    // Kept before this function returns: the client's next turn cannot arrive before it.
    const final = native ? translator.final : encoder.final;
    if (final !== undefined && !ctx.error) surface.conversation?.save(x.wire, final, answeredBy(ctx, route, native));
    return;
  }

  const { json, text } = answer;
  let completion = native ? native.observe(json, route.target) : route.adapter.chatResponse(json, route.target);
  observeCompletion(ctx, completion);
  meter(ctx);
  const redactions = evaluateResponsePolicy(ctx, completion.choices.map((c) => c.message?.content));
  if (redactions.length > 0) completion = applyRedactions(completion, redactions);
  // Only a policy with `on: tool_calls` rules costs an await here.
  if (ctx.policy?.compiled.hasToolCallRules) await judgeProposedCalls(ctx, callsOfCompletion(completion), reviews, route.publicModel, signal);
  if (ctx.storedCompletion) for (const c of completion.choices) ctx.storedCompletion.push(c.message?.content ?? '');
  // An answer untouched by translation and redaction goes back as the provider's bytes: no re-encoding.
  let body: string;
  let rendered: unknown = json;
  if (native && redactions.length === 0) body = text;
  else {
    rendered = surface.renderCompletion(completion, x.wire);
    body = rendered === json ? text : JSON.stringify(rendered);
  }
  surface.conversation?.save(x.wire, rendered, answeredBy(ctx, route, native));
  await x.commitCost();
  // Never with a configured credential in it, should a proxy echo one into a 200.
  reply.headers(omegaHeaders(ctx)).type('application/json').send(upstream.scrubber.scrubLiterals(body));
}

export async function forwardEmbeddings(x: Exchange, upstream: UpstreamClient, routes: RouteTable, routing: RoutingConfig): Promise<void> {
  const { ctx, signal } = x;
  const surface = x.surface as EmbeddingsSurface;
  const body = surface.toEmbeddings(x.wire);
  const { route, json, text } = await withFallback(ctx, x.chain, routes, routing, signal, async (route) => {
    const { embeddingsRequest } = route.adapter;
    if (!embeddingsRequest) {
      throw new GatewayError('invalid_request', `The provider of "${route.publicModel}" has no embeddings API.`, { param: 'model' });
    }
    const res = await upstream.send(ctx, route, embeddingsRequest(body, route.target), signal);
    return { route, ...(await readJsonAnswer(ctx, route, res, upstream.scrubber)) };
  });
  const embeddings = route.adapter.embeddingsResponse!(json, route.target, body);
  ctx.usage = usageFromOpenAI(embeddings.usage);
  meter(ctx);
  await x.commitCost();
  const rendered = surface.renderEmbeddings(embeddings, x.wire);
  x.reply
    .headers(omegaHeaders(ctx))
    .type('application/json')
    .send(upstream.scrubber.scrubLiterals(rendered === json ? text : JSON.stringify(rendered)));
}

function answeredBy(ctx: RequestContext, route: ResolvedRoute, native: NativeCodec<object> | undefined): AnsweredBy {
  return { tenantId: ctx.principal!.tenantId, provider: route.target.providerName, native: native !== undefined };
}

/** observe: what a whole answer tells the meter and the audit. */
function observeCompletion(ctx: RequestContext, completion: ChatCompletion): void {
  ctx.usage = usageFromOpenAI(completion.usage);
  // The same digest as hashing each content in turn; one-shot, without a Hash object.
  let output = '';
  for (const choice of completion.choices) {
    const content = choice.message?.content;
    if (content) {
      ctx.outputChars += content.length;
      output += content;
    }
    for (const call of choice.message?.tool_calls ?? []) {
      ctx.toolCallsCount++;
      noteProposedCall(ctx, call.type === 'function' ? call.function.name : '');
    }
    ctx.finishReason ??= choice.finish_reason ?? null;
  }
  ctx.outputHash = hash('sha256', output, 'hex');
}
