/**
 * Stage: turn usage into dollars. Provider-reported usage is the truth; when a stream is cut
 * short before the provider reports it, the gateway counts what was delivered (estimated).
 */
import type { CompletionUsage } from 'openai/resources/completions';
import type { RequestContext, Usage } from './context.js';
import type { Price } from './select-route.js';

/** Rough token estimate (≈4 characters a token) where no tokenizer count or provider figure exists. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function usageFromOpenAI(u: CompletionUsage | { prompt_tokens?: number; total_tokens?: number } | null | undefined): Usage | undefined {
  if (!u) return undefined;
  const usage = u as Partial<CompletionUsage>;
  return {
    inputTokens: usage.prompt_tokens ?? 0,
    outputTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/**
 * USD for `usage` at the model's prices (per million tokens). Cached input is billed at
 * `cached_input` (default: the input price); reasoning tokens are part of output tokens.
 */
export function costOf(usage: Usage, price: Price): number {
  const uncached = Math.max(0, usage.inputTokens - usage.cachedTokens);
  const cachedPrice = price.cached_input ?? price.input;
  return (uncached * price.input + usage.cachedTokens * cachedPrice + usage.outputTokens * price.output) / 1_000_000;
}

/** The cost estimate before forwarding: estimated input tokens only (output is unknown yet). */
export function estimateCost(ctx: RequestContext, price: Price): number {
  return (ctx.inputTokensEstimated * price.input) / 1_000_000;
}

/** Settles ctx.usage and ctx.costUsd once the upstream exchange is over, on every path. */
export function meter(ctx: RequestContext): void {
  const route = ctx.route;
  if (!route || ctx.metered) return;
  ctx.metered = true;
  // A 2xx refused as not being a model answer (an HTML page, a JSON reply to a stream request)
  // delivered nothing: nothing to bill, the hold is released.
  const rejected = ctx.error?.code === 'upstream_invalid_response' && !ctx.streamInterrupted;
  if (!ctx.usage && !rejected && ctx.upstreamStatus !== null && ctx.upstreamStatus < 400) {
    // A stream that ended before the provider's usage chunk: bill what was delivered.
    ctx.usage = { inputTokens: ctx.inputTokensEstimated, outputTokens: estimateTokens(ctx.outputChars), cachedTokens: 0, reasoningTokens: 0 };
    ctx.usageEstimated = true;
  }
  if (ctx.usage) ctx.costUsd = costOf(ctx.usage, route.price);
}
