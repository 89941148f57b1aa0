/**
 * buildApp(deps): the HTTP surface. Reading top to bottom: the listener's limits and path
 * canonicalisation, body parsing, the per-request context and authentication (before any body
 * is read), the routes, and the places errors are rendered. It never listens; main.ts does.
 */
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LazyChildLogger } from './telemetry/logger.js';
import type { AuditWriter } from './audit/writer.js';
import type { Admission } from './store/admission.js';
import type { StoreAvailability } from './store/availability.js';
import type { ResponseStore, SignalBus, Stores } from './store/types.js';
import { adminApi } from './routes/admin/index.js';
import { consoleRoutes } from './admin/console-static.js';
import { adminApi as adminApiV1, type AdminModule } from './admin/api.js';
import type { PrincipalResolver } from './admin/principal.js';
import { auditRoutes as adminAudit } from './admin/routes/audit.js';
import { healthRoutes as adminHealth } from './admin/routes/health.js';
import { overviewRoutes as adminOverview } from './admin/routes/overview.js';
import { policyRoutes as adminPolicies } from './admin/routes/policies.js';
import { reviewRoutes as adminReviews } from './admin/routes/reviews.js';
import { spendRoutes as adminSpend } from './admin/routes/spend.js';
import { ConsoleSessions, sessionResolver } from './admin/sessions.js';
import { sessionSettings, signinRoutes } from './admin/signin-routes.js';
import { entityRoutes } from './admin/routes/entities.js';
import { keyRoutes } from './admin/routes/keys.js';
import { providerRoutes } from './admin/routes/providers.js';
import { auditRoutes } from './routes/admin/audit.js';
import { policyRoutes } from './routes/admin/policies.js';
import { reviewRoutes } from './routes/admin/reviews.js';
import { spendRoutes } from './routes/admin/spend.js';
import type { GatewayIdentity } from './audit/record.js';
import type { GatewayConfig } from './config/load.js';
import type { ConfigHolder } from './config/snapshot.js';
import type { RuntimeConfig } from './config/runtime.js';
import type { CredentialSealer } from './config/credentials.js';
import { GatewayError, toOpenAIError } from './errors.js';
import type { AlertNotifier } from './budget/alerts.js';
import type { BudgetLedger } from './budget/ledger.js';
import type { PolicyEngine } from './policy/engine.js';
import type { PolicySync } from './policy/sync.js';
import type { RateLimiter } from './ratelimit/limiter.js';
import type { ReviewQueue } from './review/queue.js';
import type { AuditObserver } from './pipeline/audit.js';
import type { GatewayMetrics } from './telemetry/metrics.js';
import { Pipeline } from './pipeline/run.js';
import { canonicalUrl } from './edge/canonical-path.js';
import { clientErrorHandler, frameworkErrors, receiving } from './edge/client-errors.js';
import { limitConnections } from './edge/connections.js';
import { EdgeGuard } from './edge/guard.js';
import { contextOf } from './edge/request-context.js';
import type { RequestContext } from './pipeline/context.js';
import type { UpstreamClient } from './pipeline/forward.js';
import { sendError } from './pipeline/respond.js';
import { healthRoutes } from './routes/health.js';
import type { McpSessions } from './mcp/sessions.js';
import { mcpRoutes } from './routes/mcp.js';
import { modelsRoute } from './routes/models.js';
import { surfaceOf, surfaceRoutes } from './routes/surfaces.js';

export interface GatewayDeps {
  /** The configuration the process started with: listener, storage and other restart-only settings. */
  config: GatewayConfig;
  /** The configuration in force (tenants, keys, models, providers): swapped atomically on reload. */
  snapshots: ConfigHolder;
  /** Reloads and admin writes of the configuration (the holder above is `runtime.holder`). */
  runtime: RuntimeConfig;
  /** Seals provider credentials (OMEGA_MASTER_KEY); undefined when no master key is set. */
  sealer: CredentialSealer | undefined;
  upstream: UpstreamClient;
  policy: PolicyEngine;
  limiter: RateLimiter;
  budgets: BudgetLedger;
  /** Quotas and budget holds in one call, when they live in Redis (see PipelineDeps.admission). */
  admission?: Admission;
  /** How long a budget hold lives if a request never settles (crash): its longest possible life. */
  reservationTtlMs: number;
  alerts: AlertNotifier;
  reviews: ReviewQueue;
  /** Announces admin policy changes to every replica. */
  policySync: PolicySync;
  /** What replicas tell each other (review created/decided, policy replaced, key revoked). */
  signals: SignalBus;
  audit: AuditWriter;
  /** Stored /v1/responses results (conversation state): `stores.responses` in the gateway. */
  responses: ResponseStore;
  /** Every durable store, opened by `openStores` from `storage.url` (admin queries read through it). */
  stores: Stores;
  /** The durable store's degraded mode (storage.on_unavailable); absent in tests that build the app alone. */
  storage?: StoreAvailability;
  identity: GatewayIdentity;
  /** Sees every finished request's audit record (metrics, traces). */
  observeRecord: AuditObserver;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Abort handles of requests in flight, so a shutdown past its grace period can end them. */
  inFlight: Set<AbortController>;
  /** Readiness checks beyond "the process is up" (store reachable, …); `ready: false` makes /readyz answer 503. */
  readiness: () => Promise<Record<string, unknown> & { ready?: boolean }>;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext | null;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What other parts of the admin surface plug in (runtime configuration routes, console sign-in). */
export interface AppOptions {
  adminModules?: AdminModule[];
  /** Tried after admin tokens (e.g. the console's session cookie). */
  adminResolvers?: PrincipalResolver[];
}

export function buildApp(deps: GatewayDeps, options: AppOptions = {}): FastifyInstance {
  const { config } = deps;
  const server = config.server;
  // Throttle and refusal sampling, shared by the hooks below, the admin API and the HTTP layer's own errors.
  const edge = new EdgeGuard(deps);
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // The audit trail records every request; a second log line per request would only cost time.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: server.body_limit,
    trustProxy: server.trust_proxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Connections: a request (headers and body) must arrive within request_timeout (408), idle
    // keep-alive sockets are closed; Node checks the timers every second, not every 30 s.
    requestTimeout: server.request_timeout,
    keepAliveTimeout: server.keep_alive_timeout,
    maxRequestsPerSocket: server.max_requests_per_socket,
    http: { headersTimeout: server.headers_timeout, connectionsCheckingInterval: Math.min(1000, server.headers_timeout) },
    // One path for every decision: routing, authentication and the audit see the canonical path,
    // matched without regard to case.
    rewriteUrl: (req) => canonicalUrl(req.url ?? '/'),
    routerOptions: { caseSensitive: false, ignoreDuplicateSlashes: true },
    clientErrorHandler: clientErrorHandler(edge),
    frameworkErrors: frameworkErrors(edge),
    // A client-supplied request id is kept when it is sane, so traces join up across services.
    // request.log is made on first use (telemetry/logger.ts): almost no request writes a line.
    childLoggerFactory: (logger, bindings, options) => new LazyChildLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`;
    },
  });
  app.addHook('onClose', async () => edge.close());
  limitConnections(app.server, { maxConnections: server.max_connections, maxPerIp: server.max_connections_per_ip, onRefused: () => deps.metrics.refusal('too_many_connections') });
  app.decorateRequest('ctx', null);
  // The stages get their dependencies member by member; GatewayDeps stays with the app and admin routes.
  const pipeline = new Pipeline({
    snapshots: deps.snapshots,
    upstream: deps.upstream,
    policy: deps.policy,
    limiter: deps.limiter,
    budgets: deps.budgets,
    admission: deps.admission,
    alerts: deps.alerts,
    reviews: deps.reviews,
    audit: deps.audit,
    identity: deps.identity,
    observeRecord: deps.observeRecord,
    inFlight: deps.inFlight,
    storage: deps.storage,
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
    // The body is in: a later timeout of this socket is not this request's.
    receiving.delete(request.raw.socket);
    if (!isUtf8(buf)) return done(new GatewayError('invalid_encoding', 'The request body is not valid UTF-8.'), undefined);
    try {
      done(null, JSON.parse(buf.toString('utf8')));
    } catch (err) {
      done(new GatewayError('invalid_json', `The request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  // The decision follows the route the router matched (not the URL's spelling): every request
  // a /v1 route serves is authenticated, before its body is read. Unknown paths get a context
  // too, for their 404 and its audit record.
  app.addHook('onRequest', async (request) => {
    if ((request.originalUrl ?? request.url).length > server.max_url_length) {
      request.ctx = contextOf(request);
      throw new GatewayError('uri_too_long', `The request URL is longer than the gateway accepts (server.max_url_length, ${server.max_url_length}).`);
    }
    if (request.is404) {
      request.ctx = contextOf(request);
      return;
    }
    const url = request.routeOptions.url;
    if (!url?.startsWith('/v1/') && !url?.startsWith('/mcp/') && url !== '/mcp') return;
    const ctx = contextOf(request);
    request.ctx = ctx;
    receiving.set(request.raw.socket, ctx);
    await pipeline.authenticate(request, edge.throttle);
  });
  // Callback style: an async hook costs a promise per request.
  app.addHook('onResponse', (request, _reply, done) => {
    receiving.delete(request.raw.socket);
    done();
  });

  // The MCP SDK (~25 MB) loads on the first request to a configured MCP server, never otherwise.
  let mcpSessions: Promise<McpSessions> | undefined;
  const loadMcp = () =>
    (mcpSessions ??= import('./mcp/sessions.js').then(
      ({ McpSessions }) =>
        new McpSessions(
          config.mcp_servers,
          {
            policy: deps.policy,
            limiter: deps.limiter,
            budgets: deps.budgets,
            alerts: deps.alerts,
            reservationTtlMs: deps.reservationTtlMs,
            inFlight: deps.inFlight,
            reviews: deps.reviews,
            audit: deps.audit,
            identity: deps.identity,
            observeRecord: deps.observeRecord,
            upstream: deps.upstream,
          },
          deps.identity.version,
          deps.logger,
        ),
    ));
  app.addHook('onClose', async () => (await mcpSessions?.catch(() => undefined))?.closeAll());
  mcpRoutes(app, config.mcp_servers, loadMcp);
  surfaceRoutes(app, pipeline, { responses: deps.responses, responsesSettings: { store: config.responses.store, retentionMs: config.responses.retention }, storage: deps.storage });
  modelsRoute(app, pipeline);
  healthRoutes(app, deps, edge);
  // Console sign-in: sessions in the shared store, read by the admin API after the bearer token.
  const sessions = new ConsoleSessions(deps.stores.sessions, sessionSettings(config), Date.now, (idHash) => deps.signals.publish('session.ended', idHash));
  signinRoutes(app, deps, edge, sessions);
  adminApiV1(app, deps, edge, {
    modules: [adminReviews, adminAudit, adminSpend, adminOverview, adminPolicies, adminHealth, entityRoutes, keyRoutes, providerRoutes, ...(options.adminModules ?? [])],
    resolvers: [sessionResolver(sessions), ...(options.adminResolvers ?? [])],
  });
  // Deprecated /admin paths (before /admin/v1): kept for existing scripts, admin-role tokens of all tenants only.
  adminApi(app, deps, edge, [reviewRoutes, spendRoutes, policyRoutes, auditRoutes]);
  consoleRoutes(app);

  app.setErrorHandler((err, request, reply) => {
    const gw = fromFastifyError(err);
    if (!(err instanceof GatewayError) && gw.code === 'internal_error') request.log.error({ err }, 'unhandled error');
    if (!request.ctx) {
      const { status, body } = toOpenAIError(gw);
      return reply.code(status).headers(gw.headers ?? {}).send(body);
    }
    sendError(reply, request.ctx, gw, surfaceOf(request)?.renderError);
    edge.audit(request.ctx);
  });

  app.setNotFoundHandler((request, reply) => {
    const ctx = (request.ctx ??= contextOf(request));
    sendError(reply, ctx, new GatewayError('unknown_endpoint', `Unknown endpoint: ${request.method} ${ctx.endpoint.slice(0, 256)}.`));
    edge.audit(ctx);
  });

  return app;
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
