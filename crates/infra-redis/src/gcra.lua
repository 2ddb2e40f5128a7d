-- One request of one client against the limit shared by every instance: GCRA, the same
-- decisions as the service's own limiter (domain::RateQuota says how). Atomic, as every
-- script is; one round trip. Time is the server's (TIME), so the instances' clocks do not
-- matter; everything counts in microseconds.
--
-- KEYS[1]  the client's key; it holds the theoretical arrival time (TAT) and expires when
--          the TAT has passed, when the client is the same as one never seen
-- ARGV[1]  the interval one request uses up
-- ARGV[2]  the tolerance: how far ahead of now the TAT may be for a request to conform
-- Returns  {1, 0} admitted (and counted), or {0, wait} refused (nothing counted): wait is
--          how long until the client may send again
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
-- A missing key (false) or a value that is not a number: a client never seen.
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
    tat = now
end
local ahead = tat - now
if ahead > tolerance then
    return {0, ahead - tolerance}
end
local next_tat = tat + interval
-- %d: integers as digits (tostring would write 1.7e+15 and lose the microseconds).
local ttl_ms = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', ttl_ms))
return {1, 0}
