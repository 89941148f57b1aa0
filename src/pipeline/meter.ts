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

/** No single answer is billed for more tokens than this per field; larger reports are clamped. */
export const MAX_USAGE_TOKENS = 10_000_000;

/**
 * A provider-reported token count: a finite, non-negative number, rounded up to an integer and
 * capped. Anything else (a string, null, a negative, NaN, Infinity from `1e400`) is not a count.
 */
function tokenCount(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined;
  return Math.min(Math.ceil(v), MAX_USAGE_TOKENS);
}

/**
 * Reads a provider's usage (every adapter reports it in the OpenAI shape). Usage that is not a
 * valid count returns undefined, so the meter bills the gateway's own estimate instead: cost
 * is never NaN or Infinity, and a bogus report cannot zero a bill.
 */
export function usageFromOpenAI(u: CompletionUsage | { prompt_tokens?: number; total_tokens?: number } | null | undefined): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const usage = u as Partial<Record<keyof CompletionUsage, unknown>>;
  const input = tokenCount(usage.prompt_tokens);
  // Embeddings report no completion tokens; a chat answer's explicit null is no count.
  const output = usage.completion_tokens === undefined ? 0 : tokenCount(usage.completion_tokens);
  if (input === undefined || output === undefined) return undefined;
  const details = (v: unknown, key: string) => (v && typeof v === 'object' ? tokenCount((v as Record<string, unknown>)[key]) : undefined) ?? 0;
  return {
    inputTokens: input,
    outputTokens: output,
    cachedTokens: Math.min(details(usage.prompt_tokens_details, 'cached_tokens'), input),
    reasoningTokens: Math.min(details(usage.completion_tokens_details, 'reasoning_tokens'), output),
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
