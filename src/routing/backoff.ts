/**
 * Delay before retry number `retry` (0-based): exponential from `initial`, capped at `max`, with
 * "equal jitter" (half fixed, half random) so synchronized clients spread out. A provider's
 * Retry-After (seconds or an HTTP date) wins when given.
 */
export function backoffDelay(retry: number, initial: number, max: number, retryAfter: string | undefined, random = Math.random, now = Date.now()): number {
  const hinted = parseRetryAfter(retryAfter, now);
  if (hinted !== undefined) return hinted;
  const base = Math.min(max, initial * 2 ** retry);
  return Math.round(base / 2 + random() * (base / 2));
}

export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
