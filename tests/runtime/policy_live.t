#!/usr/bin/env bash
# Policies live on a device: perch.policy.run reads the sensors of a fake
# sysfs tree, runs the shipped policies (required from the project's
# policies/ next to scripts/), and the actuators follow as the battery
# drains; a parameter changed through the REPL shows in the next decision;
# the running policies are listed with their why.
. "$(dirname "$0")/lib.sh"
plan 15

proj="$TMP/proj"
sys="$TMP/sys"
bat="$sys/class/power_supply/BAT0"
tz="$sys/class/thermal/thermal_zone0"
mkdir -p "$proj/scripts" "$proj/policies" "$bat" "$tz"
cp policies/*.lua "$proj/policies/"
echo Battery >"$bat/type"
echo Discharging >"$bat/status"
echo 80 >"$bat/capacity"
echo 3800000 >"$bat/voltage_now"
echo 500000 >"$bat/current_now"
echo cpu-thermal >"$tz/type"
echo 50000 >"$tz/temp"
echo critical >"$tz/trip_point_0_type"
echo 90000 >"$tz/trip_point_0_temp"

cat >"$proj/scripts/app.lua" <<'LUA'
local run = perch.policy.run{
  policies = { require "policies.power", require "policies.thermal",
               require "policies.framerate", (require "policies.quality") },
  every_ms = 50,
  inputs = function(i)            -- what the app itself knows
    i.motion, i.user_active, i.link_quality = 0.5, true, 1
    return i
  end,
  on_decision = function(r)
    local a = perch.actuators.get()
    local line = ("fps=%s q=%s mode=%s"):format(a.fps.effective, a.jpeg_quality.effective, r.mode)
    if line ~= last then print(line); io.stdout:flush(); last = line end
  end,
}
print(tostring(run)); io.stdout:flush()
LUA

sock="$TMP/repl.sock"
start app run "$proj/scripts/app.lua" --duration 600 --set sysfs.root="$sys" \
    --set sensors.period_ms=20 --set repl.socket="$sock" --no-watch
wait_for "$TMP/app.out" '^perch.policy.run \(power, thermal, framerate, quality\)$' 30
ok $? "perch.policy.run starts with the shipped policies required from policies/"
wait_for "$TMP/app.out" '^fps=15 q=85 mode=normal$' 30
ok $? "80% on battery, user active, motion: 15 fps, quality 85"

echo 20 >"$bat/capacity"
wait_for "$TMP/app.out" '^fps=5 q=60 mode=saver$' 30
ok $? "the battery drops to 20%: 5 fps, quality 60, saver"
like "$TMP/app.err" 'policy: fps 15 -> 5 \(framerate: battery 20%' "the change is logged with the winning policy's why"

echo 8 >"$bat/capacity"
wait_for "$TMP/app.out" '^fps=1 q=40 mode=critical$' 30
ok $? "8%: 1 fps, quality 40, critical"

r() { perch repl --socket "$sock" "$@"; }
r -e ':policies' >"$TMP/pol.out" 2>&1
like "$TMP/pol.out" '^framerate: .*fps' ":policies lists framerate's decision"
like "$TMP/pol.out" '^  why: battery 8% \(critical\)' "... with its why"
like "$TMP/pol.out" '^thermal: ' "... and the other policies"
like "$TMP/pol.out" '^  params: .*fps_critical = 1' "... and their parameters"

r -e ':set framerate.fps_critical 2' >"$TMP/set.out" 2>&1
is "$?" 0 ":set exits 0"
wait_for "$TMP/app.out" '^fps=2 q=40 mode=critical$' 30
ok $? ":set framerate.fps_critical 2 shows in the next decision"
wait_for "$TMP/app.err" 'repl: uid [0-9]+ .*set framerate.fps_critical = 2 \(was 1\)' 10
ok $? "the change is logged as an audit line"

r -e ':set framerate.fps_critical 5000' >"$TMP/bad.out" 2>&1
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "an out-of-range value is refused"
like "$TMP/bad.out" "fps_critical" "... naming the parameter"

kill -TERM "$PID"
wait_exit "$PID" 30
is "$STATUS" 0 "the app stops cleanly on SIGTERM"
