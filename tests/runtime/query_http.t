#!/usr/bin/env bash
# The whole request path with real processes on loopback: curl -> perch run
# scripts/query.lua (libmicrohttpd server, the default routing rules in
# policies/routing.lua, an LMDB cache file) -> the Python test upstream.
# X-Perch-Route names the rule, X-Perch-Cache says miss then hit, the
# upstream sees one request for two identical lookups, and /metrics counts
# the route.
. "$(dirname "$0")/lib.sh"
plan 15
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

start_upstream
UP=$UPSTREAM
# A free port for perch: ask the kernel, then hand it over.
PORT=$(free_port)

start app run scripts/query.lua --duration 300 --no-watch --set repl.enabled=false \
    --set http.listen=127.0.0.1:"$PORT" --set query.cache="$TMP/q.mdb" \
    --set query.upstream="http://127.0.0.1:$UP/app"
wait_for "$TMP/app.err" "query: serving POST /v1/query on 127.0.0.1:$PORT" 60
ok $? "perch run scripts/query.lua serves /v1/query"

post() { curl -s -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' -H 'content-type: application/json' \
              --data "$1" "http://127.0.0.1:$PORT/v1/query"; }
hdr() { tr -d '\r' <"$TMP/h" | sed -n "s/^$1: //Ip"; }

is "$(post '{"op":"echo","x":1}')" 200 "echo: 200"
is "$(hdr x-perch-route)" echo "echo: answered by the local rule"
like "$TMP/b" '"x":1' "echo: the body comes back"

is "$(post '{"op":"lookup","id":42}')" 200 "lookup: 200 from the upstream"
is "$(hdr x-perch-route)/$(hdr x-perch-cache)" "lookup/miss" "lookup: first time a miss"
like "$TMP/b" '/app/v1/query' "lookup: the upstream answered (it echoes its path)"
is "$(post '{"op":"lookup","id":42}')" 200 "the same lookup again: 200"
is "$(hdr x-perch-cache)" hit "... served from the cache"

is "$(post '{"op":')" 400 "malformed JSON: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" 404 "unknown path: 404"
curl -s "http://127.0.0.1:$PORT/metrics" >"$TMP/metrics"
like "$TMP/metrics" '^perch_http_requests_total\{.*route="lookup".*\} 2' "/metrics counts the lookup route"
like "$TMP/metrics" '^perch_query_requests_total\{route="lookup",kind="upstream",cache="hit",status="200"\} 1' \
    "... the pipeline's outcome by route and cache"
like "$TMP/metrics" '^perch_cache_hits_total\{cache=".*q\.mdb"\} 1' "... and the cache's own counters"
promtool check metrics <"$TMP/metrics" >"$TMP/promtool.out" 2>&1
ok $? "promtool accepts the page" || sed 's/^/# /' "$TMP/promtool.out"
