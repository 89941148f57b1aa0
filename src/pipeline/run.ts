/**
 * THE pipeline: the one ordered list of stages, and the runner every inbound API goes through.
 *
 * A surface (src/surfaces/) turns its wire format into a parsed request; from there on every
 * request — Chat Completions, Anthropic Messages, OpenAI Responses, embeddings — runs the same
 * stages in the same order, each given only the dependencies it uses. An early stage refuses by
 * throwing a GatewayError; meter, settle, quota adjustment and audit run exactly once in
 * `finally`, so refused, failed and abandoned requests are metered and audited too.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayIdentity } from '../audit/record.js';
import { buildAuditRecord } from '../audit/record.js';
import { scrubAuditRecord } from '../audit/scrub-record.js';
import type { AuditWriter } from '../audit/writer.js';
import type { Principal } from '../auth/directory.js';
import type { SnapshotSource } from '../config/snapshot.js';
import type { AuthThrottle } from '../edge/auth-throttle.js';
import type { AlertNotifier } from '../budget/alerts.js';
import type { BudgetLedger } from '../budget/ledger.js';
import { estimateInputTokens } from '../budget/tokens.js';
import type { RoutingConfig } from '../config/schema.js';
import type { UpstreamRequest } from '../providers/adapter.js';
import { GatewayError } from '../errors.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import type { Admission } from '../store/admission.js';
import { storeUnavailable, type StoreAvailability } from '../store/availability.js';
import type { ReviewQueue } from '../review/queue.js';
import { checkJsonBounds, checkMaxTokens } from '../surfaces/input-bounds.js';
import type { RenderedError, Surface } from '../surfaces/surface.js';
import { auditRequest, commitCost, type AuditObserver } from './audit.js';
import { authenticate } from './authenticate.js';
import type { RequestContext } from './context.js';
import { evaluatePolicy } from './evaluate-policy.js';
import { type Exchange, forwardChat, forwardEmbeddings } from './exchange.js';
import { readJsonAnswer, type UpstreamClient } from './forward.js';
import { holdForReview } from './hold-for-review.js';
import { estimateCost, estimateTokens, meter } from './meter.js';
import { adjustRateLimits, enforceRateLimits, rateLimitRules } from './rate-limit.js';
import { admitTogether, budgetScopes, reserveBudget, settleBudget, settleTogether } from './reserve-budget.js';
import { omegaHeaders, sendError } from './respond.js';
import type { ResolvedRoute, RouteTable } from './select-route.js';

/** Everything the stages use, passed to each stage member by member (never as a whole). */
export interface PipelineDeps {
  /** The configuration in force: each request takes the current snapshot once, at authentication, and keeps it. */
  snapshots: SnapshotSource;
  upstream: UpstreamClient;
  policy: PolicyEngine;
  limiter: RateLimiter;
  budgets: BudgetLedger;
  /**
   * Set when quotas and budgets live in a shared back end (Redis): a request with both takes
   * them in one admission call at the budget stage (one round trip) instead of two stages.
   */
  admission?: Admission;
  alerts: AlertNotifier;
  reviews: ReviewQueue;
  audit: AuditWriter;
  identity: GatewayIdentity;
  observeRecord: AuditObserver;
  /** Abort handles of requests in flight, so a shutdown past its grace period can end them. */
  inFlight: Set<AbortController>;
  /** The durable store's degraded mode (storage.on_unavailable), for strict audit's decision record. */
  storage?: Pick<StoreAvailability, 'decide'>;
  settings: PipelineSettings;
}

export interface PipelineSettings {
  routing: RoutingConfig;
  /** rate_limiting.max_wait: how long smoothing may queue a request. */
  rateLimitMaxWaitMs: number;
  /** How long a budget hold lives if a request never settles (crash): its longest possible life. */
  reservationTtlMs: number;
  /** audit.durability = strict: the decision is on disk before anything is forwarded. */
  strictAudit: boolean;
  /** audit.store_content, unless the tenant says otherwise. */
  storeContent: boolean;
}

const quotasApply = (x: Exchange) => rateLimitRules(x.ctx.principal!, x.model!.publicModel).length > 0;
const budgetsApply = (x: Exchange) => budgetScopes(x.ctx.principal!).length > 0;

/** One named stage. Returning undefined (no promise) lets a stage that does not apply cost no await. */
interface Stage {
  readonly name: string;
  run(x: Exchange): void | Promise<void>;
}

/** nginx's convention for "client closed the request", used in the audit only. */
const CLIENT_CLOSED_REQUEST = 499;

/** The abort reason of requests a shutdown ends past its grace period (main.ts close()). */
export const SHUTDOWN_ABORT = new GatewayError('shutting_down', 'The gateway is shutting down; the request was aborted before it finished.');
/** `upstream_error` of a request ended by a shutdown (docs/audit-signals.md). */
const ABORTED_BY_SHUTDOWN = 'aborted by gateway shutdown';

export class Pipeline {
  /** The order of the pipeline, after authentication (which runs before the body is read). */
  readonly stages: readonly Stage[];

  constructor(private readonly deps: PipelineDeps) {
    const d = deps;
    const s = d.settings;
    this.stages = [
      { name: 'read', run: read },
      { name: 'route', run: (x) => route(x, x.ctx.snapshot!.routes) },
      { name: 'conversation', run: conversation },
      { name: 'count', run: count },
      // With shared admission, a request that also has budgets takes its quotas at the budget stage.
      { name: 'rate-limit', run: (x) => (quotasApply(x) && !(d.admission && budgetsApply(x)) ? enforceRateLimits(x.ctx, d.limiter, x.model!.publicModel, s.rateLimitMaxWaitMs, x.signal) : undefined) },
      { name: 'policy', run: (x) => policy(x, d.policy) },
      {
        name: 'budget',
        run: (x) =>
          !budgetsApply(x)
            ? undefined
            : d.admission && quotasApply(x)
              ? admitTogether(x.ctx, d.admission, x.model!.publicModel, x.chain, { maxWaitMs: s.rateLimitMaxWaitMs, ttlMs: s.reservationTtlMs, signal: x.signal })
              : reserveBudget(x.ctx, d.budgets, x.chain, s.reservationTtlMs),
      },
      { name: 'review', run: (x) => (x.ctx.outcome === 'REVIEW' ? holdForReview(x.ctx, d.reviews, x.wire, x.model!.publicModel, x.signal) : undefined) },
      { name: 'store-content', run: (x) => storeContent(x, s.storeContent) },
      { name: 'record-decision', run: (x) => (s.strictAudit ? recordDecision(x, d) : undefined) },
      { name: 'forward', run: (x) => (x.surface.kind === 'chat' ? forwardChat(x, d.upstream, x.ctx.snapshot!.routes, s.routing, d.reviews) : forwardEmbeddings(x, d.upstream, x.ctx.snapshot!.routes, s.routing)) },
    ];
  }

  /** Stage 0, run by the onRequest hook before any body is read: the key resolves to a principal, or 401 (429 when throttled). */
  async authenticate(request: FastifyRequest, throttle: AuthThrottle): Promise<void> {
    const ctx = request.ctx!;
    // The one read of the configuration in force: this request keeps it to the end, whatever reloads meanwhile.
    const snapshot = this.deps.snapshots.current;
    ctx.snapshot = snapshot;
    ctx.configVersion = snapshot.version;
    ctx.principal = await authenticate(request.headers, request.ip, snapshot.keys, throttle);
  }

  /** The public models the request's principal may use (the model list), in the request's snapshot. */
  modelsFor(ctx: RequestContext): string[] {
    return ctx.snapshot!.routes.modelsFor(ctx.principal!);
  }

  /** The configured provider of a public model in the request's snapshot ('omega' when it has several deployments). */
  ownerOf(ctx: RequestContext, model: string): string {
    return ctx.snapshot!.config.models[model]?.provider ?? 'omega';
  }

  /** See answerLocally. */
  answerLocally(request: FastifyRequest, reply: FastifyReply, answer: (ctx: RequestContext) => unknown, renderError?: (err: GatewayError) => RenderedError): Promise<void> {
    return answerLocally(this.deps, request, reply, answer, renderError);
  }

  /**
   * For side calls that name a model but are not model calls (Anthropic's count_tokens): the
   * model's first deployment, as the route stage would pick it (404 when the tenant may not use
   * it, 503 when it has no usable deployment).
   */
  routeFor(ctx: RequestContext, model: string): ResolvedRoute {
    ctx.modelRequested = model;
    const resolved = ctx.snapshot!.routes.resolve(model, ctx.principal!, 'chat');
    const first = resolved.deployments[0];
    if (!first) throw resolved.unavailable ?? new GatewayError('upstream_unreachable', `No deployment can serve "${model}".`);
    const route: ResolvedRoute = { publicModel: resolved.publicModel, model: resolved, price: resolved.price, adapter: first.deployment.adapter, target: first.target, deployment: first.deployment };
    ctx.route = route;
    return route;
  }

  /** One upstream exchange for a side call, without retries, metering or budgets; provider errors are mapped as usual. */
  async exchangeOnce(ctx: RequestContext, route: ResolvedRoute, req: UpstreamRequest): Promise<unknown> {
    const res = await this.deps.upstream.send(ctx, route, req, new AbortController().signal);
    return (await readJsonAnswer(ctx, route, res, this.deps.upstream.scrubber)).json;
  }

  /** Runs one request of `surface` through every stage; answers and audits it exactly once. */
  async run(surface: Surface, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { deps } = this;
    // Registered before anything can throw and removed on every path, so a shutdown never
    // waits for a request that is already over.
    const abort = new AbortController();
    deps.inFlight.add(abort);
    try {
      const ctx = request.ctx;
      // The authentication hook gives every /v1 route a context; without one nothing may run.
      if (!ctx?.principal) throw new GatewayError('internal_error', 'The gateway hit an internal error. The request id identifies it in the logs.');
      ctx.surface = surface.name;
      const query = request.url.indexOf('?');
      const x: Exchange = {
        ctx,
        surface,
        inbound: { headers: request.headers, query: query < 0 ? '' : request.url.slice(query + 1) },
        raw: request.body,
        wire: {},
        model: undefined,
        chain: [],
        reply,
        abort,
        signal: abort.signal,
        commitCost: () => commitCost(ctx, deps, deps.settings.strictAudit),
      };
      await this.runStages(x, request);
    } finally {
      deps.inFlight.delete(abort);
    }
  }

  private async runStages(x: Exchange, request: FastifyRequest): Promise<void> {
    const { deps } = this;
    const { ctx, abort, reply } = x;
    const onClose = () => {
      if (!reply.raw.writableFinished && abort.signal.reason !== SHUTDOWN_ABORT) {
        ctx.clientDisconnected = true;
        abort.abort();
      }
    };
    reply.raw.on('close', onClose);
    try {
      for (const stage of this.stages) {
        const pending = stage.run(x);
        if (pending) await pending;
      }
    } catch (err) {
      const shutdown = abort.signal.reason === SHUTDOWN_ABORT && !ctx.clientDisconnected;
      if (ctx.clientDisconnected) {
        ctx.httpStatus = CLIENT_CLOSED_REQUEST;
      } else if (!reply.raw.headersSent) {
        sendError(reply, ctx, shutdown ? SHUTDOWN_ABORT : err, x.surface.renderError);
      }
      // Catalog errors are expected outcomes (and audited); anything else is a bug worth a log line.
      if (!(err instanceof GatewayError) && !shutdown) request.log.error({ err, decisionId: ctx.decisionId }, 'request failed');
    } finally {
      reply.raw.off('close', onClose);
      if (abort.signal.reason === SHUTDOWN_ABORT && !ctx.clientDisconnected) ctx.upstreamError = ABORTED_BY_SHUTDOWN;
      try {
        // Settlement runs on every path (success, refusal, upstream fault, client gone) before the
        // audit record, which then carries the settled budget figures.
        meter(ctx);
        // With a shared back end, quotas and the hold settle together (one Redis round trip).
        if (deps.admission) await settleTogether(ctx, deps.admission, deps.alerts);
        if (ctx.reservation) await settleBudget(ctx, deps.budgets, deps.alerts);
        if (ctx.rateLimitRules) await adjustRateLimits(ctx, deps.limiter);
      } catch (err) {
        request.log.error({ err, decisionId: ctx.decisionId }, 'settling a request failed');
      } finally {
        auditRequest(ctx, deps);
      }
    }
  }
}

/**
 * For endpoints the gateway answers itself (the model list): the same headers, error shape and
 * exactly one audit record as a proxied request, without the upstream stages.
 */
export async function answerLocally(
  deps: Pick<PipelineDeps, 'audit' | 'identity' | 'observeRecord' | 'upstream'>,
  request: FastifyRequest,
  reply: FastifyReply,
  answer: (ctx: RequestContext) => unknown,
  renderError?: (err: GatewayError) => RenderedError,
): Promise<void> {
  const ctx = request.ctx!;
  try {
    const body = await answer(ctx);
    reply.headers(omegaHeaders(ctx)).send(body);
  } catch (err) {
    sendError(reply, ctx, err, renderError);
  } finally {
    auditRequest(ctx, deps);
  }
}

/** read: the surface validates its wire format; what the stages need is recorded on the context. */
function read(x: Exchange): void {
  // Bounded before any surface walks it: a deep nest would overflow the stack and answer 500.
  const violation = checkJsonBounds(x.raw);
  if (violation) throw new GatewayError('invalid_request', violation.message, { param: violation.param });
  const parsed = x.surface.parse(x.raw, x.inbound);
  const { ctx } = x;
  x.wire = parsed.wire;
  ctx.modelRequested = parsed.model;
  ctx.facts = parsed.facts;
  ctx.stream = parsed.stream;
  ctx.clientWantsUsage = parsed.clientWantsUsage;
  ctx.inputTokensEstimated = estimateTokens(parsed.facts.inputChars);
}

/** route: the model (or alias) resolves to its deployments and fallback chain; 404 if the tenant may not use it. */
function route(x: Exchange, routes: RouteTable): void {
  const principal = x.ctx.principal!;
  x.model = routes.resolve(x.ctx.modelRequested!, principal, x.surface.kind);
  x.chain = routes.chain(x.model, principal);
  checkMaxTokens(x.wire, x.model.maxOutputTokens);
}

/** policy: the tenant's rules over the text the model reads; redactions land in the wire body. */
function policy(x: Exchange, engine: PolicyEngine): Promise<void> | undefined {
  const judged = evaluatePolicy(x.ctx, x.wire, (w) => x.surface.segments(w), engine, x.surface.kind, x.model!.publicModel);
  if (!(judged instanceof Promise)) return undefined;
  return judged.then((wire) => {
    x.wire = wire;
  });
}

/** conversation: a request that continues a conversation the gateway stored gets all of it (counted, judged and forwarded whole). */
function conversation(x: Exchange): Promise<void> | undefined {
  const { surface } = x;
  const state = surface.kind === 'chat' ? surface.conversation : undefined;
  state?.checkStorable?.(x.wire);
  if (!state?.continues(x.wire)) return undefined;
  return state.load(x.wire, x.ctx.principal!.tenantId).then((wire) => {
    x.wire = wire;
  });
}

/** count: input tokens with the first deployment's tokenizer, and the cost estimate. */
function count(x: Exchange): void {
  const { ctx } = x;
  const model = x.model!;
  const upstreamModel = x.chain[0]!.deployments[0]?.target.upstreamModel ?? model.publicModel;
  const { surface } = x;
  if (surface.kind === 'chat' && surface.estimateInputTokens) ctx.inputTokensEstimated = surface.estimateInputTokens(x.wire, upstreamModel);
  else {
    const pivot = countable(x);
    if (pivot) ctx.inputTokensEstimated = estimateInputTokens(pivot, upstreamModel);
  }
  ctx.costEstimatedUsd = estimateCost(ctx, model.price);
}

/** The body in pivot form for the tokenizer; undefined when it has none (the character estimate stands). */
function countable(x: Exchange): Parameters<typeof estimateInputTokens>[0] | undefined {
  const { surface } = x;
  if (surface.kind === 'embeddings') return surface.toEmbeddings(x.wire) as Parameters<typeof estimateInputTokens>[0];
  try {
    return surface.toChat(x.wire) as Parameters<typeof estimateInputTokens>[0];
  } catch {
    // Only a native provider can take this body (e.g. a server tool); forward decides.
    return undefined;
  }
}

/**
 * record-decision (audit.durability strict): the decision, with the worst case it holds, is
 * committed before anything is forwarded. When the store cannot take it the record is spooled
 * (fsynced) instead: storage.on_unavailable `open` forwards on that, `closed` refuses (503).
 */
async function recordDecision(x: Exchange, d: Pick<PipelineDeps, 'audit' | 'identity' | 'upstream' | 'storage'>): Promise<void> {
  const where = await d.audit.writeNow(scrubAuditRecord(buildAuditRecord(x.ctx, d.identity, 'decision'), d.upstream.scrubber));
  if (where === 'spooled' && d.storage && !d.storage.decide('audit')) throw storeUnavailable('Recording the decision before forwarding (audit.durability strict)');
}

/** store-content: what the audit keeps when the tenant stores content is what is forwarded (redactions applied). */
function storeContent(x: Exchange, byDefault: boolean): void {
  const { ctx } = x;
  if (!(ctx.principal!.tenant.store_content ?? byDefault)) return;
  const wire = x.wire as { messages?: unknown; input?: unknown };
  ctx.storedPrompt = wire.messages ?? wire.input ?? x.wire;
  ctx.storedCompletion = [];
}

export type { Exchange } from './exchange.js';
export type { RequestContext };
