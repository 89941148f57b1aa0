/**
 * Lua for the Redis budget ledger. State:
 * - per (scope, period start) a hash {spent, reserved, alerted} — `alerted` is the highest
 *   alert threshold already reported, raised in the same script that adds the spend, so each
 *   threshold is reported once across all replicas;
 * - holds: a sorted set of reservation ids by expiry, and a hash id -> "amount\nhashKey…" (the
 *   counters the hold added to). Every script first purges holds past their expiry (a crashed
 *   replica's holds free themselves) and keeps them as "expired" for a while so a late commit
 *   still records its spend.
 *
 * Library calling convention: KEYS from `kb`: holds, expired, hold data, then one period hash per
 * scope; ARGV from `ab`: (limit, hash TTL ms) per scope.
 */
export const LUA_LEDGER_LIB = `
local EPS = 1e-9
local RETAIN = 6 * 3600000
local function hnum(k, f) return tonumber(redis.call('HGET', k, f) or '0') end
local function lg_unhold(data)
  local amount
  for part in string.gmatch(data, '[^\\n]+') do
    if not amount then
      amount = tonumber(part)
    elseif redis.call('EXISTS', part) == 1 then
      local r = hnum(part, 'reserved') - amount
      if r < EPS then r = 0 end -- float drift must not leave phantom cents
      redis.call('HSET', part, 'reserved', fmt(r))
    end
  end
end
local function lg_purge(kb, now)
  local holds, expired, data = KEYS[kb + 1], KEYS[kb + 2], KEYS[kb + 3]
  local ids = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, 500)
  for _, id in ipairs(ids) do
    local d = redis.call('HGET', data, id)
    if d then lg_unhold(d) end
    redis.call('ZREM', holds, id)
    redis.call('ZADD', expired, now + RETAIN, id)
  end
  local old = redis.call('ZRANGEBYSCORE', expired, '-inf', now, 'LIMIT', 0, 500)
  for _, id in ipairs(old) do
    redis.call('HDEL', data, id)
    redis.call('ZREM', expired, id)
  end
end
local function lg_remaining(k, limit)
  local r = limit - hnum(k, 'spent') - hnum(k, 'reserved')
  if r < 0 then return 0 end
  return r
end
-- 0 when every scope affords amount, else the index of the first that does not and its remaining.
local function lg_check(kb, ab, n, amount)
  for i = 1, n do
    local k = KEYS[kb + 3 + i]
    local limit = tonumber(ARGV[ab + 2 * i - 1])
    local spent, reserved = hnum(k, 'spent'), hnum(k, 'reserved')
    -- an exhausted budget refuses even zero-cost estimates: an unknown price is not a free request
    if spent + reserved + amount > limit + EPS or spent >= limit then return i, lg_remaining(k, limit) end
  end
  return 0, 0
end
-- Holds amount on every scope until now + ttl; appends each scope's remaining to out.
local function lg_take(kb, ab, n, amount, now, ttl, id, out)
  local parts = { fmt(amount) }
  for i = 1, n do
    local k = KEYS[kb + 3 + i]
    local limit, httl = tonumber(ARGV[ab + 2 * i - 1]), tonumber(ARGV[ab + 2 * i])
    redis.call('HSET', k, 'reserved', fmt(hnum(k, 'reserved') + amount))
    if httl > 0 then redis.call('PEXPIRE', k, httl) end
    parts[#parts + 1] = k
    out[#out + 1] = fmt(lg_remaining(k, limit))
  end
  redis.call('ZADD', KEYS[kb + 1], now + ttl, id)
  redis.call('HSET', KEYS[kb + 3], id, table.concat(parts, '\\n'))
  return now + ttl
end
-- Removes a hold (live or expired); returns 'live', 'expired' or false.
local function lg_drop(kb, id)
  local holds, expired, data = KEYS[kb + 1], KEYS[kb + 2], KEYS[kb + 3]
  if redis.call('ZSCORE', holds, id) then
    local d = redis.call('HGET', data, id)
    if d then lg_unhold(d) end
    redis.call('ZREM', holds, id)
    redis.call('HDEL', data, id)
    return 'live'
  end
  if redis.call('ZSCORE', expired, id) then
    redis.call('ZREM', expired, id)
    redis.call('HDEL', data, id)
    return 'expired'
  end
  return false
end
`;

/** ARGV: now ('' = Redis TIME), amount, ttl, id, n, (limit, hashTtl) per scope. → {1, expiresAt, remaining…} | {0, index, remaining}. */
export const LUA_RESERVE = `
local now = clock(ARGV[1])
local amount, ttl, id, n = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
lg_purge(0, now)
local bad, rem = lg_check(0, 5, n, amount)
if bad > 0 then return { 0, bad, fmt(rem) } end
local out = { 1, '' }
out[2] = fmt(lg_take(0, 5, n, amount, now, ttl, id, out))
return out
`;

/**
 * lg_commit(kb, ab, now, id, actual, n, out): settles hold `id` at `actual` USD.
 * KEYS from `kb`: holds, expired, data, n hashes of the reservation's periods, n hashes of the
 * current periods. ARGV from `ab`, per scope: limit, alert thresholds (comma-separated), TTL of
 * the reservation's period hash, TTL of the current one.
 * Appends remaining and spent of each current period (2n), then (scope index, threshold, spent)
 * per alert crossed. lg_status(kb, n, out): spent and reserved of the current periods (KEYS
 * from kb + 3 + n), for a released hold.
 */
export const LUA_LEDGER_SETTLE_LIB = `
local function lg_commit(kb, ab, now, id, actual, n, out)
  lg_purge(kb, now)
  local found = lg_drop(kb, id)
  local crossed = {}
  for i = 1, n do
    local b = ab + 4 * (i - 1)
    local limit, alerts, sttl = tonumber(ARGV[b + 1]), ARGV[b + 2], tonumber(ARGV[b + 3])
    local sk, ck = KEYS[kb + 3 + i], KEYS[kb + 3 + n + i]
    if found and actual > 0 then
      local spent = hnum(sk, 'spent') + actual
      redis.call('HSET', sk, 'spent', fmt(spent))
      if sttl > 0 then redis.call('PEXPIRE', sk, sttl) end
      local alerted = hnum(sk, 'alerted')
      local highest = alerted
      for t in string.gmatch(alerts, '[^,]+') do
        local th = tonumber(t)
        if th > alerted and spent >= th * limit - EPS then
          crossed[#crossed + 1] = i
          crossed[#crossed + 1] = fmt(th)
          crossed[#crossed + 1] = fmt(spent)
          if th > highest then highest = th end
        end
      end
      if highest > alerted then redis.call('HSET', sk, 'alerted', fmt(highest)) end
    end
    out[#out + 1] = fmt(lg_remaining(ck, limit))
    out[#out + 1] = fmt(hnum(ck, 'spent'))
  end
  for _, v in ipairs(crossed) do out[#out + 1] = v end
end
local function lg_status(kb, n, out)
  for i = 1, n do
    out[#out + 1] = fmt(hnum(KEYS[kb + 3 + n + i], 'spent'))
    out[#out + 1] = fmt(hnum(KEYS[kb + 3 + n + i], 'reserved'))
  end
end
`;

/** KEYS and ARGV[5…] as lg_commit; ARGV: now, id, actual, n. → lg_commit's reply. */
export const LUA_COMMIT = `
local out = {}
lg_commit(0, 4, clock(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), out)
return out
`;

/** KEYS: holds, expired, data. ARGV: now, id. */
export const LUA_RELEASE = `
lg_purge(0, clock(ARGV[1]))
lg_drop(0, ARGV[2])
return 1
`;

/** KEYS: holds, expired, data, n current period hashes. ARGV: now, n. → spent, reserved per scope. */
export const LUA_STATUS = `
lg_purge(0, clock(ARGV[1]))
local out = {}
for i = 1, tonumber(ARGV[2]) do
  out[#out + 1] = fmt(hnum(KEYS[3 + i], 'spent'))
  out[#out + 1] = fmt(hnum(KEYS[3 + i], 'reserved'))
end
return out
`;

/** KEYS: the current period hash. ARGV: spent, alerted, hash TTL. Only a period Redis has never seen is seeded. */
export const LUA_SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'reserved', '0', 'alerted', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3])) end
return 1
`;
