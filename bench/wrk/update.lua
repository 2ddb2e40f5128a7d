-- PUT /api/v1/customers/{customer_id} of random existing customers: new notes (unique to
-- this run, thread and request) and a city, so every request changes the customer. The
-- customers are the sample's first hundred, the same pgbench's update.sql changes, so that
-- both wait for each other's row locks as often.
local common = dofile("bench/wrk/common.lua")
common.load_sample()
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local cities = {"Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Clinton"}
local counter = 0

init = function(args)
  common.seed_random()
end

request = function()
  counter = counter + 1
  local body = string.format('{"notes":"bench %s.%d.%d","city":"%s"}',
    run, thread_id, counter, common.pick(cities))
  local id = ids[math.random(1, math.min(100, #ids))]
  return wrk.format("PUT", "/api/v1/customers/" .. id,
    {["Content-Type"] = "application/json"}, body)
end
