/**
 * Runs Lua scripts on one ioredis connection by SHA (EVALSHA), loading them on NOSCRIPT, and
 * counts round trips so the benchmark can report Redis round trips per request.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RedisScript {
  readonly lua: string;
  readonly sha: string;
}

export function script(lua: string): RedisScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export class ScriptRunner {
  /** Redis commands sent (a NOSCRIPT reload counts as a second one). */
  roundTrips = 0;

  constructor(readonly redis: Redis) {}

  async run(s: RedisScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    this.roundTrips++;
    try {
      return await this.redis.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      this.roundTrips++;
      return await this.redis.eval(s.lua, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Key prefix with a hash tag, so every key of the gateway lands in one Redis Cluster slot (the
 * scripts touch keys of several scopes, and the ledger's expiry sweep touches holds of any scope).
 */
export function taggedPrefix(prefix: string): string {
  return prefix.includes('{') ? prefix : `{${prefix}}`;
}
