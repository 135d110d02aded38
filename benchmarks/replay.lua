-- wrk script: replays a file of whole requests, one "METHOD<TAB>target<TAB>accept<TAB>form" per
-- line (target: path and query string; form: an url-encoded body, or empty).
-- Usage: wrk -s replay.lua URL -- requests.tsv [split THREADS [PART PARTS [once]]]
-- Each thread starts at its own offset and cycles; done() prints one JSON line. With
-- "split", the file is cut into one slice per thread and each starts at its slice, so that
-- no request is sent twice until a thread has gone through its slice (cold-cache runs);
-- with PART and PARTS, at that part of its slice (runs that must not replay each other).
-- With "once", each thread sends its slice once: a connection whose thread has sent its
-- slice waits rather than go on to requests answered already, the thread stops at its
-- last answer, and the JSON line gets "once": the answers, and the seconds from the first
-- request of any thread to the last answer of any (wrk's own duration is the -d given).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } replay_timespec;
  int clock_gettime(int clock, replay_timespec *now);
]]
local timespec = ffi.new("replay_timespec")

local function now()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC: one clock for every thread
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local requests = {}
local index = 1

function init(args)
  for line in io.lines(args[1]) do
    local method, target, accept, form = line:match("^(%u+)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if method then
      local headers = { ["Accept"] = accept }
      local body = nil
      if form ~= "" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = form
      end
      requests[#requests + 1] = wrk.format(method, target, headers, body)
    end
  end
  if args[2] == "split" then
    -- "split THREADS PART PARTS": start at part PART of PARTS of the thread's slice, so
    -- that runs given different parts send different requests.
    local slice = math.floor(#requests / tonumber(args[3]))
    local part, parts = tonumber(args[4] or "0"), tonumber(args[5] or "1")
    index = id * slice + part * math.floor(slice / parts) + 1
    if args[6] == "once" then
      sending_once(slice)
    end
  else
    index = (id * 7919) % #requests + 1
  end
end

-- wrk asks for delay() and response() after init(): defined here, they cost nothing to
-- the runs without "once".
function sending_once(slice)
  reserved, answers = 0, 0
  delay = function()
    if reserved == slice then
      return 3600 * 1000 -- past any run: this connection sends nothing more
    end
    reserved = reserved + 1
    return 0
  end
  response = function()
    answers = answers + 1
    last_answer = now()
    if answers == slice then
      wrk.thread:stop()
    end
  end
end

function request()
  if reserved ~= nil and first_request == nil then
    first_request = now()
  end
  local r = requests[index]
  index = index % #requests + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  local once = ""
  if threads[1]:get("reserved") ~= nil then
    local answers, first, last = 0, math.huge, 0
    for _, thread in ipairs(threads) do
      answers = answers + thread:get("answers")
      first = math.min(first, thread:get("first_request") or math.huge)
      last = math.max(last, thread:get("last_answer") or 0)
    end
    once = string.format(', "once": {"answers": %d, "seconds": %.6f}', answers, math.max(last - first, 0))
  end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, once))
end
