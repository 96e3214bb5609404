#!/usr/bin/env bash
# The HTTP server from outside, with real clients on loopback: curl for
# routes, errors and limits; promtool for GET /metrics; raw sockets for
# malformed requests, a slowloris client and a connection flood; a loop
# stall seen by GET /health; a hot reload that keeps serving on the same
# port (no EADDRINUSE) and fails the old version's in-flight request
# cleanly; a second process on a taken port; IPv6 loopback.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
command -v curl >/dev/null || { echo "1..0 # SKIP curl missing (.ci/deps test installs it)"; exit 0; }
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
mkdir -p "$TMP/proj"
app=$TMP/proj/app.lua

# version V: an app serving /hello (answers V) and routes that misbehave.
version() {
    cat <<LUA
local srv = assert(perch.http.serve{ client_timeout_s = 2, max_connections = 8, max_body = 4096 })
srv:route("GET", "/hello", function() return "$1" end)
srv:route("POST", "/echo", function(req) return req.body end)
srv:route("GET", "/slow", function() perch.sleep(3000); return "slow" end)
srv:route("GET", "/stall", function()
  local t0 = perch.now()
  while perch.now() - t0 < 1.5 do end   -- the whole loop waits (lua.budget=0)
  return "stalled"
end)
srv:route("GET", "/boom", function()
  error("boom at a known line")
end)
perch.metrics.counter("app_events", "Events, with a label that needs escaping", { "what" })
  :inc({ what = 'quote " backslash \\\\ newline \\n end' })
perch.metrics.histogram("app_work_seconds", "Work", { 0.1, 1 }):observe(0.5)
cache = assert(perch.cache.open{ path = perch.config.cache_path })
cache:put("k", "v")
perch.spawn(function() perch.http.request{ url = "http://127.0.0.1:9/", timeout_ms = 500 } end)
print("version $1"); io.stdout:flush()
LUA
}

# code URL [CURL ARGS...]: the status curl got (000: no response).
code() {
    local url=$1
    shift
    curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -m 10 "$@" "$url"
}

version v1 >"$app"
start run run "$app" --duration 120 --set "http.listen=127.0.0.1:$port" --set lua.budget=0 \
    --set http.server.stall_ms=300 --set http.server.health_hold_s=2 \
    --set "cache_path=$TMP/cache.mdb"
wait_for "$TMP/run.out" "^version v1$" 30
ok $? "the app starts"
like "$TMP/run.err" "http: serving on 127.0.0.1:$port" "the log says where it serves (http.listen)"

is "$(code $base/hello)" 200 "GET /hello: 200"
is "$(cat "$TMP/body")" v1 "... from the handler"
is "$(code "$base/echo" --data-binary @"$app")" 200 "POST with a body"
cmp -s "$TMP/body" "$app"
ok $? "... echoed byte for byte"
is "$(code $base/nope)" 404 "unknown path: 404"
grep -q '"error":"not found"' "$TMP/body"
ok $? "... with a JSON error body"
is "$(code $base/hello -X DELETE)" 405 "wrong method: 405"
grep -qi '^allow: GET' "$TMP/headers"
ok $? "... with Allow: GET"
head -c 5000 /dev/zero >"$TMP/big"
is "$(code "$base/echo" --data-binary @"$TMP/big")" 413 "a body over max_body: 413"
is "$(code "$base/echo" -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big")" 413 \
    "a chunked body over max_body: 413"
is "$(code $base/boom)" 500 "a handler that raises: 500"
grep -q '"error":"handler failed"' "$TMP/body"
ok $? "... with a JSON error body"
like "$TMP/run.err" "app.lua:11: boom at a known line" "... and the log has file:line"

# Malformed requests and oversized headers, on raw sockets.
$PY - "$port" >"$TMP/raw" <<'PY'
import socket, sys
port = int(sys.argv[1])
def ask(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                break
    except socket.timeout:
        pass
    s.close()
    line = out.split(b"\r\n", 1)[0].decode(errors="replace")
    return line.split(" ")[1] if line.startswith("HTTP/") else "closed"
print("garbage", ask(b"THIS IS NOT HTTP\r\n\r\n"))
print("badheader", ask(b"GET /hello HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"))
print("nohost", ask(b"GET /hello HTTP/1.1\r\n\r\n"))
print("huge", ask(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"))
PY
like "$TMP/raw" "^garbage (400|closed)$" "a request line that is not HTTP: 400 (or closed)"
like "$TMP/raw" "^badheader 400$" "a malformed header line: 400"
like "$TMP/raw" "^nohost 400$" "HTTP/1.1 without Host: 400"
like "$TMP/raw" "^huge (431|413|400|closed)$" "100 KB of headers: refused"
is "$(code $base/hello)" 200 "still serving after malformed requests"

# A slowloris client: headers one line every 0.5 s, never finished.
$PY - "$port" >"$TMP/slow" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
closed = False
while time.time() - t0 < 10:
    try:
        s.sendall(b"X-Drip: 1\r\n")
        if s.recv(4096) == b"":
            closed = True
            break
    except socket.timeout:
        continue
    except OSError:
        closed = True
        break
    time.sleep(0.5)
print("closed" if closed else "open", round(time.time() - t0, 1))
PY
slow_pid=$!
sleep 0.5
is "$(code $base/hello)" 200 "others are served while a slow client drips"
wait "$slow_pid"
like "$TMP/slow" "^closed [0-9]" "the slow client is cut off (client_timeout_s=2)"
diag "slowloris: $(cat "$TMP/slow")"

# A flood: 8 idle connections take every slot, the 9th is closed at once.
$PY - "$port" >"$TMP/flood" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", port), timeout=3)
try:
    extra.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    data = extra.recv(4096)
    print("extra", "closed" if data == b"" else data.split(b"\r\n")[0].decode())
except OSError as e:
    print("extra closed", e)
for s in held:
    s.close()
PY
like "$TMP/flood" "^extra closed" "over max_connections: the connection is closed at once"
sleep 0.3
is "$(code $base/hello)" 200 "served again once the flood is gone"

# /metrics, checked by Prometheus' own linter.
is "$(code $base/metrics)" 200 "GET /metrics: 200"
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/headers"
ok $? "... text format 0.0.4"
cp "$TMP/body" "$TMP/metrics"
if command -v promtool >/dev/null; then
    promtool check metrics <"$TMP/metrics" >"$TMP/promtool" 2>&1
    ok $? "promtool check metrics passes"
    sed 's/^/#   /' "$TMP/promtool" | head -20
else
    ok 1 "promtool check metrics passes (promtool missing: .ci/deps test installs prometheus)"
fi
for re in 'perch_http_requests_total\{route="/hello",method="GET",status="200"\} [1-9][0-9]*' \
          'perch_http_requests_total\{route="unmatched",method="GET",status="404"\} 1' \
          'perch_http_request_duration_seconds_bucket\{route="/boom",status="500",le="\+Inf"\} 1' \
          'perch_http_connections_rejected_total\{listen="127.0.0.1:'"$port"'"\} [1-9][0-9]*' \
          'perch_http_slow_clients_total\{listen="127.0.0.1:'"$port"'"\} [1-9][0-9]*' \
          'perch_lua_memory_bytes [1-9][0-9]*' 'perch_lua_errors_total [1-9][0-9]*' \
          'perch_lua_budget_aborts_total 0' 'perch_reload_attempts_total 0' 'perch_app_version 1' \
          'perch_http_client_errors_total\{code="connect"\} 1' \
          "perch_cache_puts_total\\{cache=\"$TMP/cache.mdb\"\\} 1" \
          'perch_actuator_clamped\{actuator="fps"\} 0' 'perch_safety_engaged 0' \
          'app_events_total\{what="quote \\" backslash \\\\ newline \\n end"\} 1' \
          'app_work_seconds_bucket\{le="1"\} 1' 'perch_loop_stalls_total 0'; do
    like "$TMP/metrics" "^$re$" "metrics: $re"
done

# /health: 200 while the loop turns, 503 after a stall, 200 again later.
is "$(code $base/health)" 200 "GET /health: 200"
grep -q '"status":"ok"' "$TMP/body"
ok $? "... status ok"
is "$(code $base/stall)" 200 "a handler holds the loop for 1.5 s"
like "$TMP/run.err" "loop stalled: no turn of the event loop for [0-9]+ ms so far" \
    "the watchdog thread logs the stall while it lasts"
like "$TMP/run.err" "loop stalled for 1[0-9]{3} ms" "the loop logs its length after"
is "$(code $base/health)" 503 "GET /health: 503 right after the stall"
grep -q '"status":"stalled"' "$TMP/body"
ok $? "... status stalled"
sleep 2.2
is "$(code $base/health)" 200 "... 200 again after health_hold_s"

# Hot reload: same port, new routes, the old version's in-flight request
# fails cleanly.
code $base/slow -o "$TMP/inflight_body" -D "$TMP/inflight_headers" >"$TMP/inflight" &
inflight_pid=$!
sleep 0.5
version v2 >"$app"
wait_for "$TMP/run.out" "^version v2$" 20
ok $? "the app reloads"
wait_for "$TMP/run.err" "reloaded .*version 2 running" 10
ok $? "... and swaps in version 2"
unlike "$TMP/run.err" "EADDRINUSE|Address already in use" "no EADDRINUSE"
like "$TMP/run.err" "http: 127.0.0.1:$port goes on serving" "the server is handed to version 2"
is "$(code $base/hello)" 200 "GET /hello after the reload: 200"
is "$(cat "$TMP/body")" v2 "... from version 2's route"
wait "$inflight_pid"
is "$(cat "$TMP/inflight")" 503 "the old version's request in flight gets 503"
grep -qi '^retry-after: 1' "$TMP/inflight_headers"
ok $? "... with Retry-After"

# Another process on the same port: serve() fails with EADDRINUSE.
other=$(script other <<'LUA'
local srv, err, code = perch.http.serve{}
print(code, err); io.stdout:flush()
LUA
)
perch run "$other" --set "http.listen=127.0.0.1:$port" --duration 5 >"$TMP/other.out" 2>"$TMP/other.err"
like "$TMP/other.out" "^EADDRINUSE.*cannot listen on 127.0.0.1:$port: Address already in use" \
    "a taken port: nil, message, EADDRINUSE"

kill -TERM "$PID"
wait_exit "$PID" 20
is "$STATUS" 0 "SIGTERM: exit 0"
like "$TMP/run.err" "http: stopped serving on 127.0.0.1:$port" "the server closes with the app"
[ "$(code $base/hello)" = 000 ]
ok $? "nothing listens after the exit"

# IPv6 loopback, when the machine has it.
if $PY -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    six=$(script six <<'LUA'
local srv = assert(perch.http.serve{ listen = "[::1]:0" })
srv:route("GET", "/hello", function(req) return req.remote end)
print("at " .. srv:address()); io.stdout:flush()
LUA
)
    start six run "$six" --duration 30
    wait_for "$TMP/six.out" "^at " 20
    addr=$(sed -n 's/^at //p' "$TMP/six.out")
    like "$TMP/six.out" '^at \[::1\]:[0-9]+$' "listens on [::1]"
    is "$(code "http://$addr/hello" -g)" 200 "GET over IPv6: 200"
    like "$TMP/body" '^\[::1\]:[0-9]+$' "req.remote is an IPv6 address"
    kill -TERM "$PID"
    wait_exit "$PID" 20
else
    for i in 1 2 3; do echo "ok $((_n + 1)) # SKIP no IPv6 loopback"; _n=$((_n + 1)); done
fi
done_testing
