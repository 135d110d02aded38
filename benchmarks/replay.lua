-- wrk script: replays a file of whole requests, one "METHOD<TAB>target<TAB>accept<TAB>form" per
-- line (target: path and query string; form: an url-encoded body, or empty).
-- Usage: wrk -s replay.lua URL -- requests.tsv [split THREADS [PART PARTS]]
-- Each thread starts at its own offset and cycles; done() prints one JSON line. With
-- "split", the file is cut into one slice per thread and each starts at its slice, so that
-- no request is sent twice until a thread has gone through its slice (cold-cache runs);
-- with PART and PARTS, at that part of its slice (runs that must not replay each other).
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
  else
    index = (id * 7919) % #requests + 1
  end
end

function request()
  local r = requests[index]
  index = index % #requests + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
