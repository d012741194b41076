-- Deletes one unexpired session.
-- KEYS: session, user index, event stream
-- ARGV: now, id suffix, active only (1/0), deadline ms, session key prefix,
--       4 event arguments (prelude). Event: 'deleted'.
-- Returns {token hash, '1' if the token has a pointer else ''}, false, or
-- the error 'DEADLINE <ms>'.
local refused = check_deadline(ARGV[4])
if refused then return refused end
local now = tonumber(ARGV[1])
local h = hash(redis.call('HGETALL', KEYS[1]))
if not unexpired(h, now) then return false end
if ARGV[3] == '1' and h.st ~= 'active' then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
refresh_index_expiry(KEYS[2], ARGV[5], now)
emit(event_context(KEYS[3], ARGV, 6), 'deleted', ARGV[2])
return {h.th or '', h.tp or ''}
