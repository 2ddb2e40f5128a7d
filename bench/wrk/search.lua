-- POST /api/v1/customers/search: a text query plus a country filter, first page of 10.
-- The same pairs as bench/pgbench/search.sql.
local common = dofile("bench/wrk/common.lua")
local searches = {
  {"smith", "USA"}, {"garcia", "Mexico"}, {"john", "UK"}, {"anna", "Germany"},
  {"lee", "Canada"}, {"maria", "Spain"}, {"nguyen", "Australia"}, {"kim", "South Korea"},
  {"patel", "India"}, {"mueller", "Germany"}, {"rossi", "Italy"}, {"tanaka", "Japan"},
}

init = function(args)
  common.seed_random()
end

request = function()
  local s = common.pick(searches)
  local body = string.format('{"query":"%s","country":"%s","page":1,"limit":10}', s[1], s[2])
  return wrk.format("POST", "/api/v1/customers/search",
    {["Content-Type"] = "application/json"}, body)
end
