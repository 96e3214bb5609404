#!/usr/bin/env bash
# The camera app with sink=upstream:URL against a real upstream on 127.0.0.1
# (tests/runtime/http_upstream.py): frames arrive as JPEG bodies python3-pil
# decodes at the frame size, with their metadata headers; a 503 upstream
# shows retries and counted failures while the app runs on and exits 0; a
# slow upstream fills the bounded queue (the oldest are pushed out, to the
# fallback dir) and Lua memory stays flat; a closed port is counted; an
# upstream that comes up late gets the uploads once its breaker lets a probe
# through; the default rules keep frames local when the power policy says no
# radio; a rules file can reject frames; a bad URL or rule stops the app at
# start with a message naming it.
. "$(dirname "$0")/lib.sh"
plan 31
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
PY=/usr/bin/python3

# A fake sysfs tree: a full battery on mains (10 fps, upstream allowed).
sys="$TMP/sys"
bat="$sys/class/power_supply/BAT0"
mkdir -p "$bat" "$sys/class/power_supply/AC" "$sys/class/thermal/thermal_zone0"
echo Battery >"$bat/type"
echo Full >"$bat/status"
echo 100 >"$bat/capacity"
echo Mains >"$sys/class/power_supply/AC/type"
echo 1 >"$sys/class/power_supply/AC/online"
echo cpu-thermal >"$sys/class/thermal/thermal_zone0/type"
echo 45000 >"$sys/class/thermal/thermal_zone0/temp"

# upstream NAME [ARGS]: start http_upstream.py; sets UPORT and UPID.
upstream() {
    local name=$1
    shift
    $PY "$(dirname "$0")/http_upstream.py" --lifetime 120 "$@" >"$TMP/$name.port" 2>"$TMP/$name.perr" &
    UPID=$!
    UPIDS="${UPIDS:-} $UPID"
    UPORT=""
    for _ in $(seq 100); do [ -s "$TMP/$name.port" ] && break; sleep 0.1; done
    UPORT=$(head -1 "$TMP/$name.port")
    [ -n "$UPORT" ] || { echo "Bail out! the test upstream did not start: $(cat "$TMP/$name.perr")"; exit 1; }
}
trap 'for p in ${UPIDS:-}; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
seen() { curl -s "http://127.0.0.1:$1/seen?id=$2" | sed -nE 's/^\{"n": ([0-9]+).*/\1/p'; }
# summary FILE FIELD-REGEX: the number before FIELD in the "camera done" line.
summary() { sed -nE "s/.*camera done: .*[^0-9]([0-9]+) $2.*/\1/p" "$1" | head -1; }
cam() {
    perch run scripts/camera.lua --no-watch --set sysfs.root="$sys" --set camera.status_s=1 \
        --set repl.enabled=false --set http.listen=127.0.0.1:0 "$@"
}

# 1. A working upstream: every frame arrives, decodes, and says what it is.
upstream good --save "$TMP/saved"
mkdir -p "$TMP/saved"
good=$UPORT
cam --duration 4 --set sink=upstream:"http://127.0.0.1:$good/app/frames" >"$TMP/a.out" 2>"$TMP/a.err"
is "$?" 0 "upload to a working upstream: exits 0"
n=$(seen "$good" /app/frames)
up=$(sed -nE 's/.*camera done: ([0-9]+) frames uploaded.*/\1/p' "$TMP/a.err")
ok "$([ "${n:-0}" -ge 10 ] && echo 0 || echo 1)" "4 s at 10 fps: ${n:-0} frames reached the upstream (>= 10)"
# Frames in flight at the stop may have arrived but count as dropped.
ok "$([ -n "$up" ] && [ "$n" -ge "$up" ] && [ "$n" -le $((up + 2)) ] && echo 0 || echo 1)" \
    "the summary's uploaded count is the upstream's ($up of $n; in flight at the stop: 2 at most)"
$PY - "$TMP/saved" >"$TMP/check.out" 2>&1 <<'PY'
import glob, io, json, sys, time
from PIL import Image
d = sys.argv[1]
bad, seqs = [], []
for body in sorted(glob.glob(d + "/*.body")):
    h = json.load(open(body[:-5] + ".headers.json"))
    im = Image.open(io.BytesIO(open(body, "rb").read()))
    im.load()
    if im.format != "JPEG" or im.size != (320, 240):
        bad.append(f"{body}: {im.format} {im.size}")
    if h.get("content-type") != "image/jpeg":
        bad.append(f"{body}: content-type {h.get('content-type')}")
    t, m, q = float(h["x-perch-frame-time"]), float(h["x-perch-frame-motion"]), int(h["x-perch-frame-quality"])
    if abs(time.time() - t) > 60 or not 0 <= m <= 1 or q != 85:
        bad.append(f"{body}: time {t} motion {m} quality {q}")
    seqs.append(int(h["x-perch-frame-seq"]))
print("frames", len(seqs), "bad", len(bad), "distinct", len(set(seqs)))
for b in bad[:5]:
    print(b)
PY
like "$TMP/check.out" '^frames [1-9][0-9]* bad 0 ' "every body is a 320x240 JPEG with seq, time, motion and quality headers"
is "$(sed -nE 's/^frames ([0-9]+) bad 0 distinct ([0-9]+)$/\1 \2/p' "$TMP/check.out" | awk '{ print ($1 == $2) }')" 1 \
    "every frame's sequence number is distinct"

# 2. A 503 upstream: retries and failures are counted, logged once, the app
# runs on and exits 0 at --duration.
start b run scripts/camera.lua --no-watch --set sysfs.root="$sys" --set camera.status_s=1 \
    --set repl.enabled=false --set http.listen=127.0.0.1:0 --duration 5 \
    --set sink=upstream:"http://127.0.0.1:$good/app/fail" --set upload.breaker_open_ms=500 \
    --set upload.base_ms=10 --set upload.cap_ms=50
wait_for "$TMP/b.err" 'camera: fps .* failed [1-9]' 20
ok $? "503: the status line counts failed uploads"
murl=$(sed -nE 's/.*metrics on (http:[^ ]*).*/\1/p' "$TMP/b.err" | head -1)
curl -s "$murl" >"$TMP/b.metrics"
like "$TMP/b.metrics" '^camera_upload_failures_total\{code="http_5xx"\} [1-9]' "/metrics: camera_upload_failures_total{code=\"http_5xx\"}"
like "$TMP/b.metrics" '^camera_frames_total\{result="failed"\} [1-9]' "/metrics: camera_frames_total{result=\"failed\"}"
like "$TMP/b.metrics" '^camera_upload_queue [0-9]' "/metrics: camera_upload_queue"
wait_exit "$PID" 30
is "$STATUS" 0 "503: exits 0 at --duration"
retries=$(summary "$TMP/b.err" retries)
attempts=$(summary "$TMP/b.err" "upload attempts")
ok "$([ "${retries:-0}" -ge 2 ] && echo 0 || echo 1)" "503: ${retries:-0} retries made"
sn=$(seen "$good" /app/fail)
ok "$([ "${attempts:-0}" -ge 3 ] && [ "$sn" -ge "$attempts" ] && [ "$sn" -le $((attempts + 2)) ] && echo 0 || echo 1)" \
    "503: the upstream saw the attempts the summary counts ($attempts of $sn; 2 in flight at the stop at most)"
like "$TMP/b.err" 'failures: (breaker_open [0-9]+, )?http_5xx [1-9]' "503: the summary counts failures by code"
is "$(count "$TMP/b.err" 'upload to .main. failed')" 1 "503: the failure is logged once, not per frame"
ok "$([ "$(count "$TMP/b.err" 'camera: fps')" -ge 4 ] && echo 0 || echo 1)" "503: status lines go on"

# 3. A slow upstream (300 ms a frame, one at a time) cannot take 10 fps of
# 640x480: the queue stays at upload.max_queue, the oldest are pushed out
# into the fallback dir, and the Lua heap (where the JPEGs live) stays flat:
# about 1.1 MiB at its peak, where an unbounded queue reaches 2 MiB in 8 s.
mkdir -p "$TMP/fb"
cam --duration 8 --set camera.width=640 --set camera.height=480 \
    --set sink=upstream:"http://127.0.0.1:$good/app/slow" --set upload.max_in_flight=1 \
    --set upload.max_queue=4 --set upload.fallback_dir="$TMP/fb" >"$TMP/c.out" 2>"$TMP/c.err"
is "$?" 0 "slow upstream: exits 0"
maxq=$(sed -nE 's/.*queue ([0-9]+)\/4, ([0-9]+) in flight.*/\1 \2/p' "$TMP/c.err" | sort -n | tail -1)
is "$(echo "$maxq" | awk '{ print ($1 <= 4 && $2 <= 1) }')" 1 "slow upstream: queue <= 4 and 1 in flight at most ($maxq)"
kept=$(summary "$TMP/c.err" "kept in")
files=$(find "$TMP/fb" -name '*.jpg' | wc -l)
ok "$([ "${kept:-0}" -ge 5 ] && [ "$kept" = "$files" ] && echo 0 || echo 1)" \
    "slow upstream: ${kept:-0} frames pushed out of the queue went to the fallback dir ($files files)"
peak=$(sed -nE 's/.*Lua memory peak ([0-9]+) KiB.*/\1/p' "$TMP/c.err")
diag "Lua memory peak with a full queue: ${peak:-?} KiB"
ok "$([ "${peak:-99999}" -le 1536 ] && echo 0 || echo 1)" "slow upstream: Lua memory peak ${peak:-?} KiB <= 1.5 MiB"

# 4. A closed port: connect failures, then the breaker fails the rest fast.
closed=$(free_port)
cam --duration 3 --set sink=upstream:"http://127.0.0.1:$closed/x" --set upload.max_queue=4 \
    >"$TMP/d.out" 2>"$TMP/d.err"
is "$?" 0 "closed port: exits 0"
like "$TMP/d.err" 'camera done: 0 frames uploaded .* failures: breaker_open [1-9][0-9]*, connect [1-9]' \
    "closed port: connect failures and breaker_open counted"
failed=$(summary "$TMP/d.err" failed)
ok "$([ "${failed:-0}" -ge 15 ] && echo 0 || echo 1)" "closed port: ${failed:-0} frames counted failed"

# 5. The upstream comes up late: the breaker's probe finds it, uploads resume.
late=$(free_port)
start e run scripts/camera.lua --no-watch --set sysfs.root="$sys" --set camera.status_s=1 \
    --set repl.enabled=false --set http.listen=127.0.0.1:0 --duration 20 \
    --set sink=upstream:"http://127.0.0.1:$late/app/late" --set upload.breaker_open_ms=300
wait_for "$TMP/e.err" 'camera: fps .* failed [1-9]' 20
ok $? "before the upstream is up: failures counted"
upstream late --port "$late"
wait_for "$TMP/e.err" 'uploads work again after [0-9]+ failed' 15
ok $? "once it is up: 'uploads work again' logged"
wait_for "$TMP/e.err" 'camera: fps .* uploaded [1-9]' 5
ok $? "once it is up: frames are uploaded"
kill -TERM "$PID"
wait_exit "$PID" 20
is "$STATUS" 0 "late upstream: SIGTERM exits 0"

# 6. Battery critical on battery power: the power policy votes
# upstream_allowed = false and the default rules keep frames local.
echo Discharging >"$bat/status"
echo 5 >"$bat/capacity"
echo 0 >"$sys/class/power_supply/AC/online"
mkdir -p "$TMP/fb2"
cam --duration 3 --set sink=upstream:"http://127.0.0.1:$good/app/critical" \
    --set upload.fallback_dir="$TMP/fb2" >"$TMP/f.out" 2>"$TMP/f.err"
files=$(find "$TMP/fb2" -name '*.jpg' | wc -l)
ok "$([ "$files" -ge 1 ] && [ "$(seen "$good" /app/critical)" = 0 ] && echo 0 || echo 1)" \
    "critical battery: $files frames kept in the fallback dir, none uploaded"
echo Full >"$bat/status"
echo 100 >"$bat/capacity"
echo 1 >"$sys/class/power_supply/AC/online"

# 7. A rules file: odd frames are rejected.
rules=$(script rules <<'LUA'
return {
  { name = "odd", match = { json = { seq = function(s) return s % 2 == 1 end } }, target = "reject" },
  { name = "default", target = "upstream:main" },
}
LUA
)
cam --duration 3 --set sink=upstream:"http://127.0.0.1:$good/app/even" --set upload.rules="$rules" \
    >"$TMP/g.out" 2>"$TMP/g.err"
rej=$(summary "$TMP/g.err" "rejected by the rules")
upl=$(sed -nE 's/.*camera done: ([0-9]+) frames uploaded.*/\1/p' "$TMP/g.err")
ok "$([ "${rej:-0}" -ge 5 ] && [ "$(seen "$good" /app/even)" = "$upl" ] && echo 0 || echo 1)" \
    "a rules file rejects odd frames: ${rej:-0} rejected, ${upl:-0} uploaded"

# 8. Mistakes stop the app at start, naming what is wrong.
cam --duration 2 --set sink=upstream:ftp://127.0.0.1/x >"$TMP/h.out" 2>"$TMP/h.err"
st=$?
ok "$([ $st -ne 0 ] && grep -q "sink=upstream:ftp://127.0.0.1/x: upstream 'main': url 'ftp://127.0.0.1/x' has scheme 'ftp'" "$TMP/h.err" && echo 0 || echo 1)" \
    "sink=upstream:ftp://...: exit $st, the scheme named"
cam --duration 2 --set sink=upstream:http://127.0.0.1:99999/x >"$TMP/i.out" 2>"$TMP/i.err"
st=$?
ok "$([ $st -ne 0 ] && grep -q "has a bad port '99999'" "$TMP/i.err" && echo 0 || echo 1)" "port 99999: exit $st, the port named"
bad=$(script badrules <<'LUA'
return { { name = "x", target = "upstream:main", ttl = 3 } }
LUA
)
cam --duration 2 --set sink=upstream:"http://127.0.0.1:$good/app/x" --set upload.rules="$bad" \
    >"$TMP/j.out" 2>"$TMP/j.err"
st=$?
ok "$([ $st -ne 0 ] && grep -q "routing rule 1 ('x'): unknown key 'ttl'" "$TMP/j.err" && echo 0 || echo 1)" \
    "a bad rules file: exit $st, the rule and key named"
