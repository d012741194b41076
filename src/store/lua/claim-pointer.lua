-- Claims a caller token's pointer for a session key: the pointer is the
-- token's uniqueness check. With `replace`, a pointer holding exactly that
-- value (one the caller judged stale) is taken over; otherwise only a free
-- one is taken.
-- KEYS: token pointer
-- ARGV: session key, expires ms, deadline ms, replace (a pointer value or '')
-- Returns 'ok' (claimed), 'mine' (already this session's) or the value
-- holding it, or the error 'DEADLINE <ms>'.
local refused = check_deadline(ARGV[3])
if refused then return refused end
local current = redis.call('GET', KEYS[1])
if current == false or (ARGV[4] ~= '' and current == ARGV[4]) then
  -- The deadline stays in the value: until it has passed, a claimant whose
  -- session is not (yet) stored counts as a write in flight.
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[3], 'PXAT', ARGV[2])
  return 'ok'
end
if pointer_key(current) == ARGV[1] then return 'mine' end
return current
