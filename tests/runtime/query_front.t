#!/usr/bin/env bash
# perch.query's C front (fresh cache hits answered without Lua) gives the
# very answers the Lua pipeline gives.  One app serves the same rules twice:
# q:route on one port (the front on), fast_hits = false on another; every
# request goes to both and the answers (status, headers but Date, body)
# must be equal, while the front's count shows which requests it answered:
# fresh hits of rules C can decide (method, path, body size, json fields,
# battery and on_ac from a fake sysfs tree) and nothing else (misses,
# stale entries, bad JSON, leading zeros, numbers past 2^53, rules that
# need a header or a pattern).  q.stats of both must agree at the end.
. "$(dirname "$0")/lib.sh"
plan 45
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

sys="$TMP/sys"
bat="$sys/class/power_supply/BAT0"
mkdir -p "$bat"
echo Battery >"$bat/type"
echo Discharging >"$bat/status"
echo 80 >"$bat/capacity"

P1=$(free_port)
P2=$(free_port)

app=$(script app <<'LUA'
local cfg = perch.config.t
local rules = {
  { name = "too-large", match = { body_min = 3000 }, target = "reject", status = 413 },
  { name = "crit", match = { battery_below = 10, on_ac = false }, target = "cache-only" },
  { name = "opaque-short", match = { body_max = 12, headers = { ["x-mode"] = "h" } },
    target = "local:answer", ttl_s = 300 },
  { name = "nested", match = { method = { "POST", "PUT" }, path = "/v1/query",
      json = { ["a.b"] = "deep", ["items.2"] = 7, flag = true, nothing = perch.json.null } },
    target = "local:answer", ttl_s = 300 },
  { name = "number", match = { path_prefix = "/v1/", json = { v = 1 } }, target = "local:answer", ttl_s = 300 },
  { name = "lookup", match = { json = { op = "lookup" } }, target = "local:answer", ttl_s = 300 },
  { name = "created", match = { json = { op = "created" } }, target = "local:answer", ttl_s = 300 },
  { name = "short", match = { json = { op = "short" } }, target = "local:answer", ttl_s = 1, stale_s = 60 },
  { name = "big", match = { json = { big = 9007199254740992 } }, target = "local:answer", ttl_s = 300 },
  { name = "default", target = "local:answer" },
}
local function make(port, fast)
  local n = 0
  local q = perch.query.new{
    rules = rules, fast_hits = fast,
    cache = assert(perch.cache.open{ path = cfg.dir .. "/" .. port .. ".mdb", max_mb = 4 }),
    handlers = { answer = function(req, doc)
      n = n + 1
      local op = type(doc) == "table" and doc.op or nil
      if op == "created" then return { op = op, n = n }, 201, { ["content-type"] = "application/x-test" } end
      return { op = op, n = n, query = req.query }
    end },
  }
  local srv = perch.http.serve{ listen = "127.0.0.1:" .. port }
  q:route(srv)
  return q, srv
end
local fast, srv = make(cfg.p1, true)
local lua = make(cfg.p2, false)
srv:route("GET", "/state", function()
  return perch.json.encode{ fast = fast.stats, lua = lua.stats, answered = fast:front():answered(),
                            lua_front = lua:front() == nil }
end)
print("serving"); io.stdout:flush()
LUA
)
start app run "$app" --duration 300 --no-watch --set repl.enabled=false --set sysfs.root="$sys" \
    --set sensors.period_ms=20 --set t.dir="$TMP" --set t.p1="$P1" --set t.p2="$P2"
wait_for "$TMP/app.out" "serving" 60
ok $? "the app serves the same rules with and without the front"

# ask PORT BODY [CURL ARGS]: the answer, headers sorted, Date left out.
ask() {
    local port=$1 body=$2
    shift 2
    curl -s -D "$TMP/h.$port" -o "$TMP/b.$port" -H 'content-type: application/json' \
        --data-binary "$body" "$@" "http://127.0.0.1:$port/v1/query${QS:-}" >/dev/null
    tr -d '\r' <"$TMP/h.$port" | grep -vi '^date:' | sed '/^$/d' | sort
    cat "$TMP/b.$port"
}
# same BODY DESC [CURL ARGS]: both ports answer alike; LAST holds the answer.
same() {
    local body=$1 desc=$2 a b
    shift 2
    a=$(ask "$P1" "$body" "$@")
    b=$(ask "$P2" "$body" "$@")
    LAST=$a
    if [ "$a" = "$b" ]; then ok 0 "$desc"; else ok 1 "$desc"; diag "front: $a" "lua:   $b"; fi
}
answered() { curl -s "http://127.0.0.1:$P1/state" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["answered"])'; }
has() { case $LAST in *"$1"*) ok 0 "$2" ;; *) ok 1 "$2"; diag "$LAST" ;; esac; }

is "$(answered)" 0 "nothing answered by the front yet"
same '{"op":"lookup","k":1}' "lookup: a miss, alike"
has "x-perch-cache: miss" "... a miss"
same '{"op":"lookup","k":1}' "lookup again: a hit, alike"
has "x-perch-cache: hit" "... a hit"
same '{"op":"lookup","k":1}' "and a third time"
is "$(answered)" 2 "the front answered both hits"

same '{"op":"echo","op":"lookup","k":2}' "a repeated key: the last one decides, alike"
same '{"op":"echo","op":"lookup","k":2}' "... and its hit"
has "x-perch-route: lookup" "... by the lookup rule"
body='{"a":{"b":"deep"},"items":[1,7],"flag":true,"nothing":null}'
same "$body" "nested fields, an array index, true and null: a miss"
same "$body" "... then a hit"
has "x-perch-route: nested" "... by the nested rule"
same '{"a":{"b":"deep"},"items":[1,7],"flag":false,"nothing":null}' "one field off: another rule, alike"
same '{"v":1.0,"pad":"xx"}' "1.0 equals the rule's 1, as in Lua"
same '{"v":1.0,"pad":"xx"}' "... and its hit"
has "x-perch-route: number" "... by the number rule"
is "$(answered)" 5 "the front answered the three hits since"

same '{"op":"created"}' "a stored status and content type: a miss"
same '{"op":"created"}' "... and the hit"
has "HTTP/1.1 201" "... with the stored status"
has "content-type: application/x-test" "... and the stored content type"
QS='?page=2' same '{"op":"lookup","k":1}' "a query string is part of the key: a miss"
QS='?page=2' same '{"op":"lookup","k":1}' "... then a hit"
is "$(answered)" 7 "the front answered those hits too"

# What C cannot decide, or must not answer: Lua answers, alike.
same '{"op":"x"}' "a body short enough to reach a header condition"
same '{"op":"x"}' "... again (Lua decides: the rule needs a header)"
same '{"op":"x"}' "... with the header: a miss" -H 'x-mode: h'
same '{"op":"x"}' "... and a hit, from Lua" -H 'x-mode: h'
has "x-perch-cache: hit" "... a hit"
same '{"op":"big","big":9007199254740993}' "an integer past 2^53 (Lua compares it exactly)"
same '{"op":"lookup","n":01}' "a leading zero: 400 from the decoder, alike"
has "HTTP/1.1 400" "... 400"
same '{"op":' "malformed JSON: 400, alike"
same "{\"op\":\"lookup\",\"pad\":\"$(head -c 3000 /dev/zero | tr '\0' x)\"}" "too large: the reject rule, alike"
same '{"op":"short"}' "a 1 s entry: a miss"
sleep 1.3
same '{"op":"short"}' "... stale a second later: served stale, alike"
has "x-perch-cache: stale" "... stale"
is "$(answered)" 7 "the front answered none of these"

# The battery drops below 10% on battery: the cache-only rule decides.
echo 5 >"$bat/capacity"
sleep 0.5
same '{"op":"lookup","k":1}' "battery 5%: the cached answer by the cache-only rule, alike"
has "x-perch-route: crit" "... named crit"
is "$(answered)" 8 "the front answered it"

curl -s "http://127.0.0.1:$P1/state" >"$TMP/state"
/usr/bin/python3 - "$TMP/state" <<'PY' >"$TMP/state.check"
import json, sys
s = json.load(open(sys.argv[1]))
print("equal" if s["fast"] == s["lua"] else "differ: %s" % s, "nofront" if s["lua_front"] else "front")
PY
is "$(cat "$TMP/state.check")" "equal nofront" "q.stats agree; fast_hits = false has no front"
curl -s "http://127.0.0.1:$P1/metrics" >"$TMP/metrics"
like "$TMP/metrics" '^perch_query_requests_total\{route="lookup",kind="local",cache="hit",status="200"\} 8$' \
    "the hit metric counts both paths' lookup hits (4 each)"
kill "$PID" 2>/dev/null
wait "$PID" 2>/dev/null
