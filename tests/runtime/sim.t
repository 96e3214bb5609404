#!/usr/bin/env bash
# perch sim: a hand-made trace through the default policies gives known
# decisions; a full day at 1 s steps replays; --plot writes SVG that parses
# as XML; --compare overlays a tuned policy; --stuck; bad traces, bad
# policies and bad usage fail with file:line or usage.
. "$(dirname "$0")/lib.sh"
plan 45
POL="policies/framerate.lua policies/power.lua policies/quality.lua policies/thermal.lua"

cat >"$TMP/known.csv" <<'CSV'
# each row exercises one decision
time,battery,on_ac,charging,temp,temp_crit,motion,user_active,link_quality
0,80,0,0,50,85,0.5,1,1
100,80,0,0,50,85,0.0,0,1
200,45,0,0,50,85,0.0,1,1
300,20,0,0,50,85,0.5,1,0.1
400,5,0,0,50,85,0.5,1,1
500,5,1,1,50,85,0.5,1,1
600,90,1,0,84,85,0.5,1,1
700,90,1,0,,85,0.5,1,1
CSV
# shellcheck disable=SC2086
perch sim $POL --trace "$TMP/known.csv" --out "$TMP/known.out.csv" >"$TMP/known.out" 2>"$TMP/known.err"
is "$?" 0 "known trace: exit 0"
# row TIME COLUMNS...: the named columns of the decision at TIME, space-separated
row() {
    /usr/bin/python3 - "$TMP/known.out.csv" "$@" <<'PY'
import csv, sys
path, t, cols = sys.argv[1], sys.argv[2], sys.argv[3:]
for r in csv.DictReader(open(path, newline="")):
    if r["time"] == t:
        print(" ".join(r[c] for c in cols))
PY
}
is "$(head -1 "$TMP/known.out.csv")" \
   "time,fps,fps_by,jpeg_quality,jpeg_quality_by,cpu_max_khz,cpu_max_khz_by,cpu_governor,cpu_governor_by,upstream_allowed,upstream_allowed_by,mode,why" \
   "decisions header"
is "$(row 0 fps fps_by jpeg_quality mode upstream_allowed)" "15 framerate 85 normal 1" "80%, user, motion: 15 fps, quality 85, normal"
is "$(row 100 fps jpeg_quality)" "5 85" "80%, idle, still: 5 fps"
is "$(row 200 fps jpeg_quality jpeg_quality_by)" "10 75 quality" "45%, user: 10 fps, quality 75"
is "$(row 300 fps jpeg_quality mode cpu_governor cpu_governor_by)" "5 50 saver powersave power" \
   "20% and a poor link: 5 fps, quality 50, saver"
is "$(row 400 fps jpeg_quality mode upstream_allowed upstream_allowed_by)" "1 40 critical 0 power" \
   "5%: 1 fps, quality 40, critical, no uploads"
is "$(row 500 mode upstream_allowed)" "full 1" "on mains: full"
# (quality still holds 40 from the 5% battery: it may only rise after its
# dwell, so on jpeg_quality the two tie; the value is what matters)
is "$(row 600 fps fps_by cpu_max_khz cpu_max_khz_by upstream_allowed_by jpeg_quality)" \
   "1 thermal 600000 thermal thermal 40" "84 °C: thermal's emergency votes win over the rest"
like "$TMP/known.out.csv" '^600,.*framerate: battery 90% \(high\), user active, motion high: 15 fps.*thermal: 84\.0°C \(crit 85\): emergency' \
   "why records every policy's reason"
like "$TMP/known.out.csv" '^700,.*thermal: temp unknown \(missing\): emergency' "empty cell: unknown, said in the why"
like "$TMP/known.out" '^mode: normal 5\.0 min \(37\.5%\), saver 100 s \(12\.5%\), critical 100 s \(12\.5%\), full 5\.0 min \(37\.5%\)' \
   "summary: time in each mode"
like "$TMP/known.out" '^fps: mean [0-9.]+, min 1, max 15, [0-9]+ changes' "summary: fps"
like "$TMP/known.out" '^policy errors: none' "summary: no errors"

# A full day at 1 s steps (generous bound; no timing assertion).  Under
# qemu-user the Makefile asks for 10 s steps (PERCH_SIM_DAY_STEP): the same
# code, a tenth of the emulated minutes.
step=${PERCH_SIM_DAY_STEP:-1}
rows=$((86400 / step + 2))
perch run policies/traces/generate.lua --set lua.budget=0 --set trace.kind=discharge \
    --set trace.step="$step" --set trace.out="$TMP/day.csv" 2>/dev/null
is "$(grep -vc '^#' "$TMP/day.csv")" "$rows" "generated a day at $step s steps"
# shellcheck disable=SC2086
start day sim $POL --trace "$TMP/day.csv" --out "$TMP/day.out.csv" --plot "$TMP/day.svg"
wait_exit "$PID" 600
is "$STATUS" 0 "24 h trace replays: exit 0"
is "$(wc -l <"$TMP/day.out.csv")" "$rows" "one decision per row"
like "$TMP/day.out" '^mode: normal .*saver .*full .*critical ' "the day passes through every mode"
/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$TMP/day.svg" 2>"$TMP/xml.err"
ok $? "the 24 h plot parses as XML"
sz=$(wc -c <"$TMP/day.svg")
ok "$([ "$sz" -lt 2000000 ] && echo 0 || echo 1)" "the 24 h plot is decimated ($sz bytes)"

# --plot and --compare: a tuned framerate replaces the default in a second set.
cat >"$TMP/tuned.lua" <<LUA
local p = dofile("policies/framerate.lua")
p:set{ fps_idle = 2, fps_mid = 2 }
return p
LUA
# shellcheck disable=SC2086
perch sim $POL --trace policies/traces/discharge.csv --plot "$TMP/cmp.svg" --compare "$TMP/tuned.lua" \
    >"$TMP/cmp.out" 2>"$TMP/cmp.err"
is "$?" 0 "--compare: exit 0"
like "$TMP/cmp.out" '^== compare: framerate, power, quality, thermal' "summary of the compared set"
m1=$(grep -m1 '^fps: mean' "$TMP/cmp.out" | sed 's/fps: mean \([0-9.]*\).*/\1/')
m2=$(grep '^fps: mean' "$TMP/cmp.out" | sed -n 2p | sed 's/fps: mean \([0-9.]*\).*/\1/')
ok "$(awk -v a="$m1" -v b="$m2" 'BEGIN { exit !(b < a) }'; echo $?)" "the tuned set has a lower mean fps ($m2 < $m1)"
/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$TMP/cmp.svg"
ok $? "the --compare plot parses as XML"
# The series names appear as text (legend) or attribute values somewhere.
/usr/bin/python3 - "$TMP/cmp.svg" >"$TMP/names.out" <<'PY'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
seen = set()
for el in doc.getElementsByTagName("*"):
    for v in el.attributes.values():
        seen.add(v.value.strip())
    for c in el.childNodes:
        if c.nodeType == c.TEXT_NODE:
            seen.add(c.data.strip())
for name in ["battery", "temp", "motion", "fps", "jpeg_quality", "mode", "fps (compare)", "mode (compare)"]:
    print(name, "yes" if name in seen else "no")
print("dashed", "yes" if any(el.getAttribute("stroke-dasharray") for el in doc.getElementsByTagName("*")) else "no")
PY
for s in battery temp motion fps jpeg_quality mode "fps (compare)" "mode (compare)"; do
    is "$(grep -c "^$s yes$" "$TMP/names.out")" 1 "plot has the series '$s'"
done
is "$(grep -c '^dashed yes$' "$TMP/names.out")" 1 "compared series are dashed"
# What a browser would show: librsvg renders it, and the picture is not blank
# (some pixels are neither the white background nor grey axes/text).
rsvg-convert -o "$TMP/cmp.png" "$TMP/cmp.svg" 2>"$TMP/rsvg.err"
ok $? "rsvg-convert renders the --compare plot" || sed 's/^/# /' "$TMP/rsvg.err"
/usr/bin/python3 - "$TMP/cmp.png" >"$TMP/px" 2>&1 <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
coloured = sum(1 for r, g, b in im.getdata() if max(r, g, b) - min(r, g, b) > 60)
print(im.size[0], im.size[1], coloured)
PY
read -r pw ph pc <"$TMP/px"
ok "$([ "${pc:-0}" -gt 2000 ] && echo 0 || echo 1)" "the rendered plot shows coloured lines (${pw:-?}x${ph:-?}, ${pc:-0} coloured pixels)"

# --stuck: a temperature stuck at one value becomes unknown.
# shellcheck disable=SC2086
perch sim $POL --trace policies/traces/noisy.csv --stuck temp=30 --out "$TMP/noisy.out.csv" >/dev/null 2>&1
like "$TMP/noisy.out.csv" '^1300,.*temp unknown \(stuck\)' "--stuck temp=30: stuck reading treated as unknown"
unlike "$TMP/noisy.out.csv" '^1100,.*temp unknown' "before the stuck period the reading is used"

# Bad traces: file:line and exit 1.
printf 'time,battery\n0,50\n1,49\nabc,48\n' >"$TMP/bad1.csv"
perch sim policies/power.lua --trace "$TMP/bad1.csv" >/dev/null 2>"$TMP/bad1.err"
is "$?" 1 "bad time: exit 1"
like "$TMP/bad1.err" "bad1\.csv:4: time 'abc' is not a number" "bad time: file:line"
printf 'time,battery,on_ac\n0,50,1\n1,49\n' >"$TMP/bad2.csv"
perch sim policies/power.lua --trace "$TMP/bad2.csv" >/dev/null 2>"$TMP/bad2.err"
like "$TMP/bad2.err" "bad2\.csv:3: 2 fields, the header has 3" "short row: file:line"
printf '# c\ntime,battery,on_ac\n0,50,1\n5,150,yes\n' >"$TMP/bad3.csv"
perch sim policies/power.lua --trace "$TMP/bad3.csv" >/dev/null 2>"$TMP/bad3.err"
like "$TMP/bad3.err" "bad3\.csv:4: battery 150 is out of range \[0, 100\]" "out-of-range value: file:line"

# Bad policy files and usage.
printf 'return {\n  name = \n' >"$TMP/broken.lua"
perch sim "$TMP/broken.lua" --trace "$TMP/known.csv" >/dev/null 2>"$TMP/broken.err"
is "$?" 1 "policy with a syntax error: exit 1"
like "$TMP/broken.err" "broken\.lua:3:" "policy syntax error: file:line"
perch sim policies/power.lua >/dev/null 2>"$TMP/u1.err"
is "$?" 2 "no --trace: exit 2"
like "$TMP/u1.err" "usage: perch sim" "usage on stderr"
