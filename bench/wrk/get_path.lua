-- GET of one fixed path (BENCH_PATH): list pages and the statistics overview.
local common = dofile("bench/wrk/common.lua")
local path = os.getenv("BENCH_PATH")

request = function()
  return wrk.format("GET", path)
end
