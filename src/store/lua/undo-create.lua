-- Undoes a create whose outcome the service never learned (its reply was
-- lost) and which it answered as failed: the session must not exist. Runs
-- only once the create's deadline has passed on Redis's clock, so the
-- create can no longer run after it.
-- KEYS: session, user index, event stream
-- ARGV: the create's deadline ms, id suffix, session key prefix, 4 event
--       arguments (prelude). Event: 'deleted' when a session was deleted
--       (its 'created' event was written with it).
-- Returns 1 when a session was deleted, 0 when there was none, or the
-- error 'NOT_YET'.
if now_ms() <= tonumber(ARGV[1]) then return redis.error_reply('NOT_YET') end
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
refresh_index_expiry(KEYS[2], ARGV[3], now_ms())
if deleted == 1 then emit(event_context(KEYS[3], ARGV, 4), 'deleted', ARGV[2]) end
return deleted
