-- Deletes one unexpired session.
-- KEYS: session, user index, user recency
-- ARGV: now, session id, active only (1/0)
-- Returns the deleted session's token hash, or false.
local h = hash(redis.call('HGETALL', KEYS[1]))
if not unexpired(h, tonumber(ARGV[1])) then return false end
if ARGV[3] == '1' and h.st ~= 'active' then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return h.th
