/**
 * Lua for the Redis rate limiter: the sliding log of memory-limiter.ts, kept in Redis so every
 * replica books into the same logs. Per rule, three keys: the request log (a list of booking
 * times), the token log (a list of "time:tokens") and the token log's running sum. Lists stay
 * in time order because every booking is at or after the newest entry of every log it joins.
 *
 * Calling convention of the library functions: rules are described by KEYS from `kb` (three
 * per rule) and ARGV from `ab` (rpm, tpm per rule; 0 = none), so the combined admission
 * script can append the ledger's keys and arguments after them.
 */

/** Shared by the rate and ledger libraries. Floats are formatted with 17 digits (Lua's tostring keeps 14). */
export const LUA_COMMON = `
local W = 60000
local function fmt(x) return string.format('%.17g', x) end
local function clock(arg)
  local v = tonumber(arg)
  if v then return v end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
`;

export const LUA_RATE_LIB = `
local function tok_parse(e)
  local p = string.find(e, ':', 1, true)
  return tonumber(string.sub(e, 1, p - 1)), tonumber(string.sub(e, p + 1))
end
local function rl_keys(kb, i)
  local b = kb + 3 * (i - 1)
  return KEYS[b + 1], KEYS[b + 2], KEYS[b + 3]
end
local function rl_limits(ab, i)
  local b = ab + 2 * (i - 1)
  return tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
end
-- Drops entries at or before cutoff; returns the token sum of what is left.
local function rl_prune(rk, tk, sk, cutoff)
  while true do
    local h = redis.call('LINDEX', rk, 0)
    if not h or tonumber(h) > cutoff then break end
    redis.call('LPOP', rk)
  end
  local sum = tonumber(redis.call('GET', sk) or '0')
  local popped = false
  while true do
    local h = redis.call('LINDEX', tk, 0)
    if not h then break end
    local t, a = tok_parse(h)
    if t > cutoff then break end
    sum = sum - a
    redis.call('LPOP', tk)
    popped = true
  end
  if redis.call('LLEN', tk) == 0 then
    redis.call('DEL', sk)
    return 0
  end
  if popped then redis.call('SET', sk, fmt(sum), 'KEEPTTL') end
  return sum
end
-- Earliest time >= now (and >= every log's newest entry) at which the request fits every rule.
local function rl_slot(kb, ab, n, now, cost)
  local at, binding = now, 0
  for i = 1, n do
    local rk, tk, sk = rl_keys(kb, i)
    local rpm, tpm = rl_limits(ab, i)
    local sum = rl_prune(rk, tk, sk, now - W)
    if rpm > 0 then
      local s = now
      local last = redis.call('LINDEX', rk, -1)
      if last and tonumber(last) > s then s = tonumber(last) end
      local len = redis.call('LLEN', rk)
      if len >= rpm then
        local t = tonumber(redis.call('LINDEX', rk, len - rpm)) + W
        if t > s then s = t end
      end
      if s > at then at = s; binding = i end
    end
    if tpm > 0 and cost > 0 then
      local s = now
      local last = redis.call('LINDEX', tk, -1)
      if last then
        local t = tok_parse(last)
        if t > s then s = t end
      end
      if sum + cost > tpm then
        local entries = redis.call('LRANGE', tk, 0, -1)
        for j = 1, #entries do
          local t, a = tok_parse(entries[j])
          if t > s - W and sum + cost <= tpm then break end
          sum = sum - a
          if t + W > s then s = t + W end
        end
      end
      if s > at then at = s; binding = i end
    end
  end
  return at, binding
end
local function rl_take(kb, ab, n, now, cost, at)
  local ttl = math.ceil(at - now + W + 1000)
  for i = 1, n do
    local rk, tk, sk = rl_keys(kb, i)
    local rpm, tpm = rl_limits(ab, i)
    if rpm > 0 then
      redis.call('RPUSH', rk, fmt(at))
      redis.call('PEXPIRE', rk, ttl)
    end
    if tpm > 0 and cost > 0 then
      redis.call('RPUSH', tk, fmt(at) .. ':' .. fmt(cost))
      redis.call('SET', sk, fmt(tonumber(redis.call('GET', sk) or '0') + cost), 'PX', ttl)
      redis.call('PEXPIRE', tk, ttl)
    end
  end
end
-- Appends, per rule: request count, newest request time, token sum, newest token time ('' = none).
local function rl_describe(kb, n, out)
  for i = 1, n do
    local rk, tk, sk = rl_keys(kb, i)
    out[#out + 1] = redis.call('LLEN', rk)
    out[#out + 1] = redis.call('LINDEX', rk, -1) or ''
    out[#out + 1] = redis.call('GET', sk) or '0'
    local last = redis.call('LINDEX', tk, -1)
    out[#out + 1] = last and fmt(tok_parse(last)) or ''
  end
end
`;

/** ARGV: now ('' = Redis TIME), cost, maxWait, n, then rpm/tpm per rule. Books the slot when the wait is within maxWait. */
export const LUA_CONSUME = `${LUA_COMMON}${LUA_RATE_LIB}
local now = clock(ARGV[1])
local cost, maxWait, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local at, binding = rl_slot(0, 4, n, now, cost)
if at - now < 1e-6 then at = now end
local ok = 0
if at - now <= maxWait then
  rl_take(0, 4, n, now, cost, at)
  ok = 1
end
local out = { ok, fmt(now), fmt(at), binding }
rl_describe(0, n, out)
return out
`;

/** ARGV: at (as returned by consume), cost, n, rpm/tpm per rule. Removes an abandoned booking. */
export const LUA_UNBOOK = `${LUA_COMMON}${LUA_RATE_LIB}
local at, cost, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, n do
  local rk, tk, sk = rl_keys(0, i)
  local rpm, tpm = rl_limits(3, i)
  if rpm > 0 then redis.call('LREM', rk, -1, at) end
  if tpm > 0 and cost > 0 and redis.call('LREM', tk, -1, at .. ':' .. fmt(cost)) > 0 then
    redis.call('SET', sk, fmt(tonumber(redis.call('GET', sk) or '0') - cost), 'KEEPTTL')
  end
end
return 1
`;

/**
 * rl_adjust(kb, ab, n, now, delta): charges `delta` more tokens at now on every rule with a tpm
 * (keys from `kb`, limits from `ab`, as rl_keys/rl_limits), or refunds -delta from the newest
 * entries. Shared by LUA_ADJUST and the combined settlement (admission.ts).
 */
export const LUA_RATE_ADJUST_LIB = `
local function rl_adjust(kb, ab, n, now, delta)
  for i = 1, n do
    local rk, tk, sk = rl_keys(kb, i)
    local rpm, tpm = rl_limits(ab, i)
    if tpm > 0 then
      local sum = rl_prune(rk, tk, sk, now - W)
      if delta > 0 then
        local at = now
        local last = redis.call('LINDEX', tk, -1)
        if last then
          local t = tok_parse(last)
          if t > at then at = t end
        end
        local ttl = math.ceil(at - now + W + 1000)
        redis.call('RPUSH', tk, fmt(at) .. ':' .. fmt(delta))
        redis.call('SET', sk, fmt(sum + delta), 'PX', ttl)
        redis.call('PEXPIRE', tk, ttl)
      else
        local credit = -delta
        local j = redis.call('LLEN', tk) - 1
        while credit > 0 and j >= 0 do
          local t, a = tok_parse(redis.call('LINDEX', tk, j))
          local take = a < credit and a or credit
          a = a - take
          sum = sum - take
          credit = credit - take
          if a == 0 and j == redis.call('LLEN', tk) - 1 then
            redis.call('RPOP', tk)
          else
            redis.call('LSET', tk, j, fmt(t) .. ':' .. fmt(a))
          end
          j = j - 1
        end
        if redis.call('LLEN', tk) == 0 then redis.call('DEL', sk) else redis.call('SET', sk, fmt(sum), 'KEEPTTL') end
      end
    end
  end
end
`;

/** ARGV: now, tokenDelta, n, rpm/tpm per rule. Charges extra tokens at now, or refunds from the newest entries. */
export const LUA_ADJUST = `${LUA_COMMON}${LUA_RATE_LIB}${LUA_RATE_ADJUST_LIB}
rl_adjust(0, 3, tonumber(ARGV[3]), clock(ARGV[1]), tonumber(ARGV[2]))
return 1
`;
