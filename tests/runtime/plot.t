#!/usr/bin/env bash
# perch.plot from a script run by perch: the SVG it writes parses as XML
# (Python's minidom), holds every series, and renders with librsvg
# (rsvg-convert) to a PNG that shows the lines (counted with python3-pil).
# Bad input stops the script with file:line naming the panel and series.
. "$(dirname "$0")/lib.sh"
plan 11

app=$(script write <<LUA
local plot = require "perch.plot"
local t, bat, fps, other, mode = {}, {}, {}, {}, {}
for i = 1, 7200 do
  t[i] = (i - 1) * 5                                  -- 10 h at 0.2 Hz
  bat[i] = (i % 1000 > 50) and 100 - i / 100 or nil   -- with gaps
  fps[i] = i < 3000 and 15 or 5
  other[i] = i < 5000 and 12 or 8
  mode[i] = i < 3000 and "full" or "saver"
end
local svg = plot.svg{ title = "replay <A&B>", width = 900, panels = {
  { title = "battery", unit = "%", min = 0, max = 100, series = { { name = "battery", t = t, v = bat } } },
  { title = "fps", series = { { name = "fps", t = t, v = fps, step = true },
                              { name = "fps (other)", t = t, v = other, step = true, dashed = true } } },
  { title = "mode", series = { { name = "mode", t = t, v = mode } } },
} }
local f = assert(io.open("$TMP/out.svg", "w"))
f:write(svg)
f:close()
print("wrote " .. #svg)
LUA
)
perch run "$app" >"$TMP/out" 2>"$TMP/err"
ok $? "perch run wrote the plot"
like "$TMP/out" "^wrote [0-9]+$" "the script printed its size"

/usr/bin/python3 - "$TMP/out.svg" >"$TMP/xml" 2>&1 <<'PY'
import sys, xml.dom.minidom as m
doc = m.parse(sys.argv[1])
svg = doc.documentElement
print("root", svg.tagName, svg.getAttribute("xmlns"), svg.getAttribute("viewBox"),
      svg.getAttribute("width"), svg.getAttribute("height"))
print("title", doc.getElementsByTagName("title")[0].firstChild.data)
for p in doc.getElementsByTagName("path"):
    for t in p.getElementsByTagName("title"):
        print("series", t.firstChild.data, len(p.getAttribute("d").split()), "dashed" if p.getAttribute("stroke-dasharray") else "solid")
PY
ok $? "the SVG parses as XML"
like "$TMP/xml" '^root svg http://www.w3.org/2000/svg 0 0 900 [0-9]+ 900 [0-9]+$' "svg root with xmlns, viewBox, width and height"
like "$TMP/xml" '^title replay <A&B>$' "the escaped title reads back as written"
is "$(grep -c '^series' "$TMP/xml") $(grep -Ec '^series (battery|fps|fps \(other\)|mode) [0-9]+ ' "$TMP/xml") $(grep -c 'other).*dashed' "$TMP/xml")" \
   "4 4 1" "every series is a path titled by its name; the overlay is dashed"

# Render and look at the pixels: size as declared, a white background, and
# enough pixels in the first two series colours (blue solid, red dashed).
rsvg-convert -o "$TMP/out.png" "$TMP/out.svg" 2>"$TMP/rsvg.err"
ok $? "rsvg-convert renders it" || sed 's/^/# /' "$TMP/rsvg.err"
/usr/bin/python3 - "$TMP/out.png" "$(sed -n 's/^root svg [^ ]* 0 0 \([0-9]*\) \([0-9]*\) .*/\1x\2/p' "$TMP/xml")" >"$TMP/px" 2>&1 <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
colors = im.getcolors(im.size[0] * im.size[1])   # (count, rgb) per distinct colour
total = im.size[0] * im.size[1]
near = lambda c: sum(n for n, p in colors if sum(abs(a - b) for a, b in zip(p, c)) < 60)
print("size %dx%d" % im.size, "want", sys.argv[2])
print("white %.3f blue %d red %d" % (near((255, 255, 255)) / total, near((31, 119, 180)), near((214, 39, 40))))
PY
w=$(sed -n 's/^size \([0-9x]*\) want \(.*\)$/\1 \2/p' "$TMP/px")
is "${w% *}" "${w#* }" "the PNG has the declared size"
read -r _ white _ blue _ red <<<"$(grep '^white' "$TMP/px")"
/usr/bin/python3 -c "import sys; sys.exit(0 if 0.5 < $white < 0.995 and $blue > 2000 and $red > 300 else 1)"
ok $? "not blank: white background ($white), blue ($blue) and red dashed ($red) lines" || sed 's/^/# /' "$TMP/px"

bad=$(script bad <<'LUA'
local plot = require "perch.plot"
plot.svg{ panels = { { title = "temperature", series = {
  { name = "temp", t = { 0, 1, 2 }, v = { 40, "hot", 42 } } } } } }
LUA
)
perch run "$bad" >"$TMP/bad.out" 2>"$TMP/bad.err"
is "$?" 1 "bad input stops the main chunk (exit 1)"
like "$TMP/bad.err" 'bad\.lua:2: plot: panel 1 \("temperature"\), series 1 \("temp"\): v\[2\] is "hot", expected a number or nil' \
     "the error names the script line, panel, series and sample"
