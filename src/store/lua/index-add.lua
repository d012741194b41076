-- Adds a new session to its tenant index bucket, before the session itself
-- is stored (a clear-all that runs meanwhile then finds its user).
-- KEYS: active bucket (by creation)
-- ARGV: created ms, session id, absolute end ms, deadline ms
local refused = check_deadline(ARGV[4])
if refused then return refused end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
expire_later(KEYS[1], ARGV[3])
return 1
