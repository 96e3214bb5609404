#!/usr/bin/env bash
# bench/bench_cache.sh BUILD_DIR TMPDIR - perch.cache from Lua against a
# loopback Redis, in one run: bench/bench_cache.lua (100k keys, 1 KiB
# values: get hit and put ns/op through the Lua API), then a redis-server
# of our own on 127.0.0.1 and a free port (no persistence: --save ''
# --appendonly no) measured by redis-benchmark with one client, no
# pipelining: GET and SET of 1 KiB values over 100k keys.  Appends records
# to $BENCH_JSON (as bench_report does): redis.{get,set}.{avg,p50} in us,
# each with its ratio to the cache figure, and cache.lua.get.hit.redis_x,
# how many times lower the Lua hit is than a Redis GET (mean latencies).
# Stops its redis-server and leaves no file behind (everything is under
# TMPDIR, which the caller removes).  Without redis-server/redis-benchmark
# (Debian redis-server, redis-tools) only the Lua part runs.
set -u
export LC_ALL=C

if [ $# -ne 2 ] || [ ! -d "$1" ] || [ ! -d "$2" ]; then
    echo "usage: $0 BUILD_DIR TMPDIR" >&2
    exit 2
fi
build=$1
tmp=$2
root=$(cd "$(dirname "$0")/.." && pwd)
: "${BENCH_JSON:=$tmp/records.json}"
export BENCH_JSON
rc=0

report() {
    printf '%-44s %12.2f %s\n' "$1" "$2" "$3"
    printf '{"name":"%s","value":%.4f,"unit":"%s"}\n' "$1" "$2" "$3" >>"$BENCH_JSON"
}
report_vs() {  # NAME VALUE UNIT VS RATIO
    printf '%-44s %12.2f %-6s (%.2fx %s)\n' "$1" "$2" "$3" "$5" "$4"
    printf '{"name":"%s","value":%.4f,"unit":"%s","vs":"%s","ratio":%.4f}\n' \
        "$1" "$2" "$3" "$4" "$5" >>"$BENCH_JSON"
}
# value NAME: the last record of NAME in $BENCH_JSON.
value() {
    sed -n "s/^{\"name\":\"$1\",\"value\":\([-+0-9.eE]*\),.*/\1/p" "$BENCH_JSON" | tail -1
}

mkdir -p "$tmp/cache"
(cd "$root" && "$build/perch" run bench/bench_cache.lua --set dir="$tmp/cache" \
    --set lua.budget=0 --duration 600 --log-level warn) || {
    echo "bench_cache.sh: bench_cache.lua failed" >&2
    rc=1
}

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "bench_cache.sh: no redis-server/redis-benchmark (Debian redis-server, redis-tools): no Redis figures"
    exit $rc
fi

# A free loopback port: try a few random ones until a server answers.
mkdir -p "$tmp/redis"
pid=""
for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$tmp/redis" --logfile "$tmp/redis/log" --daemonize no &
    pid=$!
    for _ in $(seq 50); do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break 2
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
done
if [ -z "$pid" ]; then
    echo "bench_cache.sh: could not start redis-server on a loopback port:" >&2
    sed 's/^/    /' "$tmp/redis/log" >&2
    exit 1
fi
stop_redis() {
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
trap stop_redis EXIT

# CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...
if redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -n 100000 -d 1024 -r 100000 -t set,get \
        --csv >"$tmp/redis/csv" 2>"$tmp/redis/err"; then
    echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$port, redis-benchmark -c 1 -n 100000 -d 1024 -r 100000:"
    hit=$(value cache.lua.get.hit)
    put=$(value cache.lua.put)
    for t in GET SET; do
        line=$(grep "^\"$t\"" "$tmp/redis/csv" | tr -d '"')
        avg=$(echo "$line" | awk -F, '{ print $3 * 1000 }')
        p50=$(echo "$line" | awk -F, '{ print $5 * 1000 }')
        lower=$(echo "$t" | tr A-Z a-z)
        if [ "$t" = GET ]; then ours=$hit; name=cache.lua.get.hit; else ours=$put; name=cache.lua.put; fi
        if [ -n "$ours" ] && [ -n "$avg" ]; then
            report_vs "redis.$lower.avg" "$avg" us "$name" "$(awk -v r="$avg" -v c="$ours" 'BEGIN { print r * 1000 / c }')"
            report_vs "redis.$lower.p50" "$p50" us "$name" "$(awk -v r="$p50" -v c="$ours" 'BEGIN { print r * 1000 / c }')"
        else
            echo "bench_cache.sh: no $t figure to compare" >&2
            rc=1
        fi
    done
    [ -n "$hit" ] && avg=$(grep '^"GET"' "$tmp/redis/csv" | tr -d '"' | awk -F, '{ print $3 * 1000 }') &&
        report cache.lua.get.hit.redis_x "$(awk -v r="$avg" -v c="$hit" 'BEGIN { print r * 1000 / c }')" x
else
    echo "bench_cache.sh: redis-benchmark failed:" >&2
    sed 's/^/    /' "$tmp/redis/err" >&2
    rc=1
fi
exit $rc
