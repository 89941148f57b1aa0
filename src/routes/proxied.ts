/**
 * The frame every proxied endpoint runs in: an abort signal tied to the client connection, one
 * error path in the OpenAI shape, and the audit record written exactly once in `finally`. The
 * request is registered in flight before anything can throw and removed on every path, so a
 * shutdown never waits for a request that is already over.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayDeps } from '../app.js';
import { auditRequest } from '../pipeline/audit.js';
import type { RequestContext } from '../pipeline/context.js';
import { sendError } from '../pipeline/respond.js';
import { meter } from '../pipeline/meter.js';
import { adjustRateLimits } from '../pipeline/rate-limit.js';
import { settleBudget } from '../pipeline/reserve-budget.js';
import { GatewayError } from '../errors.js';

/** nginx's convention for "client closed the request", used in the audit only. */
const CLIENT_CLOSED_REQUEST = 499;

/** The abort reason of requests a shutdown ends past its grace period (main.ts close()). */
export const SHUTDOWN_ABORT = new GatewayError('shutting_down', 'The gateway is shutting down; the request was aborted before it finished.');
/** `upstream_error` of a request ended by a shutdown (docs/audit-signals.md). */
const ABORTED_BY_SHUTDOWN = 'aborted by gateway shutdown';

export async function runProxied(
  deps: GatewayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  work: (ctx: RequestContext, signal: AbortController) => Promise<void>,
): Promise<void> {
  const abort = new AbortController();
  deps.inFlight.add(abort);
  const ctx = request.ctx;
  try {
    // The authentication hook gives every /v1 route a context; without one nothing may run.
    if (!ctx?.principal) throw new GatewayError('internal_error', 'The gateway hit an internal error. The request id identifies it in the logs.');
    await runWithContext(deps, request, reply, ctx, abort, work);
  } finally {
    deps.inFlight.delete(abort);
  }
}

async function runWithContext(
  deps: GatewayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RequestContext,
  abort: AbortController,
  work: (ctx: RequestContext, signal: AbortController) => Promise<void>,
): Promise<void> {
  const onClose = () => {
    if (!reply.raw.writableFinished && abort.signal.reason !== SHUTDOWN_ABORT) {
      ctx.clientDisconnected = true;
      abort.abort();
    }
  };
  reply.raw.on('close', onClose);
  try {
    await work(ctx, abort);
  } catch (err) {
    const shutdown = abort.signal.reason === SHUTDOWN_ABORT && !ctx.clientDisconnected;
    if (ctx.clientDisconnected) {
      ctx.httpStatus = CLIENT_CLOSED_REQUEST;
    } else if (!reply.raw.headersSent) {
      sendError(reply, ctx, shutdown ? SHUTDOWN_ABORT : err);
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
      if (ctx.reservation) await settleBudget(ctx, deps.budgets, deps.alerts);
      if (ctx.rateLimitRules) await adjustRateLimits(ctx, deps.limiter);
    } catch (err) {
      request.log.error({ err, decisionId: ctx.decisionId }, 'settling a request failed');
    } finally {
      auditRequest(ctx, deps);
    }
  }
}
