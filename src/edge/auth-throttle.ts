/**
 * Brute-force throttle for credentials (/v1 keys and admin tokens): failed authentications are
 * counted per client IP and per key prefix in a fixed window; past `max_failures` that IP or
 * prefix is refused for `block` with 429 `too_many_auth_failures`, before its credential is
 * even looked at (otherwise the answer would still tell a right guess from a wrong one).
 * Memory is bounded: at most `max_tracked` entries, the least recently touched forgotten first.
 */
import { GatewayError } from '../errors.js';

export interface AuthThrottleOptions {
  maxFailures: number;
  windowMs: number;
  blockMs: number;
  keyPrefixLength: number;
  maxTracked: number;
}

interface Entry {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

export class AuthThrottle {
  // Map keeps insertion order: re-inserting on every touch makes the first entry the oldest.
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly options: AuthThrottleOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The tracking key of a presented credential: its first characters, never the whole secret. */
  prefixOf(credential: string | undefined): string | undefined {
    return credential ? credential.slice(0, Math.min(this.options.keyPrefixLength, Math.floor(credential.length / 2))) : undefined;
  }

  /** Throws 429 `too_many_auth_failures` (with Retry-After) when the IP or the prefix is blocked. */
  check(ip: string, prefix: string | undefined): void {
    const now = this.now();
    const until = Math.max(this.blockedUntil(`ip:${ip}`, now), prefix ? this.blockedUntil(`key:${prefix}`, now) : 0);
    if (until > now) {
      const seconds = Math.max(1, Math.ceil((until - now) / 1000));
      throw new GatewayError('too_many_auth_failures', `Too many failed authentication attempts; retry after ${seconds} s.`, {
        headers: { 'retry-after': String(seconds) },
      });
    }
  }

  /** Counts one failed authentication against the IP and the prefix. */
  fail(ip: string, prefix: string | undefined): void {
    const now = this.now();
    this.count(`ip:${ip}`, now);
    if (prefix) this.count(`key:${prefix}`, now);
  }

  /** Entries tracked now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private blockedUntil(key: string, now: number): number {
    const e = this.entries.get(key);
    return e && e.blockedUntil > now ? e.blockedUntil : 0;
  }

  private count(key: string, now: number): void {
    let e = this.entries.get(key);
    if (e) {
      this.entries.delete(key);
    } else {
      e = { windowStart: now, failures: 0, blockedUntil: 0 };
      if (this.entries.size >= this.options.maxTracked) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, e);
    if (now - e.windowStart >= this.options.windowMs) {
      e.windowStart = now;
      e.failures = 0;
    }
    e.failures++;
    if (e.failures >= this.options.maxFailures) e.blockedUntil = Math.max(e.blockedUntil, now + this.options.blockMs);
  }
}
