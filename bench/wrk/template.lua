-- wrk script for `make bench` (bench/suites/throughput.py fills in the placeholders).
-- GET or POST with the session and CSRF cookies of a real login; a POST gets a fresh
-- idempotency key (UUID v4) per request and cycles through the given people.
local method = "{method}"
local path = "{path}"
local cookie = "{cookie}"
local form = "{form}"  -- url-encoded fields without beneficiary and idempotency_key
local people = { {people} }
local counter = 0

function setup(thread)
  thread:set("offset", math.random(1, 100000))
end

function init(args)
  math.randomseed(os.time() + (offset or 0))
  counter = offset or 0
end

local function uuid4()
  local template = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (string.gsub(template, "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function request()
  local headers = { ["Cookie"] = cookie }
  if method == "GET" then
    return wrk.format("GET", path, headers)
  end
  counter = counter + 1
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  local body = form .. "&idempotency_key=" .. uuid4()
  if #people > 0 then
    body = body .. "&beneficiary=" .. people[(counter % #people) + 1]
  end
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"status_errors": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
