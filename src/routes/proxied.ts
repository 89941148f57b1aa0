/**
 * The frame every proxied endpoint runs in: an abort signal tied to the client connection, one
 * error path in the OpenAI shape, and the audit record written exactly once in `finally`.
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

export async function runProxied(
  deps: GatewayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  work: (ctx: RequestContext, signal: AbortController) => Promise<void>,
): Promise<void> {
  const ctx = request.ctx!;
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) {
      ctx.clientDisconnected = true;
      abort.abort();
    }
  };
  reply.raw.on('close', onClose);
  deps.inFlight.add(abort);
  try {
    await work(ctx, abort);
  } catch (err) {
    if (ctx.clientDisconnected) {
      ctx.httpStatus = CLIENT_CLOSED_REQUEST;
    } else if (!reply.raw.headersSent) {
      sendError(reply, ctx, err);
    }
    // Catalog errors are expected outcomes (and audited); anything else is a bug worth a log line.
    if (!(err instanceof GatewayError)) request.log.error({ err, decisionId: ctx.decisionId }, 'request failed');
  } finally {
    reply.raw.off('close', onClose);
    // Settlement runs on every path (success, refusal, upstream fault, client gone) before the
    // audit record, which then carries the settled budget figures.
    meter(ctx);
    if (ctx.reservation) await settleBudget(ctx, deps.budgets, deps.alerts);
    if (ctx.rateLimitRules) await adjustRateLimits(ctx, deps.limiter);
    deps.inFlight.delete(abort);
    auditRequest(ctx, deps);
  }
}
