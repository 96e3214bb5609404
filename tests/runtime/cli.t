#!/usr/bin/env bash
# The command line: usage, version, bad commands and options, --duration,
# --set, --log-level, and failures of the main chunk.
. "$(dirname "$0")/lib.sh"
plan 27

perch version >"$TMP/v.out" 2>&1
is "$?" 0 "version: exit 0"
like "$TMP/v.out" "^perch [0-9]+\.[0-9]+\.[0-9]+ \(Lua 5\.4" "version printed"

perch --help >"$TMP/h.out" 2>&1
is "$?" 0 "--help: exit 0"
like "$TMP/h.out" "usage: perch" "--help prints usage"

perch frobnicate >"$TMP/u.out" 2>"$TMP/u.err"
is "$?" 2 "unknown command: exit 2"
like "$TMP/u.err" "unknown command 'frobnicate'" "unknown command named on stderr"
like "$TMP/u.err" "usage: perch" "usage on stderr"
is "$(wc -c <"$TMP/u.out")" 0 "nothing on stdout"

perch >/dev/null 2>&1
is "$?" 2 "no command: exit 2"

app=$(script app <<'LUA'
print("a.b=" .. tostring(perch.config.a.b) .. " " .. math.type(perch.config.a.b))
print("name=" .. perch.config.name)
print("flag=" .. tostring(perch.config.flag))
perch.log.debug("debug line %d", 42)
perch.every(50, function() end)
LUA
)
perch run "$app" --bogus >/dev/null 2>"$TMP/o.err"
is "$?" 2 "unknown option: exit 2"
like "$TMP/o.err" "unknown option '--bogus'" "unknown option named"

perch run "$app" --duration abc >/dev/null 2>"$TMP/d.err"
is "$?" 2 "bad --duration: exit 2"
perch run "$app" --set lua.max_mb=lots >/dev/null 2>"$TMP/s.err"
is "$?" 2 "bad lua.max_mb: exit 2"
like "$TMP/s.err" "lua.max_mb must be" "bad --set value explained"
perch run "$app" --set novalue >/dev/null 2>&1
is "$?" 2 "--set without = : exit 2"
perch run "$app" --log-level loud >/dev/null 2>&1
is "$?" 2 "bad --log-level: exit 2"
perch run >/dev/null 2>&1
is "$?" 2 "run without an app: exit 2"

start dur run "$app" --duration 1 --set a.b=3 --set name=cam --set flag=true --log-level debug
wait_exit "$PID" 60
is "$STATUS" 0 "--duration ends the run with exit 0"
like "$TMP/dur.out" "^a\.b=3 integer$" "--set nests dotted keys and converts numbers"
like "$TMP/dur.out" "^name=cam$" "--set keeps text"
like "$TMP/dur.out" "^flag=true$" "--set converts booleans"
like "$TMP/dur.err" "DEBUG .*app\.lua:4: debug line 42" "--log-level debug shows perch.log.debug with file:line"

boom=$(script boom <<'LUA'
perch.every(10, function() end)
error("broken at load")           -- line 2
LUA
)
perch run "$boom" >/dev/null 2>"$TMP/boom.err"
is "$?" 1 "main chunk error: exit 1"
like "$TMP/boom.err" "boom\.lua:2: broken at load" "main chunk error names file:line"

early=$(script early <<'LUA'
perch.every(10, function() print("must not tick") end)
perch.on_stop(function() print("stopped early") end)
perch.stop()
LUA
)
start early run "$early" --duration 60
wait_exit "$PID" 60
is "$STATUS" 0 "perch.stop() in the main chunk: exit 0"
like "$TMP/early.out" "^stopped early$" "on_stop ran"
unlike "$TMP/early.out" "must not tick" "no timer ran: the stop held before the loop started"
