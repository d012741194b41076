-- The hot path for a minted token (it names its session key; one round trip
-- on every topology, Cluster included), and the second step for a caller's
-- token on Redis Cluster, where the token pointer was read first: check and
-- slide one session.
-- KEYS: session
-- ARGV: now, token hash, slide (1/0)
local h = slide_session(KEYS[1], ARGV[2], tonumber(ARGV[1]), ARGV[3] == '1')
return h and slide_reply(h)
