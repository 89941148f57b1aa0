import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { RequestContext } from './context.js';
import { omegaHeaders, sendError } from './respond.js';

function context(): RequestContext {
  return new RequestContext('req_abc', '/v1/chat/completions', 'POST', '127.0.0.1', null, null);
}

describe('respond', () => {
  it('names the decision, outcome, risk, cost and gateway latency on every answer', () => {
    const ctx = context();
    ctx.riskScore = 0.4213;
    ctx.outcome = 'REVIEW';
    ctx.costEstimatedUsd = 0.0032;
    const h = omegaHeaders(ctx);
    expect(h['x-request-id']).toBe('req_abc');
    expect(h['x-omega-decision-id']).toBe(ctx.decisionId);
    expect(h['x-omega-risk-score']).toBe('0.42');
    expect(h['x-omega-policy-outcome']).toBe('REVIEW');
    expect(h['x-omega-cost-usd']).toBe('0.0032');
    expect(Number(h['x-omega-latency-ms'])).toBeGreaterThanOrEqual(0);
    // The actual cost replaces the estimate once usage is known.
    ctx.usage = { inputTokens: 1, outputTokens: 1, cachedTokens: 0, reasoningTokens: 0 };
    ctx.costUsd = 0.5;
    expect(omegaHeaders(ctx)['x-omega-cost-usd']).toBe('0.5');
  });

  it('renders an error in the surface’s shape, records it, and marks refusals before any provider as BLOCK', async () => {
    const app = Fastify();
    const ctx = context();
    app.get('/openai', (_req, reply) => sendError(reply, ctx, new GatewayError('rate_limited', 'slow down', { headers: { 'retry-after': '3' } })));
    const other = context();
    app.get('/custom', (_req, reply) =>
      sendError(reply, other, new GatewayError('policy_blocked', 'no'), (err) => ({ status: 403, body: { type: 'error', error: { type: 'permission_error', message: err.message } } })),
    );
    const a = await app.inject({ method: 'GET', url: '/openai' });
    expect(a.statusCode).toBe(429);
    expect(a.json()).toEqual({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limited' } });
    expect(a.headers['retry-after']).toBe('3');
    expect(a.headers['x-should-retry']).toBeUndefined();
    expect(a.headers['x-omega-policy-outcome']).toBe('BLOCK');
    expect(ctx.httpStatus).toBe(429);
    expect(ctx.error?.code).toBe('rate_limited');

    const b = await app.inject({ method: 'GET', url: '/custom' });
    expect(b.json()).toEqual({ type: 'error', error: { type: 'permission_error', message: 'no' } });
    expect(b.headers['x-should-retry']).toBe('false');
    await app.close();
  });

  it('hides the cause of unknown errors behind a generic 500', async () => {
    const app = Fastify();
    const ctx = context();
    app.get('/', (_req, reply) => sendError(reply, ctx, new Error('password=hunter2 at db.ts:12')));
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.json().error.code).toBe('internal_error');
    await app.close();
  });
});
