-- Session events (src/events), prepended after prelude.lua to the scripts
-- that change sessions only: the validation scripts stay as they were.
-- A script that changes sessions is given its
-- user's event stream as a key and, after its own ARGV, four event
-- arguments: the retention in ms ('' writes none: events off, or Redis
-- Cluster, where the stream is in another slot and the store appends the
-- events itself), the user id, the cause and a reason. The event is written
-- by the same script as the change, so the two cannot part. Never a token.
-- An entry holds t (type), s (session id), c (cause) and r (a reason, when
-- given): the user and the status follow from the session id and the type
-- (src/events/session-event.ts), so each entry stays small. For the same
-- reason c is left out where the type implies it (impliedCause in
-- src/store/event-writes.ts, which this table mirrors): about 10 bytes less
-- for each created and expired event, most of a stream.
local function event_context(key, argv, i)
  return { key = key, retention = argv[i], user = argv[i + 1], cause = argv[i + 2], reason = argv[i + 3] }
end
local implied_cause = { created = 'create', deleted = 'delete', expired = 'expiry' }
local function emit(ev, kind, suffix)
  if ev.retention == nil or ev.retention == '' then return end
  local fields = { 't', kind, 's', ev.user .. '.' .. suffix }
  if implied_cause[kind] ~= ev.cause then
    fields[#fields + 1] = 'c'
    fields[#fields + 1] = ev.cause
  end
  if ev.reason ~= nil and ev.reason ~= '' then
    fields[#fields + 1] = 'r'
    fields[#fields + 1] = ev.reason
  end
  -- MINID trims what is older than the retention; a quiet stream expires whole after it.
  redis.call('XADD', ev.key, 'MINID', '~', fmt(now_ms() - tonumber(ev.retention)), '*', unpack(fields))
  redis.call('PEXPIRE', ev.key, ev.retention)
end
