#!/usr/bin/env bash
# perch.retry against a real upstream on 127.0.0.1 (tests/runtime/
# http_upstream.py), judged by what the upstream saw: how many requests
# arrived and when.  Retry counts, jittered backoff within its bounds (the
# gaps between arrivals against the waits the policy reports, and those
# against the formula), the overall deadline, the retry budget under a
# failure storm, the circuit breaker opening and half-opening with exactly
# one probe, Retry-After (seconds and HTTP date) honoured and capped, 4xx not
# retried, connection failures retried, and the hard cap on attempts (with
# its log line).
. "$(dirname "$0")/lib.sh"
plan 4
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

start_upstream
PORT=$UPSTREAM
CLOSED=$(free_port)

main=$(script main <<'LUA'
local t = require "perch.test"
local base = "http://127.0.0.1:" .. perch.config.test.port
-- Scheduling slack on top of a wait: sanitizers and qemu are slow.
local SLACK = 250

local function seen(id)
  local r = assert(perch.http.request{ url = base .. "/seen?id=" .. id })
  return assert(perch.json.decode(r.body))
end
local function seq(id, codes, extra)
  return { url = ("%s/seq?id=%s&codes=%s%s"):format(base, id, codes, extra or "") }
end
local function gaps(ms)
  local g = {}
  for i = 2, #ms do g[#g + 1] = ms[i] - ms[i - 1] end
  return g
end

t.plan(44)
perch.spawn(function()
  -- 1. Retries until success: 503, 503, 200 with exponential 50, 100 ms.
  local p = perch.retry.policy{ attempts = 4, backoff = "exponential", base_ms = 50, cap_ms = 1000 }
  local res, rec = p:request(seq("a", "503,503,200"))
  t.is(res and res.status, 200, "503, 503, 200: the third attempt answers")
  t.ok(rec.attempts == 3 and rec.retries == 2 and rec.reason == "ok", "the record: 3 attempts, 2 retries")
  t.is(table.concat(rec.codes, ","), "http_5xx,http_5xx,200", "the record: each attempt's outcome")
  local s = seen("a")
  t.is(s.n, 3, "the upstream saw 3 requests")
  local g = gaps(s.ms)
  t.ok(g[1] >= 49 and g[1] < 50 + SLACK and g[2] >= 99 and g[2] < 100 + SLACK,
       ("exponential waits 50, 100 ms: the upstream saw gaps of %.0f, %.0f ms"):format(g[1], g[2]))

  -- 2. Full jitter with a seed: gaps follow the reported waits, which stay
  --    within [0, min(cap, base * 2^(n-1))]; the same seed, the same waits.
  local function jittered() return perch.retry.policy{ attempts = 5, backoff = "full", base_ms = 40,
    cap_ms = 200, seed = 1234, breaker = false, budget = false } end
  local _, err, code, rec2 = jittered():request(seq("j", "503"))
  t.ok(code == "http_5xx" and rec2.attempts == 5 and rec2.reason == "attempts",
       "always 503: nil, 'http_5xx' after 5 attempts")
  t.like(err, "after 5 attempts; stopped: attempts", "the message says why it stopped")
  local within, follows = true, true
  local sj = seen("j")
  local gj = gaps(sj.ms)
  for i, w in ipairs(rec2.waits) do
    within = within and w >= 0 and w <= math.min(200, 40 * 2 ^ (i - 1))
    follows = follows and gj[i] >= w - 2 and gj[i] < w + SLACK
  end
  t.ok(#rec2.waits == 4 and within, "4 waits, each within [0, min(cap, base*2^(n-1))]: "
       .. table.concat(rec2.waits, ", "))
  t.ok(sj.n == 5 and follows, "the upstream saw 5 requests, spaced by those waits: "
       .. table.concat(gj, ", "))
  local _, _, _, rec3 = jittered():request(seq("j2", "503"))
  t.is(table.concat(rec3.waits, ","), table.concat(rec2.waits, ","), "the same seed gives the same waits")

  -- 3. The deadline covers every attempt and wait; the last attempt's
  --    timeout is cut to what remains.
  local pd = perch.retry.policy{ attempts = 10, backoff = "exponential", base_ms = 50, cap_ms = 50,
    timeout_ms = 300, deadline_ms = 1000, breaker = false, budget = false }
  local t0 = perch.now()
  local rd, _, coded, recd = pd:request(seq("d", "sleep2000"))
  local el = (perch.now() - t0) * 1000
  t.ok(rd == nil and coded == "timeout" and recd.reason == "deadline", "a hanging upstream: 'timeout', stopped by the deadline")
  t.ok(el >= 950 and el < 1000 + SLACK, ("deadline 1000 ms respected (%.0f ms)"):format(el))
  -- 0-300, 350-650, 700-1000: the third is cut to what remains (a slow
  -- machine may fit only two).
  t.ok(recd.attempts >= 2 and recd.attempts <= 3 and seen("d").n == recd.attempts,
       ("300 ms attempts 50 ms apart: %d fit, as the upstream saw"):format(recd.attempts))

  -- 4. The budget under a failure storm: 20 concurrent requests to an
  --    upstream that always fails, 4 attempts each, budget 0.2 with 2 spare:
  --    at most 0.2 * 20 + 2 = 6 retries instead of 60.
  local pb = perch.retry.policy{ attempts = 4, backoff = "exponential", base_ms = 10, cap_ms = 10,
    budget = { ratio = 0.2, min_retries = 2 }, breaker = false }
  local tasks, stopped = {}, 0
  for i = 1, 20 do
    tasks[i] = perch.spawn(function() local _, _, _, r = pb:request(seq("storm", "503")); return r.reason end)
  end
  for i = 1, 20 do
    local _, reason = tasks[i]:join()
    if reason == "budget" then stopped = stopped + 1 end
  end
  local sb = seen("storm")
  t.ok(sb.n >= 20 and sb.n <= 26, ("the upstream saw %d requests (20 first attempts + at most 6 retries)"):format(sb.n))
  t.ok(stopped >= 14, ("%d requests stopped by the budget"):format(stopped))
  local st = pb:state(base)
  t.ok(st.requests == 20 and st.retries == sb.n - 20, "policy:state counts the window's requests and retries")

  -- 5. The breaker: 3 failures open it; open, requests fail fast; after
  --    open_ms exactly one probe goes through; its success closes it.
  local pk = perch.retry.policy{ attempts = 1, breaker = { failures = 3, open_ms = 300 }, budget = false }
  for _ = 1, 3 do pk:request(seq("br", "503,503,503,200,200")) end
  t.is(pk:state(base).breaker, "open", "3 consecutive failures open the breaker")
  local rk, errk, codek, reck = pk:request(seq("br", "200"))
  t.ok(rk == nil and codek == "breaker_open" and reck.attempts == 0, "open: nil, 'breaker_open', no attempt")
  t.like(errk, "circuit open for http://127%.0%.0%.1:%d+ %(%d+ ms left%)", "the message names the upstream")
  t.is(seen("br").n, 3, "the upstream saw nothing while open")
  perch.sleep(320)
  t.is(pk:state(base).breaker, "half_open", "after open_ms: half-open")
  local probes, fast = {}, 0
  for i = 1, 5 do
    probes[i] = perch.spawn(function() local r, _, c = pk:request(seq("br", "200")); return r and r.status or c end)
  end
  local answers = {}
  for i = 1, 5 do
    local _, v = probes[i]:join()
    answers[#answers + 1] = tostring(v)
    if v == "breaker_open" then fast = fast + 1 end
  end
  t.ok(seen("br").n == 4 and fast == 4, "5 requests at once while half-open: one probe reached the upstream, "
       .. "4 failed fast (" .. table.concat(answers, ",") .. ")")
  t.is(pk:state(base).breaker, "closed", "the probe's success closed the breaker")
  t.is((pk:request(seq("br", "200"))).status, 200, "closed: requests go through again")
  -- A failed probe opens it again.
  for _ = 1, 3 do pk:request(seq("br2", "503")) end
  perch.sleep(320)
  local _, _, cp = pk:request(seq("br2", "503"))
  t.ok(cp == "http_5xx" and pk:state(base).breaker == "open", "a failed probe opens the breaker again")
  local _, _, cq = pk:request(seq("br2", "200"))
  t.ok(cq == "breaker_open" and seen("br2").n == 4, "... and requests fail fast again")

  -- 6. Retry-After: honoured in seconds and as an HTTP date, capped at cap_ms,
  --    ignored when asked.
  local pr = perch.retry.policy{ attempts = 2, backoff = "exponential", base_ms = 10, cap_ms = 3000,
    breaker = false, budget = false }
  local rr, recr = pr:request(seq("ra", "503,200", "&retry_after=1"))
  local gr = gaps(seen("ra").ms)[1]
  t.ok(rr and rr.status == 200 and recr.retry_after_ms == 1000, "503 with Retry-After: 1, then 200")
  t.ok(gr >= 995 and gr < 1000 + SLACK, ("the retry came after %.0f ms (>= 1000)"):format(gr))
  local r429 = pr:request(seq("ra429", "429,200", "&retry_after=1"))
  local g429 = gaps(seen("ra429").ms)[1]
  t.ok(r429 and r429.status == 200 and g429 >= 995, ("429 with Retry-After: 1: retried after %.0f ms"):format(g429))
  local rdt, recdt = pr:request(seq("rdate", "503,200", "&retry_after=date:2"))
  local gdt = gaps(seen("rdate").ms)[1]
  t.ok(rdt and recdt.retry_after_ms and recdt.retry_after_ms >= 1000 and recdt.retry_after_ms <= 2000,
       ("Retry-After as an HTTP date 2 s ahead: %s ms"):format(recdt.retry_after_ms))
  t.ok(gdt >= recdt.retry_after_ms - 5 and gdt < recdt.retry_after_ms + SLACK, ("... honoured (%.0f ms)"):format(gdt))
  local pcap = perch.retry.policy{ attempts = 2, backoff = "exponential", base_ms = 10, cap_ms = 300,
    breaker = false, budget = false }
  local rc = pcap:request(seq("racap", "503,200", "&retry_after=30"))
  local gc = gaps(seen("racap").ms)[1]
  t.ok(rc and gc >= 295 and gc < 300 + SLACK, ("Retry-After: 30 capped at cap_ms 300 (%.0f ms)"):format(gc))
  local pig = perch.retry.policy{ attempts = 2, backoff = "exponential", base_ms = 10, cap_ms = 3000,
    honor_retry_after = false, breaker = false, budget = false }
  pig:request(seq("raig", "503,200", "&retry_after=5"))
  local gi = gaps(seen("raig").ms)[1]
  t.ok(gi < 10 + SLACK, ("honor_retry_after = false: the backoff alone (%.0f ms)"):format(gi))

  -- 7. 4xx is an answer: not retried.  429 only when listed.
  local r404, rec404 = p:request(seq("nf", "404,200"))
  t.ok(r404 and r404.status == 404 and rec404.attempts == 1 and rec404.reason == "ok",
       "404: returned at once")
  t.is(seen("nf").n, 1, "the upstream saw one request")
  local p5 = perch.retry.policy{ attempts = 3, base_ms = 10, retry_on = { "5xx" } }
  local r4, rec4 = p5:request(seq("tm", "429,200"))
  t.ok(r4.status == 429 and rec4.attempts == 1 and seen("tm").n == 1, "429 without '429' in retry_on: not retried")
  local _, _, c5 = p5:request{ url = ("http://127.0.0.1:%d/"):format(perch.config.test.closed) }
  t.is(c5, "connect", "'connect' not in retry_on: one attempt")

  -- 8. Connection failures: a reset and a refused connection are retried.
  local rreset, recreset = p:request(seq("rs", "reset,reset,200"))
  t.ok(rreset and rreset.status == 200 and recreset.attempts == 3 and seen("rs").n == 3,
       "resets, then 200: retried (" .. table.concat(recreset.codes, ",") .. ")")
  local pc = perch.retry.policy{ attempts = 3, base_ms = 5, cap_ms = 20, budget = false }
  local _, _, cc, recc = pc:request{ url = ("http://127.0.0.1:%d/"):format(perch.config.test.closed) }
  t.ok(cc == "connect" and recc.attempts == 3 and table.concat(recc.codes, ",") == "connect,connect,connect",
       "a refused connection: 3 attempts, each 'connect'")

  -- 9. The hard cap: attempts = 50 makes 10, whatever the table says later.
  local pm = perch.retry.policy{ attempts = 50, backoff = "exponential", base_ms = 1, cap_ms = 2,
    breaker = false, budget = false }
  t.ok(pm.attempts == 10 and pm:info().requested_attempts == 50, "attempts = 50 is clamped to 10")
  pm.attempts = 50
  local _, _, _, recm = pm:request(seq("cap", "503"))
  t.ok(recm.attempts == 10 and seen("cap").n == 10, "the upstream saw 10 attempts, not 50")

  -- 10. Record and state for logs and metrics.
  t.ok(type(rec.elapsed_ms) == "number" and rec.breaker == "closed" and rec.final == 200
       and rec.upstream == base, "the record has elapsed_ms, breaker, final, upstream")
  t.ok(tostring(p):find("perch.retry.policy") ~= nil, "__tostring")
  t.raises(function() p:request("x") end, "retry policy: request needs a table with a url", "request needs a table")
  t.done()
end)
LUA
)
perch run "$main" --duration 60 --log-level warn --set test.port="$PORT" --set test.closed="$CLOSED" \
    >"$TMP/main.out" 2>"$TMP/main.err"
STATUS=$?
subtest "perch.retry against the test upstream" "$TMP/main.out"
is "$STATUS" 0 "exit 0"; [ "$STATUS" -eq 0 ] || sed 's/^/# /' "$TMP/main.err" | tail -20
like "$TMP/main.err" "main\.lua:[0-9]+: retry policy: attempts = 50 clamped to 10 \(the hard maximum\)" \
    "the clamp is logged at the script's line"
unlike "$TMP/main.err" "Sanitizer|runtime error" "no sanitizer report"
