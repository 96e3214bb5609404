#!/usr/bin/env bash
# bench/http.sh BUILD_DIR - the HTTP server under wrk on loopback: requests/s
# and p99 latency of a trivial Lua route (bench/http_app.lua), of the
# built-in /health, and of POST /v1/query answered from the cache
# (scripts/query.lua with the default routing rules, its upstream a
# tests/runtime/http_upstream.py on loopback, the query's answer cached by
# one request first): as it runs (fresh hits served by perch.query's C
# front) and with query.fast_hits=false (every request through the Lua
# pipeline).  In the same run nginx with Debian's Lua module, one worker,
# content_by_lua_block answering fixed bodies: "hello" for the trivial
# route, and for POST /v1/query the very bytes perch's hit answers with.
# The ratios to nginx are the figures with goals (>= 0.8).
#
# wrk -t1 -c16 (a 55-byte JSON query body for the POSTs), HTTP_BENCH_S seconds (2) per run, HTTP_BENCH_ROUNDS (3)
# rounds after a 1 s warm-up, best round kept (about 20 s in all); each
# server runs on a free loopback port from a temporary directory
# (nginx's config, pid, logs and temp paths all inside it, removed at the
# end).  Records go to $BENCH_JSON when set (bench/run collects them).
# Needs wrk, nginx-light and libnginx-mod-http-lua (.ci/deps bench).
set -u
export LC_ALL=C
build=$(cd "${1:?usage: bench/http.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${HTTP_BENCH_S:-2}
for tool in wrk nginx; do
    command -v $tool >/dev/null || { echo "bench/http.sh: $tool missing (sh .ci/deps bench)" >&2; exit 1; }
done
mods=/usr/share/nginx/modules
[ -f $mods/ngx_http_lua_module.so ] || { echo "bench/http.sh: libnginx-mod-http-lua missing" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/perch-http-bench.XXXXXX") || exit 1
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$1$2" && return 0
        sleep 0.05
    done
    return 1
}

# wrk's own numbers, exactly: requests, seconds, p99 in µs, errors.
cat >"$tmp/report.lua" <<'LUA'
done = function(s, latency)
  local e = s.errors
  io.write(string.format("RESULT %d %.6f %.1f %d\n", s.requests, s.duration / 1e6,
                         latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
LUA

# The query: a lookup, which the default rules send to the upstream with a
# 300 s TTL.
query='{"op":"lookup","key":"sensor/7","fields":["t","rh"]}'
cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$query'
wrk.headers["Content-Type"] = "application/json"
LUA
cat "$tmp/report.lua" >>"$tmp/post.lua"

# measure URL [SCRIPT]: one wrk run; sets RPS and P99 (ms).
measure() {
    local line
    line=$(wrk -t1 -c16 -d"${secs}s" -s "${2:-$tmp/report.lua}" "$1" 2>&1 | grep '^RESULT')
    set -- $line
    RPS=$(awk -v n="$2" -v d="$3" 'BEGIN { printf "%.0f", n / d }')
    P99=$(awk -v us="$4" 'BEGIN { printf "%.3f", us / 1000 }')
    [ "${5:-1}" -eq 0 ] || echo "bench/http.sh: wrk saw ${5:-?} errors on $1" >&2
}

record() {  # NAME VALUE UNIT [VS RATIO]
    if [ $# -gt 3 ]; then
        printf '%-44s %12.2f %-6s (%.2fx %s)\n' "$1" "$2" "$3" "$5" "$4"
        [ -n "${BENCH_JSON:-}" ] && printf '{"name":"%s","value":%.4f,"unit":"%s","vs":"%s","ratio":%.4f}\n' \
            "$1" "$2" "$3" "$4" "$5" >>"$BENCH_JSON"
    else
        printf '%-44s %12.2f %s\n' "$1" "$2" "$3"
        [ -n "${BENCH_JSON:-}" ] && printf '{"name":"%s","value":%.4f,"unit":"%s"}\n' "$1" "$2" "$3" >>"$BENCH_JSON"
    fi
    return 0
}

# Both servers run side by side; the targets take turns, ROUNDS times,
# and each keeps its best round: on a shared machine, load that comes and
# goes hits every target alike.
# The query servers first: nginx answers POST /v1/query with their hit.
uport_file=$tmp/upstream.port
/usr/bin/python3 "$root/tests/runtime/http_upstream.py" --lifetime 600 >"$uport_file" 2>"$tmp/upstream.err" &
pids="$pids $!"
for _ in $(seq 100); do [ -s "$uport_file" ] && break; sleep 0.05; done
uport=$(head -1 "$uport_file")
[ -n "$uport" ] || { echo "bench/http.sh: the test upstream did not start" >&2; cat "$tmp/upstream.err" >&2; exit 1; }
qport=$(free_port)
lport=$(free_port)
for q in "fast $qport true" "lua $lport false"; do
    set -- $q
    "$build/perch" run "$root/scripts/query.lua" --set "http.listen=127.0.0.1:$2" \
        --set "query.upstream=http://127.0.0.1:$uport/app" --set "query.cache=$tmp/query-$1.mdb" \
        --set "query.fast_hits=$3" --set repl.enabled=false --log-level warn \
        >"$tmp/query-$1.out" 2>"$tmp/query-$1.err" &
    pids="$pids $!"
done
for p in $qport $lport; do
    wait_port "$p" /health || { echo "bench/http.sh: scripts/query.lua did not start" >&2; cat "$tmp"/query-*.err >&2; exit 1; }
    # one miss stores the answer; the second request must be a hit
    curl -s -o /dev/null -X POST -H 'content-type: application/json' -d "$query" "http://127.0.0.1:$p/v1/query"
    curl -s -D "$tmp/hit-$p.head" -o "$tmp/hit-$p.body" -X POST -H 'content-type: application/json' \
        -d "$query" "http://127.0.0.1:$p/v1/query"
    grep -qi '^x-perch-cache: hit' "$tmp/hit-$p.head" ||
        { echo "bench/http.sh: no cache hit from scripts/query.lua:" >&2; cat "$tmp/hit-$p.head" >&2; exit 1; }
done
# (their bodies differ in the upstream's request count "n", nothing else)
hit_body=$(cat "$tmp/hit-$qport.body")
case $hit_body in *']==]'*) echo "bench/http.sh: the hit body cannot be quoted for nginx" >&2; exit 1 ;; esac

nport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
load_module $mods/ndk_http_module.so;
load_module $mods/ngx_http_lua_module.so;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nport;
    location = /hello { content_by_lua_block { ngx.print("hello\\n") } }
    location = /v1/query {
      default_type application/json;
      content_by_lua_block { ngx.print([==[$hit_body]==]) }
    }
  }
}
NGX
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
pids="$pids $!"
pport=$(free_port)
"$build/perch" run "$root/bench/http_app.lua" --set "http.listen=127.0.0.1:$pport" \
    --set repl.enabled=false --log-level warn >"$tmp/perch.out" 2>"$tmp/perch.err" &
pids="$pids $!"
wait_port "$nport" /hello || { echo "bench/http.sh: nginx did not start" >&2; cat "$tmp/nginx/error.log" >&2; exit 1; }
wait_port "$pport" /health || { echo "bench/http.sh: perch did not start" >&2; cat "$tmp/perch.err" >&2; exit 1; }
[ "$(curl -s "http://127.0.0.1:$nport/hello")" = "$(curl -s "http://127.0.0.1:$pport/hello")" ] ||
    { echo "bench/http.sh: the two servers answer differently" >&2; exit 1; }
curl -s -o "$tmp/nginx-query.body" -X POST -d "$query" "http://127.0.0.1:$nport/v1/query"
cmp -s "$tmp/nginx-query.body" "$tmp/hit-$qport.body" ||
    { echo "bench/http.sh: nginx's /v1/query body differs from perch's hit" >&2; exit 1; }

# name=url, and a * after the name for a POST of the query
targets="nginx_lua=http://127.0.0.1:$nport/hello lua_route=http://127.0.0.1:$pport/hello
         health=http://127.0.0.1:$pport/health nginx_query*=http://127.0.0.1:$nport/v1/query
         query_hit*=http://127.0.0.1:$qport/v1/query query_hit_lua*=http://127.0.0.1:$lport/v1/query"
declare -A best_rps best_p99
script_of() { case ${1%%=*} in *'*') echo "$tmp/post.lua" ;; *) echo "$tmp/report.lua" ;; esac; }
name_of() { local n=${1%%=*}; echo "${n%'*'}"; }
for t in $targets; do
    wrk -t1 -c16 -d1s -s "$(script_of "$t")" "${t#*=}" >/dev/null 2>&1   # warm-up
    best_rps[$(name_of "$t")]=0
done
for _ in $(seq "${HTTP_BENCH_ROUNDS:-3}"); do
    for t in $targets; do
        n=$(name_of "$t")
        measure "${t#*=}" "$(script_of "$t")"
        if [ "$RPS" -gt "${best_rps[$n]}" ]; then
            best_rps[$n]=$RPS
            best_p99[$n]=$P99
        fi
    done
done
nginx_rps=${best_rps[nginx_lua]} nginx_p99=${best_p99[nginx_lua]}
lua_rps=${best_rps[lua_route]} lua_p99=${best_p99[lua_route]}
health_rps=${best_rps[health]} health_p99=${best_p99[health]}

record http.nginx_lua.rps "$nginx_rps" req/s
record http.nginx_lua.p99 "$nginx_p99" ms
record http.lua_route.rps "$lua_rps" req/s http.nginx_lua.rps \
    "$(awk -v a="$lua_rps" -v b="$nginx_rps" 'BEGIN { printf "%.4f", a / b }')"
record http.lua_route.p99 "$lua_p99" ms http.nginx_lua.p99 \
    "$(awk -v a="$lua_p99" -v b="$nginx_p99" 'BEGIN { printf "%.4f", a / b }')"
record http.health.rps "$health_rps" req/s
record http.health.p99 "$health_p99" ms
awk -v a="$lua_rps" -v b="$nginx_rps" 'BEGIN { r = a / b; printf "perch / nginx+lua: %.2fx (goal >= 0.8x)%s\n", r, r < 0.8 ? "  MISSED" : "" }'

nq_rps=${best_rps[nginx_query]} nq_p99=${best_p99[nginx_query]}
record http.nginx_query.rps "$nq_rps" req/s
record http.nginx_query.p99 "$nq_p99" ms
for n in query_hit query_hit_lua; do
    record "http.$n.rps" "${best_rps[$n]}" req/s http.nginx_query.rps \
        "$(awk -v a="${best_rps[$n]}" -v b="$nq_rps" 'BEGIN { printf "%.4f", a / b }')"
    record "http.$n.p99" "${best_p99[$n]}" ms http.nginx_query.p99 \
        "$(awk -v a="${best_p99[$n]}" -v b="$nq_p99" 'BEGIN { printf "%.4f", a / b }')"
done
awk -v a="${best_rps[query_hit]}" -v b="$nq_rps" 'BEGIN { r = a / b; printf "POST /v1/query cache hit / nginx+lua fixed body: %.2fx (goal >= 0.8x)%s\n", r, r < 0.8 ? "  MISSED" : "" }'
