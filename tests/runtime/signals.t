#!/usr/bin/env bash
# SIGTERM and SIGINT stop a run gracefully: timers stop, on_stop hooks run
# (newest first), exit status 0.
. "$(dirname "$0")/lib.sh"
plan 10

app=$(script sig <<'LUA'
perch.on_stop(function() print("on_stop first registered"); io.stdout:flush() end)
perch.on_stop(function() print("on_stop second registered"); io.stdout:flush() end)
perch.every(10, function() end)
print("ready"); io.stdout:flush()
LUA
)
for sig in TERM INT; do
    start "sig$sig" run "$app"
    if wait_for "$TMP/sig$sig.out" "^ready$" 60; then
        sleep 0.3
        kill -"$sig" "$PID"
    fi
    wait_exit "$PID" 60
    is "$STATUS" 0 "SIG$sig: exit status 0"
    like "$TMP/sig$sig.out" "^on_stop first registered$" "SIG$sig: on_stop hooks ran"
    is "$(sed -n '2p;3p' "$TMP/sig$sig.out" | tr '\n' '|')" "on_stop second registered|on_stop first registered|" \
        "SIG$sig: hooks ran newest first"
    like "$TMP/sig$sig.err" "stopped \(SIG$sig\)" "SIG$sig: the log names the signal"
done

# An on_stop hook that fails or runs away does not keep the process from
# exiting cleanly.
app=$(script badstop <<'LUA'
perch.on_stop(function() print("good hook ran"); io.stdout:flush() end)
perch.on_stop(function() while true do end end)
perch.every(10, function() end)
print("ready"); io.stdout:flush()
LUA
)
start badstop run "$app" --set lua.budget=100000
wait_for "$TMP/badstop.out" "^ready$" 60 && kill -TERM "$PID"
wait_exit "$PID" 60
is "$STATUS" 0 "a runaway on_stop hook is aborted and the exit is still 0"
like "$TMP/badstop.out" "^good hook ran$" "the other hooks still ran"
