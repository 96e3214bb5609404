-- perch.plot: document structure, escaping, step/dashed/gap drawing, axes,
-- categorical panels, decimation of a day of 1 Hz samples, and bad input.
local t = require "perch.test"
local plot = require "perch.plot"

local function series(n, f)
  local tt, vv = {}, {}
  for i = 1, n do tt[i] = i - 1; vv[i] = f(i) end
  return tt, vv
end
local function one(s, panel)  -- a document with one panel holding series s
  panel = panel or {}
  panel.series = { s }
  return plot.svg{ width = 600, panels = { panel } }
end
-- The d attribute of the path titled name (the drawn series, not its swatch).
local function path_of(svg, name)
  return svg:match('<path d="([^"]*)"[^>]*><title>' .. name:gsub("%p", "%%%0") .. "</title>")
end
local function points(d)
  local n = 0
  for _ in d:gmatch("[%d.]+,[%d.]+") do n = n + 1 end
  return n
end
local function ylabels(svg)  -- the y tick labels, in document order
  local out = {}
  for l in svg:gmatch('text%-anchor="end">([^<]*)</text>') do out[#out + 1] = l end
  return table.concat(out, " ")
end

-- A standalone document.
local tt, vv = series(10, function(i) return i * 1.5 end)
local svg = plot.svg{ title = "replay", width = 800, panels = {
  { title = "battery", unit = "%", min = 0, max = 100, series = { { name = "battery", t = tt, v = vv } } },
  { title = "fps", series = { { name = "fps", t = tt, v = vv, step = true },
                              { name = "fps (other)", t = tt, v = vv, step = true, dashed = true } } },
} }
t.like(svg, '^<%?xml version="1.0" encoding="UTF%-8"%?>\n<svg xmlns="http://www.w3.org/2000/svg" width="800" height="%d+" viewBox="0 0 800 %d+"',
       "XML declaration, xmlns, width, height and viewBox")
t.like(svg, "</svg>\n$", "the document is closed")
t.ok(path_of(svg, "battery") and path_of(svg, "fps") and path_of(svg, "fps (other)"), "one path per series, titled by its name")
local colors = {}
for c in svg:gmatch('stroke="(#%x+)" stroke%-width="1.5"') do colors[#colors + 1] = c end
t.ok(#colors == 3 and colors[2] ~= colors[3], "series of a panel get distinct colours")
t.like(svg, '<path d="[^"]*" fill="none" stroke="#%x+" stroke%-width="1.5" stroke%-linejoin="round" stroke%-linecap="round" stroke%-dasharray="6 3"[^>]*><title>fps %(other%)',
       "dashed = true gives a dashed line")
t.like(svg, '<path d="M[%d.,]+h18" stroke="#%x+" stroke%-width="2" stroke%-dasharray="6 3"/><text[^>]*>fps %(other%)</text>',
       "the legend shows the dashed swatch and the name")
t.like(svg, '<text transform="translate%(12 [%d.]+%) rotate%(%-90%)"[^>]*>%%</text>', "the unit labels the y axis")
t.like(ylabels(svg), "^0 20 40 60 80 100 2%.5 ", "min/max = 0/100: ticks every 20")
t.like(svg, "<clipPath id=\"clip2\">", "each panel clips its series")

-- Escaping.
local esc = plot.svg{ title = 'a<b & "c" \'d\'\1', panels = {
  { title = "T<", unit = "°C", series = { { name = "x&y", t = { 0, 1 }, v = { 1, 2 } } } } } }
t.like(esc, "<title>a&lt;b &amp; &quot;c&quot; &#39;d&#39;</title>", "title escaped (and a control character dropped)")
t.like(esc, ">x&amp;y</text>", "series name escaped in the legend")
t.like(esc, ">T&lt;</text>", "panel title escaped")
t.like(esc, ">°C</text>", "UTF-8 unit kept as is")
t.ok(not esc:find("x&y", 1, true) and not esc:find("T<", 1, true), "no raw special characters left")

-- Polyline vs step vs gaps.
local line = path_of(one{ name = "s", t = { 0, 10 }, v = { 0, 1 } }, "s")
local step = path_of(one{ name = "s", t = { 0, 10 }, v = { 0, 1 }, step = true }, "s")
t.is(points(line), 2, "a polyline joins two samples directly")
t.is(points(step), 3, "a step line holds the first value, then rises")
local x1, y1, x2, y2, x3, y3 = step:match("M ([%d.]+),([%d.]+) ([%d.]+),([%d.]+) ([%d.]+),([%d.]+)")
t.ok(y1 == y2 and x2 == x3 and y3 ~= y2 and x1 ~= x2, "step: horizontal, then vertical at the second sample")
local gappy = path_of(one{ name = "s", t = { 0, 1, 2, 3, 4, 5, 6 }, v = { 1, 2, nil, 4, 5, 0 / 0, 7 } }, "s")
local _, runs = gappy:gsub("M", "")
t.is(runs, 3, "nil and NaN values break the line")
t.like(gappy, "M [%d.]+,[%d.]+ h0.1$", "a lone sample between gaps shows as a dot")
local trailing = path_of(one{ name = "s", t = { 0, 1, 2, 3 }, v = { 1, 2 } }, "s")
t.is(points(trailing), 2, "v shorter than t: the missing values at the end are gaps")
local allnil = one{ name = "s", t = { 0, 1 }, v = {} }
t.ok(path_of(allnil, "s") ~= nil, "a series of nils only is drawn as nothing, still in the legend")
local flat = path_of(one({ name = "s", t = { 0, 1, 2, 3 }, v = { 2, 2, 2, 3 }, step = true }), "s")
t.is(points(flat), 3, "a step line skips samples that do not change it")

-- Axes.
local _, v97 = series(98, function(i) return i - 1 end)
t.is(ylabels(one{ name = "s", t = select(1, series(98, function() end)), v = v97 }), "0 20 40 60 80 100",
     "auto range 0..97: padded, round ticks inside")
local const = one{ name = "s", t = { 0, 1, 2 }, v = { 42, 42, 42 } }
t.like(ylabels(const), "^%d+ .*42", "a constant series gets a range around it")
t.like(ylabels(one{ name = "s", t = { 0, 1 }, v = { 0.1, 0.35 } }), "^0%.10 0%.15 0%.20 0%.25 0%.30 0%.35$",
       "fractional ticks have as many decimals as the step")
local function xlabels(t0, t1)
  local s = one{ name = "s", t = { t0, t1 }, v = { 1, 2 } }
  local out = {}
  for l in s:gmatch('text%-anchor="middle">([^<]*)</text>') do out[#out + 1] = l end
  return table.concat(out, " ") .. " | " .. s:match(">(time [^<]*)</text>")
end
t.is(xlabels(0, 100), "0s 30s 60s 90s | time (s)", "100 s span: seconds")
t.is(xlabels(0, 3600), "0min 15min 30min 45min 60min | time (min)", "1 h span: minutes")
t.is(xlabels(0, 86400), "0h 6h 12h 18h 24h | time (h)", "1 day span: hours")
t.is(xlabels(7200, 10800), "2:00 2:15 2:30 2:45 3:00 | time (h:mm)", "an hour late in a trace: hours:minutes")
t.is(xlabels(0, 2), "0.0s 0.5s 1.0s 1.5s 2.0s | time (s)", "sub-second steps")

-- Categorical panels.
local mode = plot.svg{ panels = { { title = "mode", levels = { "off" }, series = {
  { name = "mode", t = { 0, 1, 2, 3 }, v = { "full", "saver", nil, "full" } },
  { name = "mode (other)", t = { 0, 1, 2, 3 }, v = { "full", "full", "off", "off" }, dashed = true } } } } }
t.is(ylabels(mode), "off full saver", "levels first, then strings in order of appearance")
local _, mruns = path_of(mode, "mode"):gsub("M", "")
t.is(mruns, 2, "a categorical series is a step line with its gaps")

-- Decimation: a day of 1 Hz samples for 6 series.
local seed = 1
local function rnd() seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 end
local day, panels = select(1, series(86400, function() end)), {}
for p = 1, 6 do
  local v = {}
  for i = 1, 86400 do v[i] = p * 10 + rnd() * 5 end
  panels[p] = { title = "p" .. p, series = { { name = "s" .. p, t = day, v = v, step = p > 4 } } }
end
local big = plot.svg{ width = 1200, panels = panels }
t.ok(#big < 500 * 1024, ("6 x 86400 samples: %d bytes (< 500 KiB)"):format(#big))
local most = 0
for p = 1, 6 do most = math.max(most, points(path_of(big, "s" .. p))) end
t.ok(most <= 4 * 1200, ("at most 4 points per pixel column (%d points)"):format(most))
t.ok(points(path_of(big, "s1")) >= 1000, "the polyline still spans every column")

-- Bad input: an error at the caller's line naming the panel and the series.
local function bad(spec, pattern, name)
  t.raises(function() plot.svg(spec) end, "^[^:]*plot%.lua:%d+: plot: .*" .. pattern, name)
end
local function P(s, extra)
  local p = extra or {}
  p.title, p.series = p.title or "bat", { s }
  return { panels = { p } }
end
bad(nil, "svg%(%) expects a table", "no table")
bad({ panels = {} }, "panels is missing or empty", "no panels")
bad({ width = 10, panels = {} }, "width must be", "absurd width")
bad({ panels = { { title = "x" } } }, 'panel 1 %("x"%): series is missing', "panel without series")
bad(P{ name = "b", v = { 1 } }, 'panel 1 %("bat"%), series 1 %("b"%): t is missing', "missing t")
bad(P{ name = "b", t = { 1 } }, 'series 1 %("b"%): v is missing', "missing v")
bad(P{ name = "b", t = {}, v = {} }, '"b"%): empty series', "empty series")
bad(P{ name = "b", t = { 0, 1 }, v = { 1, 2, 3 } }, '"b"%): v has 3 values but t has 2', "v longer than t")
bad(P{ name = "b", t = { 0, 1, 2 }, v = table.pack(1, 2) }, '"b"%): v has 2 values but t has 3', "v.n differs from #t")
bad(P{ name = "b", t = { 0, 1, 2 }, v = { 1, "2", 3 } }, '"b"%): v%[2%] is "2", expected a number or nil', "string in a numeric series")
bad(P{ name = "b", t = { 0, 1, 2 }, v = { 1, 2, true } }, '"b"%): v%[3%] is true, expected a number', "boolean value")
bad(P{ name = "b", t = { 0, "1", 2 }, v = { 1, 2, 3 } }, '"b"%): t%[2%] is "1", expected a number', "string time")
bad(P{ name = "b", t = { 0, 0 / 0, 2 }, v = { 1, 2, 3 } }, "t%[2%] is NaN, expected a number", "NaN time")
bad(P{ name = "b", t = { 0, 5, 2 }, v = { 1, 2, 3 } }, "t%[3%] = 2 is before t%[2%]", "time going back")
bad(P{ name = "m", t = { 0, 1 }, v = { "full", 3 } }, '"m"%): v%[2%] is 3, expected a string %(category%)', "number in a categorical series")
bad({ panels = { { title = "mix", series = { { name = "a", t = { 0 }, v = { 1 } }, { name = "b", t = { 0 }, v = { "x" } } } } } },
    'panel 1 %("mix"%): series 2 %("b"%) has string values, series 1 has numeric', "numbers and strings in one panel")
bad(P({ name = "b", t = { 0, 1 }, v = { 1, 2 } }, { min = 5, max = 5 }), "min %(5%) must be below max %(5%)", "min == max")
bad(P({ name = "b", t = { 0, 1 }, v = { 1, 2 } }, { min = "0" }), 'min is "0", expected a number', "string min")
bad(P({ name = "m", t = { 0 }, v = { "a" } }, { levels = "a,b" }), 'levels is "a,b", expected a table', "levels not a table")
bad(P({ name = "m", t = { 0 }, v = { "a" } }, { levels = { "a", 2 } }), "levels%[2%] is 2, expected a string", "a level not a string")
t.like(plot.svg{ width = 640.7, panels = { { title = 7, series = { { name = 8, t = { 0 }, v = { 1 } } } } } },
       'width="640".*>7</text>.*>8</text>', "numbers as names, a fractional width, a single sample")
bad({ panels = { { series = { { t = { 0 }, v = { 1 } }, "x" } } } }, 'panel 1, series 2 is "x", expected a table', "series not a table")

t.done()
