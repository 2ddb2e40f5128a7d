-- POST /api/v1/customers/search: a text query plus a country filter, first page of 10.
-- The same pairs as bench/pgbench/search.sql.
--
-- BENCH_DISTINCT=1 makes every request a search never asked before, so none is answered
-- from the service's search cache: each adds `created_before` at a different instant after
-- 2100, which every customer satisfies (same matches, same plans, one more filter).
local common = dofile("bench/wrk/common.lua")
local searches = {
  {"smith", "USA"}, {"garcia", "Mexico"}, {"john", "UK"}, {"anna", "Germany"},
  {"lee", "Canada"}, {"maria", "Spain"}, {"nguyen", "Australia"}, {"kim", "South Korea"},
  {"patel", "India"}, {"mueller", "Germany"}, {"rossi", "Italy"}, {"tanaka", "Japan"},
}
local distinct = os.getenv("BENCH_DISTINCT") == "1"
local sent = 0

init = function(args)
  common.seed_random()
end

request = function()
  local s = common.pick(searches)
  local extra = ""
  if distinct then
    -- Thread id and a per-thread counter: unique across the run, as seconds after 2100.
    sent = sent + 1
    local instant = 4102444800 + (thread_id or 0) * 100000000 + sent
    extra = string.format(',"created_before":"%s"', os.date("!%Y-%m-%dT%H:%M:%SZ", instant))
  end
  local body = string.format('{"query":"%s","country":"%s","page":1,"limit":10%s}', s[1], s[2], extra)
  return wrk.format("POST", "/api/v1/customers/search",
    {["Content-Type"] = "application/json"}, body)
end
