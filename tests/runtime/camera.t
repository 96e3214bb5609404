#!/usr/bin/env bash
# The camera app end to end: an ffmpeg MJPEG stream through scripts/camera.lua
# into a directory of JPEGs that djpeg decodes, and the synthetic source on a
# fake sysfs tree whose battery the test drains while the app runs, so the
# policies' frame rate (and the rate actually achieved) steps down.
. "$(dirname "$0")/lib.sh"
plan 12

sys="$TMP/sys"
bat="$sys/class/power_supply/BAT0"
tz="$sys/class/thermal/thermal_zone0"
mkdir -p "$bat" "$tz" "$TMP/out" "$TMP/out2"
echo Battery >"$bat/type"
echo Discharging >"$bat/status"
echo 100 >"$bat/capacity"
echo 3900000 >"$bat/voltage_now"
echo cpu-thermal >"$tz/type"
echo 45000 >"$tz/temp"
echo critical >"$tz/trip_point_0_type"
echo 90000 >"$tz/trip_point_0_temp"

# 1. A real-time MJPEG stream on stdin for 5 s: 10 fps natively.  At 100%
# with the user active the policies allow 15 fps (10 before the first
# decision), so the stream's own rate is what limits: we expect 5 s x rate
# frames (ffmpeg's start-up eats a little of it), within 10%.  Under qemu
# the emulated decode + motion + encode cannot keep 10 fps, so the Makefile
# asks for 4 fps of smaller frames (PERCH_CAMERA_RATE, PERCH_CAMERA_SIZE)
# and the lower bound drops to a quarter (PERCH_CAMERA_MIN_PCT): the
# emulated start-up and a loaded machine eat up to half of the 5 s there,
# so only "the pipe delivers, never more than the stream" is checked.
rate=${PERCH_CAMERA_RATE:-10}
min_pct=${PERCH_CAMERA_MIN_PCT:-90}
size=${PERCH_CAMERA_SIZE:-320x240}
want=$((5 * rate))
ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size="$size":rate="$rate" -t 6 \
    -q:v 3 -f mjpeg - 2>"$TMP/ffmpeg.err" |
    perch run scripts/camera.lua --duration 5 --no-watch --set source=mjpeg:- \
        --set sink=dir:"$TMP/out" --set sysfs.root="$sys" --set camera.user_active=true \
        --set camera.status_s=1 \
        --set http.listen=127.0.0.1:0 >"$TMP/a.out" 2>"$TMP/a.err"
is "$?" 0 "mjpeg:- into dir: exits 0"
files=$(find "$TMP/out" -name '*.jpg' | wc -l)
kept=$(sed -nE 's/.*camera done: ([0-9]+) frames kept.*/\1/p' "$TMP/a.err")
is "$kept" "$files" "the summary's kept count is the number of files written ($files)"
ok "$([ $((files * 100)) -ge $((want * min_pct)) ] && [ $((files * 100)) -le $((want * 110)) ] && echo 0 || echo 1)" \
    "5 s of a $rate fps stream: $files frames, $min_pct..110% of $want"
bad=0
for f in "$TMP"/out/*.jpg; do djpeg "$f" >/dev/null 2>>"$TMP/djpeg.err" || bad=$((bad + 1)); done
is "$bad" 0 "every JPEG decodes with djpeg"
like "$TMP/a.err" 'metrics on http://127\.0\.0\.1:[0-9]+/metrics' "metrics served on loopback"
like "$TMP/a.err" 'camera: fps (10|15) target .* quality 85 .* battery 100% .* mode normal' \
    "a status line with fps, quality, battery and mode"

# 2. Synthetic frames (the square always moves) with the user active; the
# test drains the battery: 100% (15 fps) -> 45% (10) -> 20% (5) -> 8% (1).
start b run scripts/camera.lua --duration 30 --no-watch --set source=synthetic \
    --set sink=dir:"$TMP/out2" --set sysfs.root="$sys" --set sensors.period_ms=100 \
    --set camera.user_active=true --set camera.policy_ms=100 --set camera.status_s=1 \
    --set http.listen=127.0.0.1:0
wait_for "$TMP/b.err" 'camera: fps 15 target' 20
ok $? "100%: 15 fps"
echo 45 >"$bat/capacity"
wait_for "$TMP/b.err" 'camera: fps 10 target .* quality 75' 10
ok $? "45%: 10 fps, quality 75"
echo 20 >"$bat/capacity"
wait_for "$TMP/b.err" 'camera: fps 5 target .* quality 60 .* mode saver' 10
ok $? "20%: 5 fps, quality 60, saver"
echo 8 >"$bat/capacity"
wait_for "$TMP/b.err" 'camera: fps 1 target .* quality 40 .* mode critical' 10
ok $? "8%: 1 fps, quality 40, critical"
sleep 2.2
kill -TERM "$PID"
wait_exit "$PID" 20
is "$STATUS" 0 "SIGTERM: exits 0"
# Achieved fps from the status lines: the best second at 15 fps, the last at 1.
first=$(sed -nE 's/.*camera: fps 15 target ([0-9.]+) actual.*/\1/p' "$TMP/b.err" | sort -n | tail -1)
last=$(sed -nE 's/.*camera: fps 1 target ([0-9.]+) actual.*/\1/p' "$TMP/b.err" | tail -1)
diag "achieved fps at 15: ${first:-?}, at 1: ${last:-?}"
ok "$(awk -v a="${first:-0}" -v b="${last:-99}" 'BEGIN { print (a >= 11 && b <= 2) ? 0 : 1 }')" \
    "achieved fps steps down with the target (${first:-?} -> ${last:-?})"
