/**
 * buildApp(deps): the HTTP surface. Reading top to bottom: body parsing, the per-request
 * context and authentication (before any body is read), the routes, and the two places errors
 * are rendered. It never listens; main.ts does.
 */
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { AuditWriter } from './audit/writer.js';
import type { SqliteTables } from './store/sqlite/database.js';
import type { ResponseStore } from './store/types.js';
import { adminApi } from './routes/admin/index.js';
import { auditRoutes } from './routes/admin/audit.js';
import { policyRoutes } from './routes/admin/policies.js';
import { reviewRoutes } from './routes/admin/reviews.js';
import { spendRoutes } from './routes/admin/spend.js';
import type { GatewayIdentity } from './audit/record.js';
import type { KeyDirectory } from './auth/directory.js';
import type { GatewayConfig } from './config/load.js';
import { GatewayError, toOpenAIError } from './errors.js';
import type { AlertNotifier } from './budget/alerts.js';
import type { BudgetLedger } from './budget/ledger.js';
import type { PolicyEngine } from './policy/engine.js';
import type { RateLimiter } from './ratelimit/limiter.js';
import type { ReviewQueue } from './review/queue.js';
import { auditRequest, type AuditObserver } from './pipeline/audit.js';
import type { GatewayMetrics } from './telemetry/metrics.js';
import { RequestContext } from './pipeline/context.js';
import { Pipeline } from './pipeline/run.js';
import type { UpstreamClient } from './pipeline/forward.js';
import { sendError } from './pipeline/respond.js';
import type { RouteTable } from './pipeline/select-route.js';
import { healthRoutes } from './routes/health.js';
import { modelsRoute } from './routes/models.js';
import { surfaceOf, surfaceRoutes } from './routes/surfaces.js';

export interface GatewayDeps {
  config: GatewayConfig;
  keys: KeyDirectory;
  routes: RouteTable;
  upstream: UpstreamClient;
  policy: PolicyEngine;
  limiter: RateLimiter;
  budgets: BudgetLedger;
  /** How long a budget hold lives if a request never settles (crash): its longest possible life. */
  reservationTtlMs: number;
  alerts: AlertNotifier;
  reviews: ReviewQueue;
  audit: AuditWriter;
  /** Stored /v1/responses results (conversation state). */
  responses: ResponseStore;
  /** The embedded store (audit queries for the admin API). */
  db: Kysely<SqliteTables>;
  identity: GatewayIdentity;
  /** Sees every finished request's audit record (metrics, traces). */
  observeRecord: AuditObserver;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Abort handles of requests in flight, so a shutdown past its grace period can end them. */
  inFlight: Set<AbortController>;
  /** Readiness checks beyond "the process is up" (store reachable, …). */
  readiness: () => Promise<Record<string, unknown>>;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext | null;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function buildApp(deps: GatewayDeps): FastifyInstance {
  const { config } = deps;
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // The audit trail records every request; a second log line per request would only cost time.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.body_limit,
    trustProxy: config.server.trust_proxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A client-supplied request id is kept when it is sane, so traces join up across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`;
    },
  });
  app.decorateRequest('ctx', null);
  // The stages get their dependencies member by member; GatewayDeps stays with the app and admin routes.
  const pipeline = new Pipeline({
    keys: deps.keys,
    routes: deps.routes,
    upstream: deps.upstream,
    policy: deps.policy,
    limiter: deps.limiter,
    budgets: deps.budgets,
    alerts: deps.alerts,
    reviews: deps.reviews,
    audit: deps.audit,
    identity: deps.identity,
    observeRecord: deps.observeRecord,
    inFlight: deps.inFlight,
    settings: {
      routing: config.routing,
      rateLimitMaxWaitMs: config.rate_limiting.max_wait,
      reservationTtlMs: deps.reservationTtlMs,
      strictAudit: config.audit.durability === 'strict',
      storeContent: config.audit.store_content,
    },
  });

  // JSON only, checked strictly: invalid UTF-8 is refused, not silently replaced with U+FFFD.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buf = body as Buffer;
    if (request.ctx) request.ctx.bodyBytes = buf.length;
    if (!isUtf8(buf)) return done(new GatewayError('invalid_encoding', 'The request body is not valid UTF-8.'), undefined);
    try {
      done(null, JSON.parse(buf.toString('utf8')));
    } catch (err) {
      done(new GatewayError('invalid_json', `The request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  // Every /v1 request gets its context and is authenticated before its body is read.
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/')) return;
    const ctx = newContext(request);
    request.ctx = ctx;
    await pipeline.authenticate(request);
  });

  surfaceRoutes(app, pipeline, { responses: deps.responses, responsesSettings: { store: config.responses.store, retentionMs: config.responses.retention } });
  modelsRoute(app, pipeline, config);
  healthRoutes(app, deps);
  adminApi(app, deps, [reviewRoutes, spendRoutes, policyRoutes, auditRoutes]);

  app.setErrorHandler((err, request, reply) => {
    const gw = fromFastifyError(err);
    if (!(err instanceof GatewayError) && gw.code === 'internal_error') request.log.error({ err }, 'unhandled error');
    if (!request.ctx) {
      const { status, body } = toOpenAIError(gw);
      return reply.code(status).send(body);
    }
    sendError(reply, request.ctx, gw, surfaceOf(request)?.renderError);
    auditRequest(request.ctx, deps);
  });

  app.setNotFoundHandler((request, reply) => {
    const gw = new GatewayError('unknown_endpoint', `Unknown endpoint: ${request.method} ${request.url.split('?')[0]}.`);
    if (!request.ctx) {
      const { status, body } = toOpenAIError(gw);
      return reply.code(status).send(body);
    }
    sendError(reply, request.ctx, gw);
    auditRequest(request.ctx, deps);
  });

  return app;
}

function newContext(request: FastifyRequest): RequestContext {
  const h = request.headers;
  const lang = h['x-stainless-lang'];
  const sdk = typeof lang === 'string' ? `${lang}/${String(h['x-stainless-package-version'] ?? '?')}` : null;
  return new RequestContext(
    request.id,
    request.url.split('?')[0]!,
    request.method,
    request.ip,
    typeof h['user-agent'] === 'string' ? h['user-agent'].slice(0, 256) : null,
    sdk,
  );
}

/** Fastify's own errors (content type, body size, …) mapped to the catalog. */
function fromFastifyError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new GatewayError('unsupported_media_type', 'Content-Type must be application/json.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('request_too_large', 'The request body is larger than the gateway accepts (server.body_limit).');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('invalid_json', 'The request body is empty.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('invalid_request', 'Content-Length does not match the body.');
    default:
      if ((err as { statusCode?: number }).statusCode === 400) {
        return new GatewayError('invalid_request', (err as Error).message);
      }
      return new GatewayError('internal_error', 'The gateway hit an internal error. The request id identifies it in the logs.', { cause: err });
  }
}
