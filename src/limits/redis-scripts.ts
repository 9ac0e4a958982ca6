import { createHash } from 'node:crypto';

/**
 * The Lua scripts behind the Redis limiter. Each runs atomically inside Redis, so N relays share
 * one limit without races, and acquire is one round trip. The arithmetic mirrors bucket.ts and
 * period.ts (token buckets over 60 s; UTC days and months) and uses Redis' clock (TIME) unless the
 * caller passes one, so relays with skewed clocks still agree.
 *
 * Keys, all with the key name as a hash tag (Redis Cluster puts them in one slot):
 *   rpm, tpm  hash {l: level, t: ms}; absent = full; expires when it would be full again
 *   conc      sorted set lease-id → lease expiry (ms); leases of a crashed relay expire
 *   budget    hash {p: period id, u: used}; a new period id starts from 0
 */

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const PRELUDE = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local WINDOW = 60000
local function level_at(key, cap)
  local v = redis.call('HMGET', key, 'l', 't')
  local level, at = tonumber(v[1]), tonumber(v[2])
  if not level or not at then return cap end
  local elapsed = now - at
  if elapsed < 0 then elapsed = 0 end
  level = level + elapsed * cap / WINDOW
  if level > cap then level = cap end
  return level
end
local function store(key, cap, level)
  if level >= cap then
    redis.call('DEL', key)
    return
  end
  redis.call('HSET', key, 'l', string.format('%.17g', level), 't', string.format('%.0f', now))
  redis.call('PEXPIRE', key, math.ceil((cap - level) * WINDOW / cap) + 1000)
end
`;

/** Howard Hinnant's civil-from-days / days-from-civil: UTC calendar dates without os.date. */
const CALENDAR = `
local function civil(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
local function period(kind)
  local days = math.floor(now / 86400000)
  local y, m, d = civil(days)
  if kind == 'day' then
    return string.format('%04d-%02d-%02d', y, m, d), (days + 1) * 86400000
  end
  local ny, nm = y, m + 1
  if nm > 12 then ny, nm = y + 1, 1 end
  return string.format('%04d-%02d', y, m), days_from_civil(ny, nm, 1) * 86400000
end
`;

/**
 * KEYS: rpm, tpm, conc, budget.
 * ARGV: now|'', rpm, tpm, max_concurrency, budget limit, budget period (''|day|month), tokens,
 *       budget amount, lease id, lease ttl ms. A limit of 0 is "not configured".
 * Returns {verdict, rpm level, tpm level, in flight, budget used, period id, period reset, now}.
 * verdict: 0 admitted (and reserved), 1 budget, 2 rpm, 3 tpm, 4 too large for tpm, 5 concurrency.
 */
export const ACQUIRE = script(`${PRELUDE}${CALENDAR}
local rpm, tpm, maxc = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local blimit, bkind = tonumber(ARGV[5]), ARGV[6]
local tokens, amount = tonumber(ARGV[7]), tonumber(ARGV[8])
local lease, ttl = ARGV[9], tonumber(ARGV[10])

local pid, reset_at, used = '', 0, 0
if bkind ~= '' then
  pid, reset_at = period(bkind)
  local b = redis.call('HMGET', KEYS[4], 'p', 'u')
  if b[1] == pid then used = tonumber(b[2]) or 0 end
end
local rl, tl, inflight = 0, 0, 0
if rpm > 0 then rl = level_at(KEYS[1], rpm) end
if tpm > 0 then tl = level_at(KEYS[2], tpm) end
if maxc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  inflight = redis.call('ZCARD', KEYS[3])
end

local verdict = 0
if bkind ~= '' and (used >= blimit or used + amount > blimit) then verdict = 1
elseif rpm > 0 and rl < 1 then verdict = 2
elseif tpm > 0 and tokens > tpm then verdict = 4
elseif tpm > 0 and tl < math.max(tokens, 1) then verdict = 3
elseif maxc > 0 and inflight >= maxc then verdict = 5
end

if verdict == 0 then
  if rpm > 0 then rl = rl - 1; store(KEYS[1], rpm, rl) end
  if tpm > 0 then tl = tl - tokens; store(KEYS[2], tpm, tl) end
  if maxc > 0 then
    redis.call('ZADD', KEYS[3], now + ttl, lease)
    redis.call('PEXPIRE', KEYS[3], ttl)
    inflight = inflight + 1
  end
  if bkind ~= '' then
    used = used + amount
    redis.call('HSET', KEYS[4], 'p', pid, 'u', string.format('%.17g', used))
    redis.call('PEXPIRE', KEYS[4], reset_at - now + 86400000)
  end
end
return {verdict, string.format('%.17g', rl), string.format('%.17g', tl), inflight, string.format('%.17g', used), pid, reset_at, now}
`);

/**
 * KEYS: tpm, budget. ARGV: now|'', tpm, token delta (actual − reserved), period id ('' = no
 * budget), budget delta. A budget correction only applies to the period it was reserved in.
 */
export const SETTLE = script(`${PRELUDE}
local tpm, delta = tonumber(ARGV[2]), tonumber(ARGV[3])
if tpm > 0 and delta ~= 0 then
  local level = level_at(KEYS[1], tpm) - delta
  if level > tpm then level = tpm end
  store(KEYS[1], tpm, level)
end
local pid, bdelta = ARGV[4], tonumber(ARGV[5])
if pid ~= '' and bdelta ~= 0 then
  local b = redis.call('HMGET', KEYS[2], 'p', 'u')
  if b[1] == pid then
    local u = (tonumber(b[2]) or 0) + bdelta
    if u < 0 then u = 0 end
    redis.call('HSET', KEYS[2], 'u', string.format('%.17g', u))
  end
end
return 1
`);

/** KEYS: conc. ARGV: now|'', lease ttl ms, lease ids…: pushes live leases' expiry forward. */
export const RENEW = script(`${PRELUDE}
local ttl = tonumber(ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`);
