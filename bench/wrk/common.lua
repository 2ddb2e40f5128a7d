-- Shared by every wrk scenario: per-thread random seeds, the sample of existing customers
-- (written by bench/run.sh), and one machine-readable result line.
local common = {}

local threads = {}
local next_thread = 0

-- Called by wrk in the main Lua state for each thread before it starts.
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
  table.insert(threads, thread)
end

-- Loads the sample of existing customers: `ids` and `emails`.
function common.load_sample()
  dofile(os.getenv("BENCH_SAMPLE") or "target/bench/sample.lua")
end

function common.seed_random()
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function common.pick(list)
  return list[math.random(1, #list)]
end

-- Called once at the end: "RESULT requests_per_second p50_ms p99_ms errors".
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format("ERRORS connect %d read %d write %d timeout %d status %d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
  io.write(string.format("RESULT %.1f %.2f %.2f %d\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    errors))
end

return common
