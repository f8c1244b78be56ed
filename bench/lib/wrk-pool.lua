-- wrk script: a different header value on every request, taken in order from a pool file (one value a line:
-- unique access tokens or unique DPoP proofs), so that the load generator does no crypto while it runs.
--
--   wrk -t T -c C -d D -s wrk-pool.lua URL -- FILE OFFSET HEADER PREFIX T
--
-- Request k of thread t (0-based) sends HEADER: PREFIX .. line[OFFSET + t + k*T] (wrapping at the end of the pool;
-- run.mjs sizes pools so that they never wrap, and reports it when one did). Other headers come from -H.
-- done() prints one line `WRK_JSON {...}` with the summary and the number of pool entries taken.

local threads = {}
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  pool = {}
  for line in io.lines(args[1]) do
    pool[#pool + 1] = line
  end
  size = #pool
  header = args[3]
  prefix = args[4] or ""
  stride = tonumber(args[5] or "1")
  index = tonumber(args[2]) + tid
  used = 0
end

function request()
  wrk.headers[header] = prefix .. pool[(index % size) + 1]
  index = index + stride
  used = used + 1
  return wrk.format()
end

function done(summary, latency, requests)
  local taken = 0
  for _, thread in ipairs(threads) do
    taken = taken + (thread:get("used") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"taken":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), taken))
end
