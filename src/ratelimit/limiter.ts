/**
 * Request and token quotas per minute. One `consume` per request over all rules that apply to
 * it (key, tenant, tenant+model, …), all or nothing, then one `adjust` with the real token count.
 * Shaped so a Redis implementation is one Lua script per call.
 */

/** A quota scope. Keys: 'key:key_1', 'tenant:acme', 'tenant-model:acme/gpt-5.4'. A rule with neither limit is ignored. */
export interface RateLimitRule {
  key: string;
  /** Requests per minute. */
  rpm?: number;
  /** Tokens per minute. */
  tpm?: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Time the request was held to smooth a spike (0 when capacity was there at once). */
  waitedMs: number;
  /** When to retry (0 when allowed): the time until this request would have been admitted. */
  retryAfterMs: number;
  /** The binding rule when refused. */
  rule?: RateLimitRule;
  /** Why it was refused: over the quota beyond the wait bound, or the caller gave up waiting. */
  reason?: 'rate_limited' | 'aborted';
  // For OpenAI-style headers x-ratelimit-{limit,remaining,reset}-{requests,tokens} (the tightest rule of each kind):
  limitRequests?: number;
  remainingRequests?: number;
  /** Time until the request quota is fully replenished. */
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensMs?: number;
}

export interface RateLimiter {
  /** Takes 1 request and `tokens` from every rule atomically (all or nothing). If not available now, waits up to `maxWaitMs` (FIFO-fair enough; abortable via signal) for capacity; then refuses with retryAfterMs. */
  consume(rules: RateLimitRule[], tokens: number, maxWaitMs: number, signal?: AbortSignal): Promise<RateLimitDecision>;
  /** After the response: corrects the token count taken (actual - estimated, may be negative). */
  adjust(rules: RateLimitRule[], tokenDelta: number): Promise<void>;
}

/** The rolling window the per-minute limits refer to: at most N admitted in any window of this length. */
export const RATE_WINDOW_MS = 60_000;
