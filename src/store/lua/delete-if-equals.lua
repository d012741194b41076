-- Deletes a key only while it still holds the expected value, so removing a
-- stale token pointer never removes one that a newer session has taken over.
-- KEYS: key
-- ARGV: expected value
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
