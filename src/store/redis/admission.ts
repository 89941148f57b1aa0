/**
 * One round trip for a request's rate quotas and budget holds: a Lua script that checks every
 * quota (the sliding logs of rate-limiter.ts) and every budget scope (the counters of
 * budget-ledger.ts), and takes all of them or none. A request that must wait for a quota slot
 * has its slot booked and its budget held; it sleeps client-side (bounded by max_wait and the
 * abort signal) and proceeds without asking again. An abandoned wait gives back both the slot
 * and the hold in one more round trip.
 *
 * Settlement is one more round trip (SETTLE): the quotas' token difference and the hold's commit
 * (or release, with the scopes' figures after it) in one script — two round trips per request in
 * all. Keys are those of RedisRateLimiter and RedisBudgetLedger with the same prefix, so their
 * own calls (`limiter.adjust`, `ledger.commit/release`) settle the same state.
 */
import type { Redis } from 'ioredis';
import type { RateLimitDecision } from '../../ratelimit/limiter.js';
import { remainingAfterRelease, type Admission, type AdmissionRequest, type AdmissionResult, type SettleRequest, type SettleResult } from '../admission.js';
import { commitResult, LedgerKeys, newReservationId, reserveResult } from './budget-ledger.js';
import { LUA_LEDGER_LIB, LUA_LEDGER_SETTLE_LIB } from './lua-ledger.js';
import { LUA_COMMON, LUA_RATE_ADJUST_LIB, LUA_RATE_LIB } from './lua-rate.js';
import { activeRules, describeFigures, ruleArgs, sleepForSlot } from './rate-limiter.js';
import { ScriptRunner, script, taggedPrefix } from './scripts.js';

/**
 * KEYS: 3 per rule, then holds, expired, hold data, one counter per scope.
 * ARGV: now, cost, maxWait, nRules, (rpm, tpm) per rule, amount, ttl, id, nScopes, (limit, counter TTL) per scope.
 * → {status (1 admitted, 0 refused by a quota, 2 refused by a budget), now, at, binding rule,
 *    4 figures per rule, then the reserve reply: {1, expiresAt, remaining…} or {0, scope index, remaining}}
 */
const ADMIT = script(`${LUA_COMMON}${LUA_RATE_LIB}${LUA_LEDGER_LIB}
local now = clock(ARGV[1])
local cost, maxWait, nr = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lab = 4 + 2 * nr
local lkb = 3 * nr
local amount, ttl, id, ns = tonumber(ARGV[lab + 1]), tonumber(ARGV[lab + 2]), ARGV[lab + 3], tonumber(ARGV[lab + 4])
local at, binding = rl_slot(0, 4, nr, now, cost)
if at - now < 1e-6 then at = now end
local out = { 0, fmt(now), fmt(at), binding }
if at - now > maxWait then
  rl_describe(0, nr, out)
  return out
end
lg_purge(lkb, now)
local bad, rem = lg_check(lkb, lab + 4, ns, amount)
if bad > 0 then
  out[1] = 2
  rl_describe(0, nr, out)
  out[#out + 1] = 0
  out[#out + 1] = bad
  out[#out + 1] = fmt(rem)
  return out
end
rl_take(0, 4, nr, now, cost, at)
out[1] = 1
rl_describe(0, nr, out)
out[#out + 1] = 1
local slot = #out + 1
out[slot] = ''
if ns > 0 then out[slot] = fmt(lg_take(lkb, lab + 4, ns, amount, now, ttl, id, out)) end
return out
`);

/** KEYS as ADMIT. ARGV: at, cost, nRules, (rpm, tpm) per rule, now, id. Gives back a booked slot and the hold. */
const ABANDON = script(`${LUA_COMMON}${LUA_RATE_LIB}${LUA_LEDGER_LIB}
local at, cost, nr = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, nr do
  local rk, tk, sk = rl_keys(0, i)
  local rpm, tpm = rl_limits(3, i)
  if rpm > 0 then redis.call('LREM', rk, -1, at) end
  if tpm > 0 and cost > 0 and redis.call('LREM', tk, -1, at .. ':' .. fmt(cost)) > 0 then
    redis.call('SET', sk, fmt(tonumber(redis.call('GET', sk) or '0') - cost), 'KEEPTTL')
  end
end
local b = 3 + 2 * nr
lg_purge(3 * nr, clock(ARGV[b + 1]))
lg_drop(3 * nr, ARGV[b + 2])
return 1
`);

/**
 * KEYS: 3 per rule, then holds, expired, hold data, n reservation-period hashes, n current-period hashes.
 * ARGV: now, tokenDelta, nRules, (rpm, tpm) per rule, mode ('commit' | 'release' | ''), id, actual, n,
 *   (limit, alerts, reservation hash TTL, current hash TTL) per scope.
 * → commit: lg_commit's reply; release: spent, reserved per scope; '': {}.
 */
const SETTLE = script(`${LUA_COMMON}${LUA_RATE_LIB}${LUA_RATE_ADJUST_LIB}${LUA_LEDGER_LIB}${LUA_LEDGER_SETTLE_LIB}
local now, delta, nr = clock(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if delta ~= 0 then rl_adjust(0, 3, nr, now, delta) end
local lb = 3 + 2 * nr
local mode, id, actual, n = ARGV[lb + 1], ARGV[lb + 2], tonumber(ARGV[lb + 3]), tonumber(ARGV[lb + 4])
local out = {}
if mode == 'commit' then
  lg_commit(3 * nr, lb + 4, now, id, actual, n, out)
elseif mode == 'release' then
  lg_purge(3 * nr, now)
  lg_drop(3 * nr, id)
  lg_status(3 * nr, n, out)
end
return out
`);

export interface RedisAdmissionOptions {
  redis: Redis;
  /** IANA zone of budget periods (as the ledger's). */
  timeZone: string;
  /** The same prefix as the RedisRateLimiter and RedisBudgetLedger that settle these requests. Default 'omega'. */
  prefix?: string;
  now?: () => number;
}

/**
 * @example
 * const admission = new RedisAdmission({ redis, timeZone: 'UTC' });
 * const r = await admission.admit({ rules, tokens, maxWaitMs: 2000, scopes, amountUsd: 0.02, ttlMs: 600_000, signal });
 * if (!r.admitted) throw r.refusedBy === 'rate' ? rateLimited(r.rate) : budgetExceeded(r.budget);
 */
export class RedisAdmission implements Admission {
  private readonly runner: ScriptRunner;
  private readonly prefix: string;
  private readonly keys: LedgerKeys;
  private readonly now: (() => number) | undefined;

  constructor(options: RedisAdmissionOptions) {
    this.runner = new ScriptRunner(options.redis);
    this.prefix = taggedPrefix(options.prefix ?? 'omega');
    this.keys = new LedgerKeys(this.prefix, options.timeZone);
    this.now = options.now;
  }

  /** Redis round trips so far (one per admission, one per settlement; one more for an abandoned wait). */
  get roundTrips(): number {
    return this.runner.roundTrips;
  }

  /** One round trip: the token difference on every tpm quota, and the hold committed or released. */
  async settle(req: SettleRequest): Promise<SettleResult> {
    const withTokens = req.tokenDelta !== 0 && Number.isFinite(req.tokenDelta) ? activeRules(req.rules).filter((r) => r.tpm) : [];
    const { reservation } = req;
    if (withTokens.length === 0 && !reservation) return {};
    const now = this.now ? this.now() : Date.now();
    const rate = ruleArgs(this.prefix, withTokens);
    const ledger = reservation ? this.keys.settleArgs(reservation, now) : { keys: [], args: [] };
    const mode = !reservation ? '' : req.costUsd !== undefined ? 'commit' : 'release';
    const actual = req.costUsd !== undefined && req.costUsd > 0 ? req.costUsd : 0;
    const n = reservation?.scopes.length ?? 0;
    const keys = [...rate.keys, ...this.keys.fixed, ...ledger.keys];
    const args = [this.now ? now : '', withTokens.length > 0 ? req.tokenDelta : 0, withTokens.length, ...rate.limits, mode, reservation?.id ?? '', actual, n, ...ledger.args];
    const res = (await this.runner.run(SETTLE, keys, args)) as string[];
    if (!reservation) return {};
    if (mode === 'commit') return { commit: commitResult(res, 0, reservation) };
    const status: Record<string, { limitUsd: number; spentUsd: number; reservedUsd: number }> = {};
    reservation.scopes.forEach((s, i) => (status[s.key] = { limitUsd: s.limitUsd, spentUsd: Number(res[2 * i]), reservedUsd: Number(res[2 * i + 1]) }));
    return { remainingUsd: remainingAfterRelease(status) };
  }

  async admit(req: AdmissionRequest): Promise<AdmissionResult> {
    const rules = activeRules(req.rules);
    if (req.signal?.aborted) return { admitted: false, refusedBy: 'rate', rate: { allowed: false, waitedMs: 0, retryAfterMs: 0, reason: 'aborted' } };
    const now = this.now ? this.now() : Date.now();
    const cost = req.tokens > 0 ? req.tokens : 0;
    const amount = req.amountUsd > 0 ? req.amountUsd : 0;
    const rate = ruleArgs(this.prefix, rules);
    const ledger = this.keys.reserveArgs(req.scopes, now);
    const id = newReservationId();
    const keys = [...rate.keys, ...this.keys.fixed, ...ledger.keys];
    const args = [this.now ? now : '', cost, req.maxWaitMs, rules.length, ...rate.limits, amount, req.ttlMs, id, req.scopes.length, ...ledger.args];
    const res = (await this.runner.run(ADMIT, keys, args)) as (string | number)[];
    const status = Number(res[0]);
    const scriptNow = Number(res[1]);
    const atText = res[2] as string;
    const wait = Number(atText) - scriptNow;
    const binding = Number(res[3]) > 0 ? rules[Number(res[3]) - 1] : undefined;
    const after = 4 + 4 * rules.length;
    if (status === 0) {
      const d = describeFigures(rules, res, 4, scriptNow, { allowed: false, waitedMs: 0, retryAfterMs: Math.ceil(wait), rule: binding, reason: 'rate_limited' });
      return { admitted: false, refusedBy: 'rate', rate: d };
    }
    const budget = reserveResult(res, after, req.scopes, amount, ledger.periodStarts, id);
    if (status === 2 || !budget.ok) {
      const d = describeFigures(rules, res, 4, scriptNow, { allowed: true, waitedMs: 0, retryAfterMs: 0 });
      return { admitted: false, refusedBy: 'budget', rate: d, budget: budget as Extract<typeof budget, { ok: false }> };
    }
    let decision: RateLimitDecision = describeFigures(rules, res, 4, scriptNow, { allowed: true, waitedMs: 0, retryAfterMs: 0 });
    if (wait > 0) {
      decision = await sleepForSlot(wait, req.signal, decision, binding, async () => {
        await this.runner.run(ABANDON, keys, [atText, cost, rules.length, ...rate.limits, this.now ? this.now() : '', id]);
      });
      if (!decision.allowed) return { admitted: false, refusedBy: 'rate', rate: decision };
    }
    return { admitted: true, rate: decision, budget: req.scopes.length > 0 ? budget : undefined };
  }
}
