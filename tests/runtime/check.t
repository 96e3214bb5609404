#!/usr/bin/env bash
# perch check compiles without running: exit 1 with file:line on a syntax
# error, 0 on a good script, and never runs the script's code.
. "$(dirname "$0")/lib.sh"
plan 7

bad=$(script bad <<'LUA'
local x = 1
perch.every(10, function()
  x = x +
end)
LUA
)
perch check "$bad" >"$TMP/bad.out" 2>"$TMP/bad.err"
is "$?" 1 "syntax error: exit 1"
like "$TMP/bad.err" "bad\.lua:4: unexpected symbol near 'end'" "syntax error names file:line"

good=$(script good <<'LUA'
print("this must not run")
perch.every(10, function() end)
LUA
)
perch check "$good" >"$TMP/good.out" 2>"$TMP/good.err"
is "$?" 0 "good script: exit 0"
unlike "$TMP/good.out" "must not run" "check does not run the script"

perch check "$TMP/missing.lua" >/dev/null 2>"$TMP/missing.err"
is "$?" 1 "missing file: exit 1"
like "$TMP/missing.err" "cannot open .*missing\.lua" "missing file is named"

perch run "$bad" >/dev/null 2>"$TMP/run.err"
is "$?" 1 "run of a script that does not compile: exit 1"
