-- The template bench/wrk.py fills in for one run (a string.Template: see lua_script there).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local ID, UNIQUE = {}, {}
local METHOD = $method
local PATH = $path
local BODY = $body
local IDS = $ids
local UNIQUE_USED = $unique_used
local QUOTA = $quota
local HEADERS = {["Accept"] = "application/json"}
$headers
if BODY then HEADERS["Content-Type"] = "application/json" end

-- main Lua state: the wrk threads, numbered, to add up their counters in done()
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

-- each thread's Lua state; globals, so that done() can read them with thread:get
sent, answered, first, last, statuses = 0, 0, 0, 0, {}
local n, drained, cache, deadline = 0, false, {}, 0

function init(args)
  deadline = tonumber(args[1])
  math.randomseed(tid * 7919 + math.floor(deadline))
end

local function fill(parts, id, unique)
  if parts == nil then return nil end
  local out = {}
  for i, p in ipairs(parts) do
    if p == ID then out[i] = id elseif p == UNIQUE then out[i] = unique else out[i] = p end
  end
  return table.concat(out)
end

function request()
  local id = IDS[math.random(math.max(1, #IDS))] or ""
  if UNIQUE_USED then
    n = n + 1
    local unique = tid .. "-" .. n
    return wrk.format(METHOD, fill(PATH, id, unique), HEADERS, fill(BODY, id, unique))
  end
  local req = cache[id]
  if not req then
    req = wrk.format(METHOD, fill(PATH, id), HEADERS, fill(BODY, id))
    cache[id] = req
  end
  return req
end

local function stopping(t)
  return sent >= QUOTA or t >= deadline
end

local function drain_check()
  if not drained and answered >= sent then
    drained = true
    io.stderr:write("$drained" .. tid .. "\n")
  end
end

-- called before every request of a connection: 0 = send now; after the deadline the
-- connection waits (an hour, i.e. until SIGINT) and the thread reports when it has drained
function delay()
  local t = now()
  if stopping(t) then
    drain_check()
    return 3600000
  end
  if first == 0 then first = t end
  sent = sent + 1
  return 0
end

function response(status, headers, body)
  answered = answered + 1
  last = now()
  statuses[status] = (statuses[status] or 0) + 1
  if stopping(last) then drain_check() end
end

function done(summary, latency, requests)
  local total, merged = {sent = 0, answered = 0, first = 0, last = 0}, {}
  for _, thread in ipairs(threads) do
    total.sent = total.sent + thread:get("sent")
    total.answered = total.answered + thread:get("answered")
    local f = thread:get("first")
    if f > 0 and (total.first == 0 or f < total.first) then total.first = f end
    total.last = math.max(total.last, thread:get("last"))
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local codes = {}
  for status, count in pairs(merged) do
    codes[#codes + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write("$result", string.format(
    '{"requests": %d, "sent": %d, "answered": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"duration_us": %d, "first": %.6f, "last": %.6f, "latency_us": {"p50": %.0f, ' ..
    '"p90": %.0f, "p95": %.0f, "p99": %.0f, "max": %.0f, "min": %.0f, "mean": %.1f}}',
    summary.requests, total.sent, total.answered, table.concat(codes, ", "),
    e.connect, e.read, e.write, e.status, e.timeout, summary.duration, total.first, total.last,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.min, latency.mean), "\n")
end
