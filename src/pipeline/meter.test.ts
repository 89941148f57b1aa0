import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { RequestContext } from './context.js';
import { costOf, meter, usageFromOpenAI } from './meter.js';
import type { ResolvedRoute } from './select-route.js';

const price = { input: 2, output: 8, cached_input: 0.5 };
const route = { publicModel: 'gpt-test', price } as unknown as ResolvedRoute;

function context(): RequestContext {
  const ctx = new RequestContext('req_1', '/v1/chat/completions', 'POST', '127.0.0.1', null, null);
  ctx.route = route;
  return ctx;
}

describe('meter', () => {
  it('prices provider usage, cached input at its own price', () => {
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 500_000, cachedTokens: 200_000, reasoningTokens: 0 }, price)).toBeCloseTo(0.8 * 2 + 0.2 * 0.5 + 0.5 * 8, 10);
    expect(usageFromOpenAI({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 } })).toEqual({
      inputTokens: 10,
      outputTokens: 5,
      cachedTokens: 4,
      reasoningTokens: 0,
    });
  });

  it('runs once per request: later calls change nothing', () => {
    const ctx = context();
    ctx.usage = { inputTokens: 1000, outputTokens: 1000, cachedTokens: 0, reasoningTokens: 0 };
    meter(ctx);
    const first = ctx.costUsd;
    ctx.usage = { inputTokens: 9_000_000, outputTokens: 0, cachedTokens: 0, reasoningTokens: 0 };
    meter(ctx);
    expect(ctx.costUsd).toBe(first);
    expect(ctx.metered).toBe(true);
  });

  it('bills what was delivered when a stream ends before the provider reports usage', () => {
    const ctx = context();
    ctx.upstreamStatus = 200;
    ctx.inputTokensEstimated = 100;
    ctx.outputChars = 400;
    meter(ctx);
    expect(ctx.usageEstimated).toBe(true);
    expect(ctx.usage).toEqual({ inputTokens: 100, outputTokens: 100, cachedTokens: 0, reasoningTokens: 0 });
    expect(ctx.costUsd).toBeCloseTo((100 * 2 + 100 * 8) / 1e6, 12);
  });

  it('bills nothing for a refused answer, an upstream error, or a request that never reached a provider', () => {
    const rejected = context();
    rejected.upstreamStatus = 200;
    rejected.error = new GatewayError('upstream_invalid_response', 'not JSON');
    meter(rejected);
    const failed = context();
    failed.upstreamStatus = 500;
    meter(failed);
    const refused = context();
    meter(refused);
    for (const ctx of [rejected, failed, refused]) {
      expect(ctx.usage).toBeUndefined();
      expect(ctx.costUsd).toBe(0);
    }
  });

  it('does nothing before a route is chosen', () => {
    const ctx = new RequestContext('req_2', '/v1/chat/completions', 'POST', '127.0.0.1', null, null);
    ctx.upstreamStatus = 200;
    meter(ctx);
    expect(ctx.metered).toBe(false);
    expect(ctx.usage).toBeUndefined();
  });
});
