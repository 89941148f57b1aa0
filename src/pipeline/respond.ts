/**
 * Everything a client receives besides the provider's answer: the `x-omega-*` headers (on every
 * /v1 response, errors included) and errors in the OpenAI shape.
 */
import type { FastifyReply } from 'fastify';
import { asGatewayError, toOpenAIError, type GatewayError } from '../errors.js';
import type { RenderedError } from '../surfaces/surface.js';
import type { RequestContext } from './context.js';
import { tightestRemaining } from './reserve-budget.js';

/** The gateway's headers for this request; cost is the actual figure once known, else the estimate. */
export function omegaHeaders(ctx: RequestContext): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': ctx.requestId,
    'x-omega-decision-id': ctx.decisionId,
    'x-omega-risk-score': ctx.riskScore.toFixed(2),
    'x-omega-policy-outcome': ctx.outcome,
    'x-omega-cost-usd': formatUsd(ctx.usage ? ctx.costUsd : ctx.costEstimatedUsd),
    'x-omega-latency-ms': ctx.gatewayMs().toFixed(2),
  };
  if (ctx.route) headers['x-omega-model'] = ctx.route.publicModel;
  const budgetLeft = tightestRemaining(ctx.budgetRemainingUsd);
  if (budgetLeft !== undefined) headers['x-omega-budget-remaining-usd'] = budgetLeft.toFixed(6);
  if (ctx.rateLimitHeaders) Object.assign(headers, ctx.rateLimitHeaders);
  if (ctx.upstreamRequestId) headers['x-omega-upstream-request-id'] = ctx.upstreamRequestId;
  return headers;
}

/** Sends `err` in the client API's error shape (OpenAI's unless given) with the gateway headers, and records it on the context. */
export function sendError(reply: FastifyReply, ctx: RequestContext, err: unknown, render: (err: GatewayError) => RenderedError = toOpenAIError): void {
  const gw = asGatewayError(err);
  ctx.error = gw;
  ctx.httpStatus = gw.status;
  // Refused before reaching a provider: the gateway's decision was to block it.
  if (ctx.upstreamStatus === null && ctx.attempts === 0) ctx.outcome = 'BLOCK';
  const { status, body } = render(gw);
  const headers = omegaHeaders(ctx);
  if (gw.headers) Object.assign(headers, gw.headers);
  if (!gw.retryable) headers['x-should-retry'] = 'false';
  reply.code(status).headers(headers).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

function formatUsd(usd: number): string {
  return usd === 0 ? '0' : usd.toFixed(8).replace(/0+$/, '');
}
