#!/usr/bin/env bash
# frames.t - real MJPEG streams from ffmpeg through `perch run`: a pipe on
# stdin, restart markers, garbage and a truncated last frame, a FIFO whose
# writer comes back (reopen), a slow consumer on a fast pipe; the JPEGs the
# app writes decode with djpeg at the expected size and carry the
# quantization tables of the quality asked (checked with PIL); a full and a
# read-only disk are reported, counted, and the app keeps running.
. "$(dirname "$0")/lib.sh"

if ! command -v ffmpeg >/dev/null || ! command -v djpeg >/dev/null; then
    echo "1..0 # SKIP ffmpeg or djpeg missing (.ci/deps test installs them)"
    exit 0
fi

# 20 frames, 320x240, 4 slices: ffmpeg then writes DRI and RST markers.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=320x240:rate=10 -t 2 \
    -threads 4 -slices 4 -q:v 3 -f mjpeg "$TMP/ten.mjpeg"
rst=$(/usr/bin/python3 -c "import sys; d=open(sys.argv[1],'rb').read(); print(sum(d.count(bytes([0xff,0xd0+i])) for i in range(8)))" "$TMP/ten.mjpeg")

app=$(script app <<'EOF'
local c = perch.config.t
local src = assert(perch.frames.source{ kind = "mjpeg", path = c.path, fps = c.fps or 1000,
                                        ring = c.ring or 64 })
local sink = assert(perch.frames.dir_sink{ path = c.out, max_files = c.max_files or 1000 })
local m = perch.motion.new{ width = 80 }
local n, want_ends, ends, motion = 0, c.ends or 1, 0, 0
local spin = ("x"):rep(65536)
src:on_frame(function(f)
  n = n + 1
  motion = math.max(motion, assert(m:update(f)))
  -- A slow consumer: the wait spins on a C call (a 64 KiB scan that
  -- allocates nothing), so it costs few of the instruction budget's 5M (a
  -- bare perch.now() loop runs 5M in ~40 ms).
  if c.slow_ms then
    local t0 = perch.now()
    while perch.now() - t0 < c.slow_ms / 1000 do spin:find("y", 1, true) end
  end
  local j = assert(perch.jpeg.encode(f, c.quality or 60))
  sink:write(j)
end)
src:on_end(function(s, why)
  ends = ends + 1
  if ends < want_ends then assert(s:reopen()) return end
  local st, k = s:stats(), sink:stats()
  print(string.format("frames=%d produced=%d corrupt=%d truncated=%d garbage=%d dropped=%d "
    .. "written=%d failures=%d motion=%.3f ends=%d err=%s", n, st.produced, st.corrupt,
    st.truncated, st.garbage, st.dropped, k.written, k.failures, motion, st.ends, tostring(k.last_error)))
  print("why: " .. why)
  perch.stop()
end)
EOF
)

plan 16

# 1. ffmpeg piped into stdin, at its own pace.
mkdir -p "$TMP/out1"
ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 -t 1 \
    -f mjpeg - 2>/dev/null | $PERCH_RUNNER "$PERCH_BIN" run "$app" --set t.path=- \
    --set t.out="$TMP/out1" --set t.quality=60 --duration 60 >"$TMP/p1.out" 2>"$TMP/p1.err"
like "$TMP/p1.out" "^frames=25 produced=25 corrupt=0 truncated=0 garbage=0 dropped=0 written=25 failures=0" \
    "ffmpeg | perch run: 25 frames in, 25 JPEGs out"
like "$TMP/p1.out" "why: -: end of stream" "the end of the pipe is reported"
motion=$(sed -n 's/.*motion=\([0-9.]*\).*/\1/p' "$TMP/p1.out")
ok "$(awk -v m="${motion:-0}" 'BEGIN { print (m > 0.01) ? 0 : 1 }')" "testsrc moves: motion ${motion:-?} > 0.01"

# Every output decodes with djpeg at 320x240; PIL finds quality 60's tables
# (as its own libjpeg makes them) and 4:2:0 sampling.
bad=0
for f in "$TMP"/out1/*.jpg; do
    djpeg -pnm "$f" 2>/dev/null | head -c 20 | tr '\n' ' ' | grep -q "^P6 320 240 " || bad=$((bad + 1))
done
is "$bad" 0 "djpeg decodes all $(ls "$TMP"/out1 | wc -l) output files at 320x240"
/usr/bin/python3 - "$TMP/out1" >"$TMP/pil.out" 2>&1 <<'PY'
import sys, glob, io
from PIL import Image
files = sorted(glob.glob(sys.argv[1] + "/*.jpg"))
im = Image.open(files[0]); im.load()
ref = io.BytesIO(); Image.new("RGB", im.size).save(ref, "JPEG", quality=60); ref.seek(0)
want = {k: list(v) for k, v in Image.open(ref).quantization.items()}
got = {k: list(v) for k, v in im.quantization.items()}
samp = "".join("%d%d" % (l[1], l[2]) for l in im.layer)
print("tables", "same" if got == want else "differ", im.size, im.mode, samp)
PY
like "$TMP/pil.out" "^tables same \(320, 240\) RGB 221111" "PIL: quality-60 quantization tables, 4:2:0 sampling"

# 2. The restart-marker file with garbage before, inside the gap between two
# frames and after, and a truncated last frame, through a pipe.
cut=$(/usr/bin/python3 -c "import sys; d=open(sys.argv[1],'rb').read(); print(d.find(b'\xff\xd9', 40000) + 2)" "$TMP/ten.mjpeg")
{ printf 'junk\377\000\377'; head -c "$cut" "$TMP/ten.mjpeg"; printf '\377\377garbage';
  tail -c +"$((cut + 1))" "$TMP/ten.mjpeg"; head -c 5000 "$TMP/ten.mjpeg"; } >"$TMP/dirty.mjpeg"
mkdir -p "$TMP/out2"
perch run "$app" --set t.path=- --set t.out="$TMP/out2" --duration 60 <"$TMP/dirty.mjpeg" \
    >"$TMP/p2.out" 2>"$TMP/p2.err"
ok "$([ "${rst:-0}" -gt 0 ] && echo 0 || echo 1)" "the stream has ${rst:-0} restart markers"
like "$TMP/p2.out" "^frames=20 produced=20 corrupt=0 truncated=1 garbage=[1-9][0-9]* " \
    "garbage and a truncated last frame: 20 frames, the cut one and the garbage counted"
bad=0
for f in "$TMP"/out2/*.jpg; do djpeg "$f" >/dev/null 2>&1 || bad=$((bad + 1)); done
is "$bad" 0 "every frame of the dirty stream re-encodes to a valid JPEG"
is "$(ls "$TMP"/out2 | wc -l)" 20 "20 files written"

# 3. A FIFO whose writer comes back: on_end reopens it.
mkfifo "$TMP/fifo"
mkdir -p "$TMP/out3"
start fifo run "$app" --set t.path="$TMP/fifo" --set t.out="$TMP/out3" --set t.ends=2 --duration 60
cat "$TMP/ten.mjpeg" >"$TMP/fifo"
sleep 0.5
cat "$TMP/ten.mjpeg" >"$TMP/fifo"
wait_exit "$PID" 60
like "$TMP/fifo.out" "^frames=40 .* ends=2 " "FIFO: writer gone, reopened, 40 frames from two writers"

# 4. A slow consumer on a fast pipe: the ring drops the oldest frames.
mkdir -p "$TMP/out4"
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc=size=640x480:rate=100 -t 4 -f mjpeg - 2>/dev/null |
    perch run "$app" --set t.path=- --set t.out="$TMP/out4" --set t.slow_ms=40 --set t.ring=2 \
        --set t.max_files=5 --duration 120 >"$TMP/p4.out" 2>"$TMP/p4.err"
dropped=$(sed -n 's/.*dropped=\([0-9]*\).*/\1/p' "$TMP/p4.out")
ok "$([ "${dropped:-0}" -gt 50 ] && echo 0 || echo 1)" "slow consumer: ${dropped:-?} of 400 frames dropped by the ring"
is "$(ls "$TMP/out4" | wc -l)" 5 "the sink keeps max_files = 5"

# 5. A full disk and a read-only one (root only: tmpfs mounts).
if [ "$(id -u)" -eq 0 ] && mkdir -p "$TMP/full" && mount -t tmpfs -o size=48k tmpfs "$TMP/full" 2>/dev/null; then
    perch run "$app" --set t.path=- --set t.out="$TMP/full" --set t.quality=95 --duration 60 \
        <"$TMP/ten.mjpeg" >"$TMP/p5.out" 2>"$TMP/p5.err"
    like "$TMP/p5.out" "^frames=20 .* failures=[1-9][0-9]* .*err=ENOSPC" \
        "full disk: ENOSPC counted, all 20 frames still processed"
    is "$(grep -c 'No space left on device' "$TMP/p5.err")" 1 "the log says so once"
    is "$(ls -A "$TMP/full" | grep -c tmp)" 0 "no temporary left behind"
    mount -o remount,ro "$TMP/full"
    perch run "$app" --set t.path=- --set t.out="$TMP/full" --duration 60 <"$TMP/ten.mjpeg" \
        >"$TMP/p6.out" 2>"$TMP/p6.err"
    like "$TMP/p6.out" "^frames=20 .* written=0 failures=20 .*err=EROFS" \
        "read-only disk: every write fails with EROFS, the app runs on"
    umount "$TMP/full"
else
    for _ in 1 2 3 4; do _n=$((_n + 1)); echo "ok $_n # SKIP needs root for a tmpfs mount"; done
fi

[ "$_failed" -eq 0 ]
