-- Deletes one unexpired session.
-- KEYS: session, user index
-- ARGV: now, id suffix, active only (1/0)
-- Returns {token hash, '1' if the token has a pointer else ''}, or false.
local h = hash(redis.call('HGETALL', KEYS[1]))
if not unexpired(h, tonumber(ARGV[1])) then return false end
if ARGV[3] == '1' and h.st ~= 'active' then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return {h.th or '', h.tp or ''}
