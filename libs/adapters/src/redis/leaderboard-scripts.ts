/**
 * Lua scripts for the leaderboard (see RedisLeaderboardAdapter for the keys). Each is one atomic step,
 * so a reader never sees a job in the all-set without its entry, or a user with two bests. They build
 * keys from the board's base key, which suits a single Redis (not Redis Cluster).
 *
 * Zset members are `{finish ms, 15 digits}:{job id}`: Redis orders equal scores by member, bytewise,
 * so ties go to the earlier finish, then the smaller job id. Scores are passed to ZADD as the strings
 * they arrived as, never through a Lua number, which would print them with 14 digits only.
 */

/** ARGV: base key, job id, user id, zset score, zset member, entry JSON, ttl s (0: none; for rebuilds).
 *  The user's best is always the first member of the user's own zset, so a re-recorded best that got
 *  worse falls back to the user's next best job. */
export const RECORD_ENTRY = `
local base, jobId, userId, score, member, entry = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local ttl = tonumber(ARGV[7])
local jobs, all, best, bestOf = base .. ':jobs', base .. ':all', base .. ':best', base .. ':best-of'

local function userKey(user) return base .. ':user:' .. user end

-- Makes the user's entry in the best-set the first member of the user's zset (or none).
local function settleBest(user)
  local top = redis.call('ZRANGE', userKey(user), 0, 0, 'WITHSCORES')
  local current = redis.call('HGET', bestOf, user)
  if current and current ~= top[1] then redis.call('ZREM', best, current) end
  -- Added again even when it is the same member: its score may have changed.
  if top[1] then
    redis.call('ZADD', best, top[2], top[1])
    redis.call('HSET', bestOf, user, top[1])
  else
    redis.call('HDEL', bestOf, user)
  end
end

-- The jobs hash holds the job's member followed by its user id; the member's length is fixed by the
-- job id (16 + its length), so no separator is needed.
local previous = redis.call('HGET', jobs, jobId)
local previousUser = nil
if previous then
  local previousMember = string.sub(previous, 1, 16 + #jobId)
  previousUser = string.sub(previous, 17 + #jobId)
  redis.call('ZREM', all, previousMember)
  redis.call('ZREM', userKey(previousUser), previousMember)
end

redis.call('HSET', base .. ':entries', jobId, entry)
redis.call('HSET', jobs, jobId, member .. userId)
redis.call('ZADD', all, score, member)
redis.call('ZADD', userKey(userId), score, member)
-- The previous user first: a job that changed user keeps its member, which only the new user may hold.
if previousUser and previousUser ~= userId then settleBest(previousUser) end
settleBest(userId)

if ttl > 0 then
  for _, key in ipairs({base .. ':entries', jobs, all, best, bestOf, userKey(userId)}) do
    redis.call('EXPIRE', key, ttl)
  end
end
return 1
`;

/** ARGV: base key, 'all' or 'best', offset, limit. Returns the set's size, then the page's entry JSONs. */
export const PAGE_ENTRIES = `
local base, offset, limit = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
local set = base .. ':' .. ARGV[2]
local total = redis.call('ZCARD', set)
if limit <= 0 or offset >= total then return {total} end
local members = redis.call('ZRANGE', set, offset, offset + limit - 1)
local jobIds = {}
for index, member in ipairs(members) do jobIds[index] = string.sub(member, 17) end
local reply = {total}
-- HMGET in chunks: unpack() has a limit of a few thousand values.
for first = 1, #jobIds, 1000 do
  local last = math.min(first + 999, #jobIds)
  local entries = redis.call('HMGET', base .. ':entries', unpack(jobIds, first, last))
  for index = first, last do reply[index + 1] = entries[index - first + 1] or '' end
end
return reply
`;

/** ARGV: base key of the live board, base key of the board built beside it. Swaps the built board in,
 *  dropping the old one, in one step; the new keys lose the TTL they were built with. */
export const SWAP_BOARD = `
local live, built = ARGV[1], ARGV[2]
local parts = {'entries', 'jobs', 'all', 'best', 'best-of'}
for _, user in ipairs(redis.call('HKEYS', live .. ':best-of')) do redis.call('UNLINK', live .. ':user:' .. user) end
for _, part in ipairs(parts) do redis.call('UNLINK', live .. ':' .. part) end
for _, user in ipairs(redis.call('HKEYS', built .. ':best-of')) do
  redis.call('RENAME', built .. ':user:' .. user, live .. ':user:' .. user)
  redis.call('PERSIST', live .. ':user:' .. user)
end
for _, part in ipairs(parts) do
  if redis.call('EXISTS', built .. ':' .. part) == 1 then
    redis.call('RENAME', built .. ':' .. part, live .. ':' .. part)
    redis.call('PERSIST', live .. ':' .. part)
  end
end
return 1
`;
