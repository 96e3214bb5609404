#!/usr/bin/env bash
# How editors save, and hot reload: by renaming a new file over the old one
# (emacs, most IDEs), by moving the old one aside first (vim), by truncating
# and writing in several writes with pauses between them, and a file left
# half-written.  Each good save is picked up once; a save that does not
# compile while writes are still arriving is not reported as a failure; one
# left broken is, once the writes have settled.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/proj"
app=$TMP/proj/app.lua

version() {
    cat <<LUA
local V = "$1"
perch.every(20, function() end)
function on_save() return { from = V } end
function on_reload(s) print(("reloaded %s from %s"):format(V, s and s.from)); io.stdout:flush() end
print("version " .. V); io.stdout:flush()
LUA
}

version e1 >"$app"
start run run "$app" --duration 120
wait_for "$TMP/run.out" "^version e1$" 30
ok $? "version 1 starts"

# Rename over the old file.
version e2 >"$TMP/proj/.app.lua.tmp"
mv "$TMP/proj/.app.lua.tmp" "$app"
wait_for "$TMP/run.out" "^reloaded e2 from e1$" 20
ok $? "a save by rename is picked up"

# vim without backupcopy: the old file moves aside, a new one is written.
mv "$app" "$app~"
version e3 >"$app"
rm -f "$app~"
wait_for "$TMP/run.out" "^reloaded e3 from e2$" 20
ok $? "a save that moves the old file aside is picked up"

# Truncate, then several writes with pauses longer than the debounce: the
# first pieces do not compile, and must not count as failures.
version e4 >"$TMP/e4.lua"
head -c 40 "$TMP/e4.lua" >"$TMP/part1"
tail -c +41 "$TMP/e4.lua" | head -c 60 >"$TMP/part2"
tail -c +101 "$TMP/e4.lua" >"$TMP/part3"
{
    : >"$app"
    sleep 0.1
    cat "$TMP/part1" >>"$app"
    sleep 0.1
    cat "$TMP/part2" >>"$app"
    sleep 0.1
    cat "$TMP/part3" >>"$app"
}
wait_for "$TMP/run.out" "^reloaded e4 from e3$" 20
ok $? "a save in several writes is picked up once complete"
sleep 0.5
unlike "$TMP/run.err" "failed" "no failure was reported for the pieces"
is "$(count "$TMP/run.out" '^version e4$')" 1 "and only the complete file was loaded"

# A half-written file that stays so: reported once the writes settle.
head -c 60 "$TMP/e4.lua" >"$app"
wait_for "$TMP/run.err" "reload \(file changed\) failed: .*proj/app.lua:[0-9]+: .*version 4 keeps running" 20
ok $? "a file left half-written is reported with file:line after the settle time"
is "$(count "$TMP/run.err" 'reload \(file changed\) failed')" 1 "once"

# ... and fixing it then reloads.
version e5 >"$app"
wait_for "$TMP/run.out" "^reloaded e5 from e4$" 20
ok $? "fixing it reloads, and version 4 had kept running"

kill -TERM "$PID"
wait_exit "$PID" 30
is "$STATUS" 0 "exit status 0"
like "$TMP/run.err" "reloads: 4 ok, 1 failed" "4 reloads and 1 failure in all"
done_testing
