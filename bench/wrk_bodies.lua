-- wrk script for the capture benches: every request POSTs the next body of WRK_BODIES (one per line),
-- so each one is a new submission (its own render token, email and client address), with the headers
-- of WRK_HEADERS ("Name: value" separated by "|"). "{ip}" in a header becomes a fresh 10.x.y.z.
-- WRK_START is how many bodies earlier runs on the same file used: a run starts after them, so a warm-up
-- and the rounds after it send new submissions, not replays of the first ones (one thread: run wrk -t1).
-- Prints the same WRKSTATS line as the floor's wrk_stats.lua.
local bodies, n, i = {}, 0, tonumber(os.getenv("WRK_START") or "0")
local headers = {}

function init(args)
  for line in io.lines(os.getenv("WRK_BODIES")) do
    n = n + 1
    bodies[n] = line
  end
  for pair in string.gmatch(os.getenv("WRK_HEADERS") or "", "[^|]+") do
    local name, value = string.match(pair, "^%s*([^:]+):%s*(.*)$")
    headers[name] = value
  end
end

function request()
  i = i + 1
  local body = bodies[((i - 1) % n) + 1]
  local h = {}
  for name, value in pairs(headers) do
    h[name] = string.gsub(value, "{ip}", string.format("10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256))
  end
  return wrk.format("POST", nil, h, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKSTATS requests=%d duration_us=%d rps=%.1f p50_ms=%.2f p90_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f non2xx3xx=%d sockerr=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
