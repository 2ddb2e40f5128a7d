-- GET /api/v1/customers/{customer_id} of random existing customers.
local common = dofile("bench/wrk/common.lua")
common.load_sample()

init = function(args)
  common.seed_random()
end

request = function()
  return wrk.format("GET", "/api/v1/customers/" .. common.pick(ids))
end
