-- wrk script for bench/submit.py: POST complete citizen responses, each with a
-- fresh submission_id, cycling through pre-generated valid answer bodies.
-- With BENCH_METHOD=GET it fetches BENCH_PATH instead (bench/rotate.py --floor),
-- sending BENCH_COOKIE; BENCH_OK is the status counted as served (201 by default).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    table.insert(bodies, line)
  end
  path = os.getenv("BENCH_PATH")
  method = os.getenv("BENCH_METHOD") or "POST"
  cookie = os.getenv("BENCH_COOKIE")
  ok = tonumber(os.getenv("BENCH_OK") or "201")
  math.randomseed(os.time() * 1000 + id)
  created, other, sent = 0, 0, 0
  statuses = {}
end

local function uuid4()
  local t = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (string.gsub(t, "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function request()
  sent = sent + 1
  if method == "GET" then
    return wrk.format("GET", path, {["Cookie"] = cookie})
  end
  local body = string.gsub(bodies[(sent % #bodies) + 1], "SUBMISSION_ID", uuid4())
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == ok then
    created = created + 1
  else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    o = o + thread:get("other")
  end
  io.write(string.format("RESULT created=%d other=%d requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d errors=%d\n",
    c, o, summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
