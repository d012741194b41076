-- Drops active tenant index entries whose session expired (or is gone past
-- the creation grace) and writes one 'expired' event for each entry this
-- call removed. The bucket and its event stream share a slot, so on every
-- topology the removal and the event are one step: whichever replica or
-- list removes an entry writes its event, exactly once.
-- KEYS: active bucket, its event stream
-- ARGV: retention ms ('' writes no event), then session id, user id pairs
local ev = { key = KEYS[2], retention = ARGV[1], cause = 'expiry', reason = '' }
local removed = 0
for i = 2, #ARGV - 1, 2 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    removed = removed + 1
    ev.user = ARGV[i + 1]
    emit(ev, 'expired', string.sub(ARGV[i], #ARGV[i + 1] + 2))
  end
end
return removed
