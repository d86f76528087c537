/**
 * Lua scripts make each check-and-write one atomic step in Redis. They build per-job keys from the
 * prefix, which suits a single Redis (not Redis Cluster).
 */

/** KEYS: job, user's jobs (zset by created ms), user's unfinished (set), all jobs (zset), all unfinished (set).
 *  ARGV: now ms, jobs per hour, concurrent jobs, ttl s, job id, job key prefix, field/value pairs. */
export const CREATE_JOB = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'existing', redis.call('HGETALL', KEYS[1])} end
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[4])
local hourAgo = now - 3600000
-- Stale members (finished or expired jobs) are pruned only when the set looks full, so a burst
-- of creates stays O(1) instead of reading every unfinished job each time.
local unfinished = redis.call('SCARD', KEYS[3])
if unfinished >= tonumber(ARGV[3]) then
  unfinished = 0
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local status = redis.call('HGET', ARGV[6] .. id, 'status')
    if status == 'pending' or status == 'running' then
      unfinished = unfinished + 1
    else
      redis.call('SREM', KEYS[3], id)
    end
  end
end
if unfinished >= tonumber(ARGV[3]) then
  return {'rate_limited', 'concurrent', '30', tostring(unfinished)}
end
local recent = redis.call('ZCOUNT', KEYS[2], '(' .. hourAgo, '+inf')
if recent >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. hourAgo, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  local retry = math.max(1, math.ceil((tonumber(oldest[2]) + 3600000 - now) / 1000))
  return {'rate_limited', 'hourly', tostring(retry), tostring(recent)}
end
local fields = {}
for index = 7, #ARGV do fields[#fields + 1] = ARGV[index] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl * 1000)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('ZADD', KEYS[4], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - ttl * 1000)
redis.call('SADD', KEYS[5], ARGV[5])
return {'created', redis.call('HGETALL', KEYS[1])}
`;

/** KEYS: job, all unfinished (set). ARGV: user key prefix, updated_at, field/value pairs.
 *  Returns nil for an unknown job, else the job's fields after the change (none if it was final). */
export const UPDATE_JOB = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return nil end
if status == 'completed' or status == 'failed' or status == 'cancelled' then
  return redis.call('HGETALL', KEYS[1])
end
local fields = {'updated_at', ARGV[2]}
local next = status
for index = 3, #ARGV, 2 do
  fields[#fields + 1] = ARGV[index]
  fields[#fields + 1] = ARGV[index + 1]
  if ARGV[index] == 'status' then next = ARGV[index + 1] end
end
redis.call('HSET', KEYS[1], unpack(fields))
if next ~= 'pending' and next ~= 'running' then
  local user = redis.call('HGET', KEYS[1], 'user_id')
  local id = redis.call('HGET', KEYS[1], 'job_id')
  redis.call('SREM', ARGV[1] .. user .. ':unfinished', id)
  redis.call('SREM', KEYS[2], id)
end
return redis.call('HGETALL', KEYS[1])
`;

/** KEYS: job, all jobs (zset), all unfinished (set). ARGV: user key prefix, job id. Undoes CREATE_JOB. */
export const REMOVE_JOB = `
local user = redis.call('HGET', KEYS[1], 'user_id')
if user then
  redis.call('ZREM', ARGV[1] .. user .. ':jobs', ARGV[2])
  redis.call('SREM', ARGV[1] .. user .. ':unfinished', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[1])
return 1
`;
