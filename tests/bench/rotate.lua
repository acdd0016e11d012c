-- wrk script of bench_reads: each request takes the next target of WRK_TARGETS (a path, a tab,
-- one header "Name: value"), so the reads rotate through households, tokens and pages.
local targets = {}
for line in io.lines(os.getenv("WRK_TARGETS")) do
  local path, name, value = line:match("^([^\t]+)\t([^:]+): (.*)$")
  targets[#targets + 1] = { path, { [name] = value } }
end
local next_target = 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  next_target = math.random(#targets)
end

function request()
  next_target = next_target % #targets + 1
  local t = targets[next_target]
  return wrk.format("GET", t[1], t[2])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors_status": %d, "errors_other": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
