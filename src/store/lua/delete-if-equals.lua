-- Deletes a token pointer only while it still names the expected session
-- key, so removing a stale pointer never removes one that another session
-- has taken over.
-- KEYS: token pointer
-- ARGV: session key
local value = redis.call('GET', KEYS[1])
if value and pointer_key(value) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
