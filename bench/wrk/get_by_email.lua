-- GET /api/v1/customers/email/{email} of random existing customers.
local common = dofile("bench/wrk/common.lua")
common.load_sample()

init = function(args)
  common.seed_random()
end

request = function()
  return wrk.format("GET", "/api/v1/customers/email/" .. common.pick(emails))
end
