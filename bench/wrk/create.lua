-- POST /api/v1/customers/: realistic names (so usernames collide and need suffixes), an
-- email unique to this run, thread and request. create_idem.lua sends the same requests
-- with an Idempotency-Key each, through create_request.
local common = dofile("bench/wrk/common.lua")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local first_names = {"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael",
  "Linda", "David", "Maria", "Wei", "Priya", "Lukas", "Sophie", "Noah", "Emma"}
local last_names = {"Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Lee",
  "Nguyen", "Mueller", "Rossi", "Tanaka", "Patel", "Silva", "Kim", "Martin", "Kowalski"}
local countries = {"USA", "UK", "Germany", "Canada", "India", "France", "Japan", "Brazil"}
local counter = 0

init = function(args)
  common.seed_random()
end

-- The next request of this thread, with these headers besides Content-Type (a table
-- wrk.format may change, so a new one each time).
function create_request(headers)
  counter = counter + 1
  headers["Content-Type"] = "application/json"
  local first = common.pick(first_names)
  local last = common.pick(last_names)
  local body = string.format(
    '{"first_name":"%s","last_name":"%s","email":"%s.%s.%s.%d.%d@bench.example.com",' ..
    '"phone":"+1 555 %03d %04d","country":"%s","city":"Springfield",' ..
    '"tags":"bench,new","marketing_emails":true}',
    first, last, first:lower(), last:lower(), run, thread_id, counter,
    math.random(0, 999), math.random(0, 9999), common.pick(countries))
  return wrk.format("POST", "/api/v1/customers/", headers, body)
end

request = function()
  return create_request({})
end
