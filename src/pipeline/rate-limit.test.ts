import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import type { RateLimitRule } from '../ratelimit/limiter.js';
import { MemoryRateLimiter } from '../ratelimit/memory-limiter.js';
import { acmeTenant, principalOf, readContext, stageConfig } from '../../test/support/stage-fixtures.js';
import { adjustRateLimits, enforceRateLimits, rateLimitRules } from './rate-limit.js';
import { Pipeline, type Exchange, type PipelineDeps } from './run.js';
import { RouteTable } from './select-route.js';

/** The real limiter, counting the calls it gets. */
class CountingLimiter extends MemoryRateLimiter {
  consumed = 0;
  override consume(rules: RateLimitRule[], tokens: number, maxWaitMs: number, signal?: AbortSignal) {
    this.consumed++;
    return super.consume(rules, tokens, maxWaitMs, signal);
  }
}

const limiters: MemoryRateLimiter[] = [];
function limiter(): CountingLimiter {
  const l = new CountingLimiter({ sweepIntervalMs: 0 });
  limiters.push(l);
  return l;
}
afterEach(() => {
  for (const l of limiters.splice(0)) l.close();
});

const never = new AbortController().signal;

async function setup(scopes: Parameters<typeof acmeTenant>[0], body: Parameters<typeof readContext>[1] = {}) {
  const config = stageConfig(acmeTenant(scopes));
  const principal = await principalOf(config);
  return { config, principal, ...readContext(principal, body) };
}

describe('rate-limit stage', () => {
  it('builds one rule per scope and per model limit, and none for scopes without quotas', async () => {
    const { principal } = await setup({
      tenant: 'rate_limits: { rpm: 100, per_model: { gpt-test: { tpm: 5000 } } }',
      agent: 'rate_limits: { tpm: 2000 }',
      key: 'rate_limits: { rpm: 10 }',
    });
    expect(rateLimitRules(principal, 'gpt-test')).toEqual([
      { key: 'tenant:acme', rpm: 100, tpm: undefined },
      { key: 'tenant:acme/model:gpt-test', rpm: undefined, tpm: 5000 },
      { key: 'agent:acme/bot', rpm: undefined, tpm: 2000 },
      { key: 'key:key_acme_bot', rpm: 10, tpm: undefined },
    ]);
    expect(rateLimitRules(principal, 'embed-test').map((r) => r.key)).toEqual(['tenant:acme', 'agent:acme/bot', 'key:key_acme_bot']);
    const plain = await setup({});
    expect(rateLimitRules(plain.principal, 'gpt-test')).toEqual([]);
  });

  it('takes the request and its tokens, and records headers, remaining quota and what to correct later', async () => {
    const { ctx } = await setup({ tenant: 'rate_limits: { rpm: 60, tpm: 10000 }' }, { max_tokens: 100 });
    ctx.inputTokensEstimated = 50;
    await enforceRateLimits(ctx, limiter(), 'gpt-test', 0, never);
    expect(ctx.rateLimited).toBe(false);
    expect(ctx.rateLimitWaitMs).toBe(0);
    expect(ctx.rateLimitRemainingRequests).toBe(59);
    expect(ctx.rateLimitRemainingTokens).toBe(9850);
    expect(ctx.rateLimitHeaders).toMatchObject({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-limit-tokens': '10000',
      'x-ratelimit-remaining-tokens': '9850',
    });
    // OpenAI's duration format: `1m0s` once the window is full, `850ms`, `12.5s`, …
    expect(ctx.rateLimitHeaders!['x-ratelimit-reset-requests']).toMatch(/^(\d+m)?\d+(\.\d+)?(ms|s)$/);
    expect(ctx.rateLimitRules!.map((r) => r.key)).toEqual(['tenant:acme']);
    expect(ctx.rateLimitTokens).toBe(150);
  });

  it('refuses over the quota with 429, Retry-After and the rule that bound, and leaves nothing to correct', async () => {
    const l = limiter();
    const first = await setup({ agent: 'rate_limits: { per_model: { gpt-test: { rpm: 1 } } }' });
    await enforceRateLimits(first.ctx, l, 'gpt-test', 0, never);
    const { ctx } = readContext(first.principal);
    const err = (await enforceRateLimits(ctx, l, 'gpt-test', 0, never).catch((e: unknown) => e)) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('rate_limited');
    expect(err.status).toBe(429);
    expect(err.message).toContain('agent:acme/bot/model:gpt-test');
    expect(Number(err.headers!['retry-after'])).toBe(60);
    expect(Number(err.headers!['retry-after-ms'])).toBeGreaterThan(59_000);
    expect(err.headers!['x-ratelimit-remaining-requests']).toBe('0');
    expect(ctx.rateLimited).toBe(true);
    expect(ctx.rateLimitRules).toBeUndefined();
    // Another model is not limited by that rule (and has no other quota).
    const other = readContext(first.principal);
    await enforceRateLimits(other.ctx, l, 'embed-test', 0, never);
    expect(other.ctx.rateLimited).toBe(false);
    expect(other.ctx.rateLimitHeaders).toBeNull();
  });

  it('smooths a spike: waits for the window within max_wait and records the wait', async () => {
    // The limiter's clock runs in real time but is moved ahead by hand: the minute's tokens were taken 59.95 s ago.
    let ahead = 0;
    const l = new CountingLimiter({ sweepIntervalMs: 0, now: () => performance.now() + ahead });
    limiters.push(l);
    const { ctx, principal } = await setup({ tenant: 'rate_limits: { tpm: 60000 }' });
    ctx.inputTokensEstimated = 60_000; // the whole minute's tokens
    await enforceRateLimits(ctx, l, 'gpt-test', 0, never);
    ahead = 59_950;
    const next = readContext(principal).ctx;
    next.inputTokensEstimated = 50; // fits once the first request leaves the window, 50 ms from now
    await enforceRateLimits(next, l, 'gpt-test', 2000, never);
    expect(next.rateLimited).toBe(false);
    expect(next.rateLimitWaitMs).toBeGreaterThanOrEqual(30);
    expect(next.rateLimitWaitMs).toBeLessThan(2000);
  });

  it('gives back the tokens a request did not use once it is metered', async () => {
    const l = limiter();
    const { ctx, principal } = await setup({ tenant: 'rate_limits: { tpm: 1000 }' });
    ctx.inputTokensEstimated = 1000;
    await enforceRateLimits(ctx, l, 'gpt-test', 0, never);
    ctx.usage = { inputTokens: 10, outputTokens: 10, cachedTokens: 0, reasoningTokens: 0 };
    await adjustRateLimits(ctx, l);
    expect(ctx.rateLimitRules).toBeUndefined();
    await adjustRateLimits(ctx, l); // once only
    const next = readContext(principal).ctx;
    next.inputTokensEstimated = 900;
    await expect(enforceRateLimits(next, l, 'gpt-test', 0, never)).resolves.toBeUndefined();
    expect(next.rateLimitRemainingTokens).toBeCloseTo(80, 0);
  });

  it('does not apply without quotas: the runner calls no limiter and awaits nothing', async () => {
    const config = stageConfig(acmeTenant());
    const { ctx } = readContext(await principalOf(config));
    const routes = new RouteTable(config);
    const l = limiter();
    const pipeline = new Pipeline({ limiter: l, settings: { rateLimitMaxWaitMs: 1000 } } as unknown as PipelineDeps);
    const stage = pipeline.stages.find((s) => s.name === 'rate-limit')!;
    const x = { ctx, model: routes.resolve('gpt-test', ctx.principal!, 'chat'), signal: never } as unknown as Exchange;
    expect(stage.run(x)).toBeUndefined();
    await enforceRateLimits(ctx, l, 'gpt-test', 1000, never);
    expect(l.consumed).toBe(0);
    expect(ctx.rateLimitHeaders).toBeNull();
    expect(ctx.rateLimitRules).toBeUndefined();
  });
});
