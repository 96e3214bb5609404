#!/usr/bin/env bash
# perch.http against a real upstream on 127.0.0.1 (tests/runtime/
# http_upstream.py): GET/POST/PUT/HEAD with headers and bodies, 4xx as
# responses and 5xx as "http_5xx" failures, the failure codes (timeout,
# connect, dns, reset, too_large, queue_full), keep-alive reuse counted by
# the server, bounded concurrency per upstream, cancelling a waiting task,
# stats; then an app stopped with requests in flight (no leak under ASan,
# nothing resumes) and an app that ends by itself once its requests are done
# (idle pooled connections do not keep it alive).
#
# The "dns" case uses nonexistent..invalid: glibc refuses a name with an
# empty label before asking any server, so the test stays off the network
# (nonexistent.invalid would be sent to the configured nameserver).
. "$(dirname "$0")/lib.sh"
plan 9
# libcurl honours http_proxy: keep a proxy of the environment out of loopback.
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

start_upstream
PORT=$UPSTREAM
# A port nothing listens on: bound, then closed.
CLOSED=$(free_port)

main=$(script main <<'LUA'
local t = require "perch.test"
local base = "http://127.0.0.1:" .. perch.config.test.port
local closed = perch.config.test.closed

local function server_connections()
  local r = assert(perch.http.request{ url = base .. "/stats" })
  return tonumber(r.body:match("connections=(%d+)"))
end

t.plan(44)
t.raises(function() perch.http.request{ url = base } end,
         "perch.http.request: not inside a task %(use perch.spawn%)", "request outside a task raises")

perch.spawn(function()
  local R = perch.http.request
  t.raises(function() R("x") end, "table expected", "needs a table")
  t.raises(function() R{ url = base, timeout = 5 } end, "unknown option 'timeout' %(known: method, url", "unknown fields raise")
  t.raises(function() R{ url = "ftp://127.0.0.1/" } end, "only http:// and https://", "other schemes raise")
  t.raises(function() R{ url = "http://" } end, "bad url 'http://'", "a bad url raises")
  t.raises(function() R{ url = base, method = "get" } end, "bad method 'get'", "a bad method raises")
  t.raises(function() R{ url = base, headers = { ["X-A"] = "a\r\nX-B: c" } } end, "line break",
           "header injection raises")
  t.raises(function() R{ url = base, headers = { ["bad name"] = "x" } } end, "must be tokens",
           "a bad header name raises")
  t.raises(function() R{ url = base, timeout_ms = 0 } end, "timeout_ms must be", "timeout_ms 0 raises")

  local res = R{ url = base .. "/echo?x=1", headers = { ["X-Test"] = "hello" } }
  t.is(res and res.status, 200, "GET /echo: 200")
  t.is(res.body, "GET /echo?x=1\n", "GET: the body")
  t.is(res.headers["x-echo-test"], "hello", "a request header reached the upstream")
  t.is(res.headers["x-multi"], "a, b", "repeated response headers are comma-joined")
  t.is(res.headers["content-type"], "text/plain", "header names are lower-case")
  t.ok(type(res.time) == "number" and res.time >= 0, "res.time in seconds")

  res = R{ url = base .. "/echo", body = "payload \0 bytes" }
  t.is(res and res.body, "POST /echo\npayload \0 bytes", "POST by default with a body; binary-safe")
  res = R{ method = "PUT", url = base .. "/echo", body = "p" }
  t.is(res and res.body, "PUT /echo\np", "PUT with a body")
  res = R{ method = "HEAD", url = base .. "/echo" }
  t.ok(res and res.status == 200 and res.body == "", "HEAD: 200, no body")

  res = R{ url = base .. "/status?code=429&retry_after=7" }
  t.ok(res and res.status == 429 and res.headers["retry-after"] == "7",
       "429 is a response; Retry-After readable")
  res = R{ url = base .. "/nothing-here" }
  t.is(res and res.status, 404, "404 is a response")

  local r5, err5, code5, resp5 = R{ url = base .. "/status?code=503&retry_after=3" }
  t.ok(r5 == nil and code5 == "http_5xx", "503: nil, message, 'http_5xx'")
  t.like(err5, "503", "the message names the status")
  t.ok(resp5 and resp5.status == 503 and resp5.body == "status 503" and resp5.headers["retry-after"] == "3",
       "the 5xx response is the fourth result")

  local t0 = perch.now()
  local rt, _, codet = R{ url = base .. "/delay?ms=3000", timeout_ms = 200 }
  local el = perch.now() - t0
  t.ok(rt == nil and codet == "timeout", "a slow upstream: 'timeout'")
  t.ok(el >= 0.19 and el < 2, ("timed out after %.3f s"):format(el))

  local _, errc, codec = R{ url = ("http://127.0.0.1:%d/"):format(closed) }
  t.is(codec, "connect", "a closed port: 'connect'")
  t.like(errc, "127%.0%.0%.1", "the message names the address")
  local _, _, coded = R{ url = "http://nonexistent..invalid/" }
  t.is(coded, "dns", "a name that cannot resolve: 'dns'")
  local _, _, coder = R{ url = base .. "/reset" }
  t.is(coder, "reset", "reset mid-response: 'reset'")
  local _, _, codee = R{ url = base .. "/empty" }
  t.is(codee, "reset", "closed without a response: 'reset'")

  local _, errl, codel = R{ url = base .. "/big?n=1000001" }
  t.is(codel, "too_large", "a body over http.max_body (announced): 'too_large'")
  t.like(errl, "1000000 bytes", "the message names the cap")
  local _, _, codelc = R{ url = base .. "/big?n=2000000&chunked=1" }
  t.is(codelc, "too_large", "a body over the cap (chunked, no length): 'too_large'")
  res = R{ url = base .. "/big?n=1000000" }
  t.is(res and #res.body, 1000000, "a body at the cap is fine")

  -- Keep-alive: sequential requests share one connection.
  local c0, s0 = server_connections(), perch.http.stats().connections
  for _ = 1, 20 do assert(R{ url = base .. "/echo" }) end
  local c1 = server_connections()
  t.ok(c1 - c0 <= 1, ("21 sequential requests: the upstream saw %d new connection(s)"):format(c1 - c0))
  t.ok(perch.http.stats().connections - s0 <= 1, "the client's count agrees")

  -- Concurrency: 40 tasks at once, at most max_per_host=4 in flight.
  local tasks, peak_flight, peak_queued = {}, 0, 0
  for i = 1, 40 do
    tasks[i] = perch.spawn(function()
      local r = R{ url = base .. "/delay?ms=20" }
      return r and r.status
    end)
  end
  perch.spawn(function()
    for _ = 1, 20 do
      local st = perch.http.stats()
      peak_flight = math.max(peak_flight, st.in_flight)
      peak_queued = math.max(peak_queued, st.queued)
      perch.sleep(5)
    end
  end)
  local done = 0
  for i = 1, 40 do
    local ok, status = tasks[i]:join()
    if ok and status == 200 then done = done + 1 end
  end
  t.is(done, 40, "40 concurrent requests from tasks all completed")
  t.ok(peak_flight == 4 and peak_queued > 0,
       ("at most 4 in flight (peak %d), the rest queued (peak %d)"):format(peak_flight, peak_queued))
  local c2 = server_connections()
  t.ok(c2 - c1 <= 4, ("41 requests, 4 at a time: %d new connection(s)"):format(c2 - c1))

  -- Cancelling a task that waits on a request cancels the request.
  local waiting = perch.spawn(function()
    R{ url = base .. "/delay?ms=3000" }
    error("a cancelled task must not resume")
  end)
  perch.sleep(50)
  t.is(perch.http.stats().in_flight, 1, "the request is in flight")
  t.ok(waiting:cancel(), "cancel the waiting task")
  local st = perch.http.stats()
  t.ok(st.in_flight == 0 and st.errors.cancelled == 1, "its request was cancelled")

  t.ok(st.errors.timeout == 1 and st.errors.connect == 1 and st.errors.dns == 1 and
       st.errors.reset == 2 and st.errors.http_5xx == 1 and st.errors.too_large == 2 and
       st.errors.queue_full == 0, "failures counted by code")
  t.is(st.requests, st.ok + st.failed, "every request accounted for")
  t.done()
end)
LUA
)
perch run "$main" --duration 60 --log-level warn --set test.port="$PORT" --set test.closed="$CLOSED" \
    --set http.max_per_host=4 --set http.max_body=1000000 >"$TMP/main.out" 2>"$TMP/main.err"
STATUS=$?
subtest "perch.http from Lua against the test upstream" "$TMP/main.out"
is "$STATUS" 0 "exit 0"; [ "$STATUS" -eq 0 ] || sed 's/^/# /' "$TMP/main.err" | tail -20

queue=$(script queue <<'LUA'
local t = require "perch.test"
local base = "http://127.0.0.1:" .. perch.config.test.port
t.plan(6)
local results, tasks = {}, {}
local specs = {
  { url = base .. "/delay?ms=400" }, { url = base .. "/delay?ms=400" },        -- in flight
  { url = base .. "/echo" }, { url = base .. "/echo", timeout_ms = 100 },      -- queued
  { url = base .. "/echo" },
  { url = base .. "/echo" },                                                   -- over the limit
}
for i, spec in ipairs(specs) do
  tasks[i] = perch.spawn(function()
    local t0 = perch.now()
    local res, err, code = perch.http.request(spec)
    results[i] = { code = res and "ok" or code, err = err, t = perch.now() - t0 }
  end)
end
perch.spawn(function()
  local st = perch.http.stats()
  t.ok(st.in_flight == 2 and st.queued == 3, ("2 in flight, 3 queued (%d, %d)"):format(st.in_flight, st.queued))
  for i = 1, #tasks do tasks[i]:join() end
  t.is(results[6].code, "queue_full", "the 6th request: 'queue_full'")
  t.ok(results[6].t < 0.3, ("refused at once, not after the 400 ms slots (%.3f s)"):format(results[6].t))
  t.like(results[6].err, "queue full for http://127%.0%.0%.1:%d+ %(2 in flight, 3 waiting%)", "the message says why")
  t.ok(results[4].code == "timeout" and results[4].err:find("queue"), "a deadline passed in the queue: 'timeout'")
  t.ok(results[1].code == "ok" and results[2].code == "ok" and results[3].code == "ok" and results[5].code == "ok",
       "the others completed")
  t.done()
end)
LUA
)
perch run "$queue" --duration 60 --log-level warn --set test.port="$PORT" \
    --set http.max_per_host=2 --set http.max_queue=3 >"$TMP/queue.out" 2>"$TMP/queue.err"
subtest "http.max_per_host=2, http.max_queue=3: queue_full beyond" "$TMP/queue.out"

teardown=$(script teardown <<'LUA'
local base = "http://127.0.0.1:" .. perch.config.test.port
for i = 1, 10 do
  perch.spawn(function()
    perch.http.request{ url = base .. "/delay?ms=60000", body = ("b"):rep(1000) }
    print("resumed after teardown")
  end)
end
perch.spawn(function()
  perch.sleep(300)
  local st = perch.http.stats()
  print(("in_flight=%d"):format(st.in_flight))
  -- Tasks newer than the client: closed before it at teardown.
  for i = 1, 3 do
    perch.spawn(function()
      perch.http.request{ url = base .. "/delay?ms=60000" }
      print("resumed after teardown")
    end)
  end
  perch.sleep(50)
  print(("queued=%d"):format(perch.http.stats().queued))
  perch.stop()
end)
LUA
)
# The upstream answers after 60 s; an app that waited for it would hit
# wait_exit's 45 s limit (STATUS=timeout).
start teardown run "$teardown" --duration 100 --set test.port="$PORT"
wait_exit "$PID" 45
is "$STATUS" 0 "stopped with 10 requests in flight: exit 0"
like "$TMP/teardown.out" "^in_flight=4$" "4 were in flight (the default http.max_per_host)"
like "$TMP/teardown.out" "^queued=9$" "9 were queued"
unlike "$TMP/teardown.out" "resumed" "no task resumed after teardown"
unlike "$TMP/teardown.err" "Sanitizer|leak" "no leak or memory error (ASan)"

ends=$(script ends <<'LUA'
perch.spawn(function()
  local res = assert(perch.http.request{ url = "http://127.0.0.1:" .. perch.config.test.port .. "/echo" })
  print("status " .. res.status)
end)
LUA
)
# No --duration here: its timer alone would keep the app running.
start ends run "$ends" --set test.port="$PORT"
wait_exit "$PID" 20
like "$TMP/ends.err" "stopped \(nothing left to run\) after [0-9.]+ s" \
    "an app whose requests are done ends by itself (pooled connections do not hold it)"
