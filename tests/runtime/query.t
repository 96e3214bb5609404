#!/usr/bin/env bash
# perch.query end to end, without the HTTP server: q:handle(req) from tasks
# with hand-built request tables (the server's handler contract), against
# the loopback upstream (tests/runtime/http_upstream.py) and a real LMDB
# cache in a temporary directory.  Malformed JSON, cache hit/stale/miss
# with the upstream's request count as the judge, stale-while-revalidate
# refreshing once in the background, the key (method, path, body), reject,
# cache-only hit and miss, upstream failures after retries (502) and
# timeouts (504), the breaker (503), local handlers, X-Perch-Route on every
# answer; then the cache file checked from outside with mdb_stat.
. "$(dirname "$0")/lib.sh"
plan 4
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

start_upstream
PORT=$UPSTREAM

main=$(script main <<'LUA'
local t = require "perch.test"
local J = perch.json
local base = "http://127.0.0.1:" .. perch.config.test.port

local function seen(path)
  local r = assert(perch.http.request{ url = base .. "/seen?id=" .. path })
  return J.decode(r.body).n
end

local state = { battery = 80, on_ac = false }
local q = perch.query.new{
  rules = {
    { name = "no-admin", match = { path_prefix = "/admin" }, target = "reject", status = 403,
      message = "no admin here" },
    { name = "echo", match = { json = { op = "echo" } }, target = "local:echo" },
    { name = "boom", match = { json = { op = "boom" } }, target = "local:boom" },
    { name = "tea", match = { json = { op = "tea" } }, target = "local:teapot" },
    { name = "offline", match = { battery_below = 10 }, target = "cache-only" },
    { name = "swr", match = { path = "/app/swr" }, target = "upstream:main", ttl_s = 0.2, stale_s = 30 },
    { name = "failing", match = { path_prefix = "/app/fail" }, target = "upstream:main", retry = "two", ttl_s = 30 },
    { name = "slow", match = { path_prefix = "/app/slow" }, target = "upstream:slowpoke" },
    { name = "broken", match = { path_prefix = "/app/broken" }, target = "upstream:main", retry = "fragile" },
    { name = "default", target = "upstream:main", ttl_s = 60 },
  },
  cache = assert(perch.cache.open{ path = perch.config.test.dir .. "/query.mdb", max_mb = 8 }),
  upstreams = { main = { url = base }, slowpoke = { url = base, timeout_ms = 100 } },
  retries = {
    two = perch.retry.policy{ attempts = 2, base_ms = 10, cap_ms = 20, breaker = false },
    fragile = perch.retry.policy{ attempts = 1, breaker = { failures = 2, open_ms = 60000 }, budget = false },
  },
  handlers = {
    echo = function(req, body) return { echo = body, path = req.path } end,
    boom = function() error("kaput") end,
    teapot = function() return "[1,2]", 418, { ["X-Kind"] = "tea", ["Content-Type"] = "application/json; v=2" } end,
  },
  inputs = function() return state end,
}

local id = 0
local function Q(path, body, method)
  id = id + 1
  return q:handle{ method = method or "POST", path = path, query = "", body = body or "",
                   headers = { ["content-type"] = "application/json" }, remote = "127.0.0.1:1", id = id }
end
local function H(res, name) return res.headers[name] end

t.plan(50)
perch.spawn(function()
  -- Malformed JSON.
  local r = Q("/app/x", '{"q": 1,\n "r": ]}')
  t.is(r.status, 400, "malformed JSON: 400")
  local e = J.decode(r.body)
  t.ok(e and e.code == "bad_json" and e.error == "json: 2:7: unexpected ']'", "the JSON error names line:col")
  t.ok(H(r, "content-type") == "application/json" and H(r, "x-perch-route") == "-", "JSON, route '-'")

  -- Miss, then hit: the upstream sees one request.
  local r1 = Q("/app/a", '{"q": "cats"}')
  local b1 = J.decode(r1.body)
  t.ok(r1.status == 200 and H(r1, "x-perch-cache") == "miss" and H(r1, "x-perch-route") == "default",
       "first request: 200, miss, route 'default'")
  t.ok(b1 and b1.body == '{"q": "cats"}' and b1.method == "POST" and b1.path == "/app/a",
       "the upstream got the method, path and body")
  local r2 = Q("/app/a", '{"q": "cats"}')
  t.ok(r2.status == 200 and H(r2, "x-perch-cache") == "hit" and r2.body == r1.body, "the same query: hit, same body")
  t.is(H(r2, "content-type"), "application/json", "the stored content type comes back")
  t.is(seen("/app/a"), 1, "the upstream saw one request")
  -- The key: method, path and body.
  t.is(H(Q("/app/a", '{"q": "dogs"}'), "x-perch-cache"), "miss", "another body: miss")
  t.is(H(Q("/app/b", '{"q": "cats"}'), "x-perch-cache"), "miss", "another path: miss")
  t.is(H(Q("/app/a", '{"q": "cats"}', "PUT"), "x-perch-cache"), "miss", "another method: miss")
  t.is(seen("/app/a"), 3, "the upstream saw those two")
  t.ok(q.cache_key == nil and
       perch.query.cache_key{ method = "POST", path = "/p", body = "x" }:match("^POST /p %x+$"),
       "the cache key: method, path, SHA-256 of the body")

  -- Stale-while-revalidate: stale served at once, one refresh.
  local s1 = Q("/app/swr", "{}")
  t.ok(s1.status == 200 and J.decode(s1.body).n == 1, "swr: first answer (n = 1)")
  perch.sleep(300)
  local tasks = {}
  for i = 1, 5 do tasks[i] = perch.spawn(function() return Q("/app/swr", "{}") end) end
  local stale, ns = 0, {}
  for i = 1, 5 do
    local _, res = tasks[i]:join()
    if H(res, "x-perch-cache") == "stale" then stale = stale + 1 end
    ns[#ns + 1] = J.decode(res.body).n
  end
  t.ok(stale == 5 and table.concat(ns, ",") == "1,1,1,1,1", "5 requests after the TTL: all stale, the old body at once")
  perch.sleep(100)
  t.is(seen("/app/swr"), 2, "one background refresh reached the upstream")
  local s2 = Q("/app/swr", "{}")
  t.ok(H(s2, "x-perch-cache") == "hit" and J.decode(s2.body).n == 2, "then a fresh hit with the refreshed answer")

  -- Reject.
  local rj = Q("/admin/users", "{}")
  local ej = J.decode(rj.body)
  t.ok(rj.status == 403 and ej.error == "no admin here" and ej.code == "rejected" and ej.route == "no-admin",
       "reject: the rule's status and message")
  t.is(H(rj, "x-perch-route"), "no-admin", "... and its name in x-perch-route")

  -- Cache-only (battery below 10%): hits what is cached, 504 otherwise.
  state.battery = 5
  local c1 = Q("/app/a", '{"q": "cats"}')
  t.ok(c1.status == 200 and H(c1, "x-perch-cache") == "hit" and H(c1, "x-perch-route") == "offline",
       "cache-only: a cached query is served")
  local c2 = Q("/app/never", '{"q": "new"}')
  t.ok(c2.status == 504 and H(c2, "x-perch-cache") == "miss" and J.decode(c2.body).code == "cache_miss",
       "cache-only miss: 504, JSON error")
  t.is(seen("/app/never"), 0, "the upstream saw nothing")
  state.battery = 80

  -- Upstream failures.
  local f = Q("/app/fail", "{}")
  local ef = J.decode(f.body)
  t.ok(f.status == 502 and ef.code == "http_5xx" and ef.route == "failing", "503 twice: 502, code http_5xx")
  t.like(ef.error, "after 2 attempts", "the message says how many attempts")
  t.ok(H(f, "x-perch-attempts") == "2" and seen("/app/fail") == 2, "2 attempts (x-perch-attempts), the upstream saw 2")
  t.is(H(Q("/app/fail", "{}"), "x-perch-cache"), "miss", "a failure is not cached")
  local sl = Q("/app/slow", "{}")
  t.ok(sl.status == 504 and J.decode(sl.body).code == "timeout" and H(sl, "x-perch-cache") == "bypass",
       "a slow upstream (100 ms timeout): 504; the route does not cache: bypass")
  local bad = Q("/app/bad", "{}")
  t.ok(bad.status == 400 and H(bad, "x-perch-cache") == "miss", "an upstream 400 passes through")
  Q("/app/bad", "{}")
  t.is(seen("/app/bad"), 2, "... and is not cached")
  Q("/app/broken/fail", "{}")
  Q("/app/broken/fail", "{}")
  local br = Q("/app/broken/fail", "{}")
  local ebr = J.decode(br.body)
  t.ok(br.status == 503 and ebr.code == "breaker_open", "breaker open after 2 failures: 503 breaker_open")
  t.is(seen("/app/broken/fail"), 2, "the upstream saw only the 2 failures")

  -- Local handlers.
  local l1 = Q("/v1/query", '{"op": "echo", "n": [1, 2.5]}')
  local el = J.decode(l1.body)
  t.ok(l1.status == 200 and H(l1, "x-perch-route") == "echo" and H(l1, "x-perch-cache") == "bypass",
       "local target: 200, route 'echo'")
  t.ok(el.echo.op == "echo" and el.echo.n[2] == 2.5 and el.path == "/v1/query", "the handler got the decoded body")
  local l2 = Q("/v1/query", '{"op": "boom"}')
  local eb = J.decode(l2.body)
  t.ok(l2.status == 500 and eb.code == "handler_error" and eb.error:find("kaput"), "a raising handler: 500")

  local l3 = Q("/v1/query", '{"op": "tea"}')
  t.ok(l3.status == 418 and l3.body == "[1,2]" and H(l3, "x-kind") == "tea"
       and H(l3, "content-type") == "application/json; v=2",
       "a handler's string body, status and headers (names lower-cased)")

  -- Every answer carries the route and the cache state.
  local all = { r, r1, r2, s1, s2, rj, c1, c2, f, sl, bad, br, l1, l2 }
  local every = true
  for _, x in ipairs(all) do
    every = every and H(x, "x-perch-route") ~= nil and H(x, "x-perch-cache") ~= nil
                  and type(x.body) == "string" and math.type(x.status) == "integer"
  end
  t.ok(every, "every answer: integer status, string body, x-perch-route and x-perch-cache")
  t.is(J.encode(q.stats), '{"errors":10,"hits":3,"misses":10,"refreshes":1,"requests":27,"stale":5}',
       "q.stats: requests, hits, stale, misses, one refresh, errors")

  -- A rule function that raises: 500 naming the rule.
  local q2 = perch.query.new{
    rules = { { name = "odd", match = { when = function() error("bad rule") end }, target = "local:x" },
              { name = "default", target = "local:x" } },
    handlers = { x = function() return {} end },
  }
  local rr = q2:handle{ method = "POST", path = "/", body = "", headers = {} }
  t.ok(rr.status == 500 and J.decode(rr.body).error:find("rule 1 %('odd'%)"), "a raising rule: 500 naming it")
  t.ok(q2:handle{ method = "GET", path = "/", body = "", headers = {} }.status == 500, "... every time")

  -- Construction errors name the problem.
  local function nerr(cfg) local ok, e = pcall(perch.query.new, cfg); return ok and "built" or e end
  t.like(nerr{ rules = { { name = "d", target = "upstream:nope" } } }, "target 'upstream:nope': no such upstream",
         "an unknown upstream")
  t.like(nerr{ rules = { { name = "d", target = "cache-only" } } }, "needs a cache", "cache-only without a cache")
  t.like(nerr{ rules = {}, cahce = 1 }, "unknown key 'cahce'", "an unknown key")
  t.like(nerr{ rules = { { name = "d", target = "upstream:u" } }, upstreams = { u = { url = "ftp://x" } } },
         "upstream 'u' needs url", "a bad upstream url")
  t.like(nerr{ rules = { { name = "d", target = "upstream:u" } }, upstreams = { u = { url = base, retry = 3 } } },
         "retry must be a perch.retry.policy", "a bad retry")
  t.like(nerr{ rules = { { name = "d", target = "local:h" } }, handlers = { h = 1 } },
         "handlers.h must be a function", "a bad handler")
  t.like(nerr{ rules = { { name = "d", target = "local:h" } }, handlers = { h = print }, max_depth = 0 },
         "max_body/max_depth: 'max_depth' must be a whole number in 1..1000", "a bad max_depth")
  t.like(nerr{ rules = { { name = "d", target = "local:h", ttl = 1 } }, handlers = { h = print } },
         "routing rule 1 %('d'%): unknown key 'ttl'", "a rule error comes through")

  -- The shipped rules with an app's names.
  local qs = perch.query.new{ rules = dofile(perch.config.test.root .. "/policies/routing.lua"),
    cache = q.cache, upstreams = { main = { url = base } },
    handlers = { echo = function(_, b) return b end }, inputs = function() return state end }
  local sh = qs:handle{ method = "POST", path = "/v1/query", body = '{"op": "echo", "x": 1}', headers = {} }
  t.ok(sh.status == 200 and H(sh, "x-perch-route") == "echo" and J.decode(sh.body).x == 1,
       "policies/routing.lua: echo answered locally")
  local sl2 = qs:handle{ method = "POST", path = "/app/lookup", body = '{"op": "lookup"}', headers = {} }
  t.ok(sl2.status == 200 and H(sl2, "x-perch-route") == "lookup" and H(sl2, "x-perch-cache") == "miss",
       "policies/routing.lua: lookup goes upstream and is cached")
  local big = qs:handle{ method = "POST", path = "/v1/query", body = '"' .. ("x"):rep(70000) .. '"', headers = {} }
  t.ok(big.status == 413 and H(big, "x-perch-route") == "too-large", "policies/routing.lua: 413 for a large body")
  t.done()
end)
LUA
)
perch run "$main" --duration 60 --log-level warn --set test.port="$PORT" --set test.dir="$TMP" \
    --set test.root="$PWD" >"$TMP/main.out" 2>"$TMP/main.err"
STATUS=$?
subtest "perch.query against the test upstream and an LMDB cache" "$TMP/main.out"
is "$STATUS" 0 "exit 0"; [ "$STATUS" -eq 0 ] || sed 's/^/# /' "$TMP/main.err" | tail -20
like "$TMP/main.err" "handler 'boom' \(rule 'boom'\) failed: .*kaput" "a failing handler is logged with its rule"
# The cache keeps its entries in a database of their own, "entries".
entries=$(mdb_stat -n -s entries "$TMP/query.mdb" 2>/dev/null | sed -n 's/^ *Entries: //p' | head -1)
ok $([ "${entries:-0}" -ge 5 ]; echo $?) "the cache file holds the cached answers (mdb_stat: ${entries:-none} entries)"
