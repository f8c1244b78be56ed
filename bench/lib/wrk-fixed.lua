-- wrk script for fixed requests (headers from -H): wrk formats the request once and resends it (no Lua per
-- request). done() prints one line `WRK_JSON {...}` with the summary, like wrk-pool.lua.

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"taken":0}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
