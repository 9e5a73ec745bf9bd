-- wrk script for bench/run.py: sends the requests of a file, one per line as
--   METHOD <tab> PATH <tab> AUTHORIZATION (or -) <tab> BODY (or -)
-- Each wrk thread takes every Nth line (N = thread count), so no two threads share a line (a file
-- of fewer lines is every thread's), and
-- sends its lines in turn, starting over at the end (a file of single-use tokens holds more than
-- a line can use; a token used twice would show as an unexpected non-2xx). "{n}" and "{t}" in a
-- body become a per-thread counter and the thread number, for inputs that must be new each time.
-- At the end it prints one JSON line: requests, duration, errors, latency percentiles.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local requests_ = {}
local position = 0
local counter = 0

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

function init(args)
  local path, thread_count = args[1], tonumber(args[2])
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  for index, line in ipairs(lines) do
    -- A file with fewer lines than threads (one request repeated) is every thread's.
    if #lines < thread_count or (index - 1) % thread_count == id - 1 then
      local fields = split(line)
      local headers = { ["Content-Type"] = "application/json", ["User-Agent"] = "wrk-bench" }
      if fields[3] ~= "-" then headers["Authorization"] = fields[3] end
      requests_[#requests_ + 1] = { method = fields[1], path = fields[2], headers = headers, body = fields[4] }
    end
  end
end

request = function()
  position = position + 1
  if position > #requests_ then position = 1 end
  local r = requests_[position]
  local body = nil
  if r.body ~= "-" then
    counter = counter + 1
    body = r.body:gsub("{n}", tostring(counter)):gsub("{t}", tostring(id))
  end
  return wrk.format(r.method, r.path, r.headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "status_errors": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
