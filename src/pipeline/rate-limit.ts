/**
 * Stage: request and token quotas per minute for the key, agent, team and tenant, and per
 * model within each of them. A request over a quota waits up to `rate_limiting.max_wait` for
 * capacity (smoothing spikes) before it is refused with 429 and OpenAI-style headers.
 */
import type { Principal } from '../auth/directory.js';
import type { RateLimitConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { RateLimitDecision, RateLimiter, RateLimitRule } from '../ratelimit/limiter.js';
import type { RequestContext } from './context.js';

const ruleCache = new WeakMap<Principal, Map<string, RateLimitRule[]>>();

/** The quota rules for a principal using `model`, built once per (principal, model). */
export function rateLimitRules(p: Principal, model: string): RateLimitRule[] {
  let perModel = ruleCache.get(p);
  if (!perModel) ruleCache.set(p, (perModel = new Map()));
  let rules = perModel.get(model);
  if (!rules) {
    const key = p.agent.keys.find((k) => k.id === p.keyId);
    const scopes: [string, RateLimitConfig | undefined][] = [
      [`tenant:${p.tenantId}`, p.tenant.rate_limits],
      [`team:${p.tenantId}/${p.teamId}`, p.team.rate_limits],
      [`agent:${p.tenantId}/${p.agentId}`, p.agent.rate_limits],
      [`key:${p.keyId}`, key?.rate_limits],
    ];
    rules = [];
    for (const [scope, limits] of scopes) {
      if (!limits) continue;
      if (limits.rpm || limits.tpm) rules.push({ key: scope, rpm: limits.rpm, tpm: limits.tpm });
      const m = limits.per_model[model];
      if (m && (m.rpm || m.tpm)) rules.push({ key: `${scope}/model:${model}`, rpm: m.rpm, tpm: m.tpm });
    }
    perModel.set(model, rules);
  }
  return rules;
}

export async function enforceRateLimits(ctx: RequestContext, limiter: RateLimiter, model: string, maxWaitMs: number, signal: AbortSignal): Promise<void> {
  const rules = rateLimitRules(ctx.principal!, model);
  if (rules.length === 0) return;
  const tokens = quotaTokens(ctx);
  applyRateDecision(ctx, await limiter.consume(rules, tokens, maxWaitMs, signal), rules, tokens);
}

/** What a request takes from tpm quotas: estimated input plus its output bound. */
export function quotaTokens(ctx: RequestContext): number {
  return ctx.inputTokensEstimated + (ctx.facts?.maxTokens ?? 0);
}

/**
 * Records a quota decision on the context (figures, headers, what to adjust after metering);
 * throws 429 when it refused. Shared by this stage and combined admission (reserve-budget.ts).
 */
export function applyRateDecision(ctx: RequestContext, decision: RateLimitDecision, rules: RateLimitRule[], tokens: number): void {
  ctx.rateLimitWaitMs = decision.waitedMs;
  ctx.rateLimitRemainingRequests = decision.remainingRequests ?? null;
  ctx.rateLimitRemainingTokens = decision.remainingTokens ?? null;
  ctx.rateLimitHeaders = rateLimitHeaders(decision);
  if (!decision.allowed) {
    ctx.rateLimited = true;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new GatewayError('rate_limited', `Rate limit reached for ${decision.rule?.key ?? 'this key'}; retry after ${seconds}s.`, {
      headers: { ...ctx.rateLimitHeaders, 'retry-after': String(seconds), 'retry-after-ms': String(Math.ceil(decision.retryAfterMs)) },
    });
  }
  if (rules.length === 0) return;
  ctx.rateLimitRules = rules;
  ctx.rateLimitTokens = tokens;
}

/** After metering: give back (or take) the difference between estimated and actual tokens. */
export async function adjustRateLimits(ctx: RequestContext, limiter: RateLimiter): Promise<void> {
  const rules = ctx.rateLimitRules;
  if (!rules) return;
  ctx.rateLimitRules = undefined;
  const actual = ctx.usage ? ctx.usage.inputTokens + ctx.usage.outputTokens : 0;
  await limiter.adjust(rules, actual - ctx.rateLimitTokens).catch(() => undefined);
}

/** OpenAI's x-ratelimit-* headers for the tightest rule of each kind. */
function rateLimitHeaders(d: RateLimitDecision): Record<string, string> {
  const h: Record<string, string> = {};
  if (d.limitRequests !== undefined) {
    h['x-ratelimit-limit-requests'] = String(d.limitRequests);
    h['x-ratelimit-remaining-requests'] = String(Math.max(0, Math.floor(d.remainingRequests ?? 0)));
    h['x-ratelimit-reset-requests'] = formatDuration(d.resetRequestsMs ?? 0);
  }
  if (d.limitTokens !== undefined) {
    h['x-ratelimit-limit-tokens'] = String(d.limitTokens);
    h['x-ratelimit-remaining-tokens'] = String(Math.max(0, Math.floor(d.remainingTokens ?? 0)));
    h['x-ratelimit-reset-tokens'] = formatDuration(d.resetTokensMs ?? 0);
  }
  return h;
}

/** OpenAI's duration style: `250ms`, `1.5s`, `6m0s`. */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}
