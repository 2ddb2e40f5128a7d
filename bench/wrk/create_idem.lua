-- POST /api/v1/customers/ as create.lua, each request with an Idempotency-Key never sent
-- before: the run, the thread, the thread's request count and a random part (so no key of
-- an earlier run or another thread can repeat). Every request is a first attempt: this
-- measures what storing the key costs, not replays.
dofile("bench/wrk/create.lua")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local sent = 0

request = function()
  sent = sent + 1
  local key = string.format("bench-%s-%d-%d-%08x", run, thread_id or 0, sent,
    math.random(0, 2147483647))
  return create_request({["Idempotency-Key"] = key})
end
