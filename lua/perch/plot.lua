-- perch.plot - time series to a standalone SVG document.
--
--   local svg = require("perch.plot").svg{ title = "replay", width = 1200, panels = {
--     { title = "battery", unit = "%", min = 0, max = 100, series = {
--       { name = "battery", t = {0, 1, ...}, v = {100, 99.9, ...} },
--       { name = "fps (other)", t = ..., v = ..., step = true, dashed = true } } },
--     { title = "mode", series = { { name = "mode", t = ..., v = {"full", "saver", ...} } } },
--   } }
--
-- `perch sim` uses it to show what the policies saw and decided over a trace.
-- Panels are stacked and share the time axis (t in seconds); each has its own
-- y axis, legend and grid.  v[i] == nil (or NaN/inf) leaves a gap.  A panel
-- whose values are strings (a mode) is categorical: each distinct string is a
-- level, in order of first appearance (or `levels = {...}` first), and the
-- series are drawn as steps between levels.  Every series is reduced to at
-- most a few points per pixel column (its first, min, max and last value
-- there), so a day of 1 Hz samples costs about as much as a thousand.
-- Bad input raises an error naming the panel, the series and the index.

local M = {}

local floor, ceil, max, min, huge, log = math.floor, math.ceil, math.max, math.min, math.huge, math.log
local fmt, concat, type = string.format, table.concat, type

local PALETTE = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                  "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22" }
-- Layout, px.  The left margin grows with the widest y tick label.
local TOP, HEAD, GAP, BOTTOM, MR, CHAR = 40, 22, 12, 44, 16, 6.4

-- Errors are raised as a marked table, so svg() can re-raise the message at
-- the caller's file:line and let anything else (a bug, out of memory) through.
local function fail(f, ...) error({ plot_error = "plot: " .. fmt(f, ...) }, 0) end

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
-- Text for XML: special characters escaped, control characters (invalid in
-- XML 1.0) dropped, bytes of invalid UTF-8 replaced.
local function esc(s)
  s = tostring(s)
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end
  return (s:gsub("[%c&<>\"']", function(c) return ESC[c] or "" end))
end

local function show(x)  -- a value as an error message shows it
  if x ~= x then return "NaN" end
  return type(x) == "string" and fmt("%q", x) or tostring(x)
end

-- The smallest 1, 2, 2.5 or 5 times a power of ten that is >= x (> 0).
local function nice(x)
  local e = 10 ^ floor(log(x, 10))
  for _, m in ipairs { 1, 2, 2.5, 5, 10 } do
    if m * e >= x * (1 - 1e-9) then return m * e end
  end
end

-- Decimal places that show every multiple of step exactly.
local function decimals(step)
  for d = 0, 6 do
    local s = step * 10 ^ d
    if math.abs(s - floor(s + 0.5)) < 1e-6 * s then return d end
  end
  return 6
end

-- Multiples of step within [lo, hi].
local function multiples(lo, hi, step)
  local out = {}
  for k = ceil(lo / step - 1e-9), floor(hi / step + 1e-9) do out[#out + 1] = k * step + 0.0 end
  return out
end

------------------------------------------------------------------ time axis

local TSTEPS = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
                 10800, 21600, 43200, 86400, 172800, 604800 }

-- Ticks and their labels for a span of seconds: "30s", "45min", "6h" or
-- "14:30" (hours:minutes from 0) depending on the step, plus the caption.
local function time_ticks(t0, t1, pw)
  local span, want = t1 - t0, max(2, floor(pw / 110))
  local step
  if span / want < 1 then step = nice(span / want) end
  for _, s in ipairs(TSTEPS) do
    if not step and span / s <= want then step = s end
  end
  step = step or nice(span / want / 86400) * 86400
  local label, caption
  if step < 60 then
    local d = decimals(step)
    label, caption = function(v) return fmt("%." .. d .. "f", v) .. "s" end, "time (s)"
  elseif step < 3600 and t1 <= 7200 then
    label, caption = function(v) return fmt("%d", v // 60) .. "min" end, "time (min)"
  elseif step % 3600 == 0 then
    label, caption = function(v) return fmt("%d", v // 3600) .. "h" end, "time (h)"
  else
    label, caption = function(v)
      local a = math.abs(v)
      return fmt("%s%d:%02d", v < 0 and "-" or "", a // 3600, a % 3600 // 60)
    end, "time (h:mm)"
  end
  local ticks = multiples(t0, t1, step)
  for i, v in ipairs(ticks) do ticks[i] = { v = v, label = label(v) } end
  return ticks, caption
end

----------------------------------------------------------------- reduction

-- The slow check of every sample, run only when the fast pass in reduce()
-- hit a Lua error, to say which sample is wrong and how.
local function check_samples(s, who, cat)
  local tprev, want = -huge, cat and "string" or "number"
  for i = 1, #s.t do
    local ti, vi = s.t[i], s.v[i]
    if type(ti) ~= "number" or ti ~= ti then fail("%s: t[%d] is %s, expected a number", who, i, show(ti)) end
    if ti < tprev then fail("%s: t[%d] = %s is before t[%d] (t must not decrease)", who, i, show(ti), i - 1) end
    tprev = ti
    if vi ~= nil and type(vi) ~= want then
      fail("%s: v[%d] is %s, expected a %s or nil", who, i, show(vi), cat and "string (category)" or "number")
    end
  end
end

-- One pass over a series, reducing it to per-pixel-column extremes.  Returns
-- its runs (stretches between gaps) and the range of its values.  A run is a
-- flat array of 5 slots per column: col, first, a, b, last, where a and b are
-- the column's min and max in time order; run.stop is the column where a
-- step line ends (where the gap begins).  index (string -> level) and names
-- (level -> string) are set for a categorical panel; new strings become new
-- levels.  This loop is the cost of a plot (~20 VM instructions a sample),
-- so it has no type() calls: a non-number raises at an arithmetic or a
-- comparison, and check_samples() then names it.
local function reduce(s, who, t0, scale, ncol, index, names)
  local t, v, n = s.t, s.v, #s.t
  local runs, run, k = {}, nil, 0
  local col, first, lo, hi, loi, hii, last
  local vmin, vmax, tprev = huge, -huge, -huge
  local function flush()
    local a, b = lo, hi
    if hii < loi then a, b = hi, lo end
    run[k + 1], run[k + 2], run[k + 3], run[k + 4], run[k + 5] = col, first, a, b, last
    k = k + 5
    if lo < vmin then vmin = lo end
    if hi > vmax then vmax = hi end
  end
  for i = 1, n do
    local ti, vi = t[i], v[i]
    if not (ti >= tprev) then check_samples(s, who, index) end  -- NaN or decreasing
    tprev = ti
    local c = (ti - t0) * scale // 1
    if c >= ncol then c = ncol - 1 end
    if index and vi ~= nil then
      local l = index[vi]
      if not l then
        if type(vi) ~= "string" then check_samples(s, who, true) end
        l = #names + 1
        names[l], index[vi] = vi, l
      end
      vi = l
    end
    if vi == nil or vi - vi ~= 0 then  -- a gap: nil, NaN or +-inf
      if run then flush(); run.stop = c; run = nil end
    elseif not run or c ~= col then
      if run then flush() else run, k = {}, 0; runs[#runs + 1] = run end
      col, first, lo, hi, last, loi, hii = c, vi, vi, vi, vi, i, i
    else
      if vi < lo then lo, loi = vi, i elseif vi > hi then hi, hii = vi, i end
      last = vi
    end
  end
  if run then flush(); run.stop = col end
  return runs, vmin, vmax
end

-- The SVG path of a series' runs; X(col) and Y(v) map to px.  Polylines get
-- each column's min and max; step lines hold the last value until the next
-- change, so a decision that rarely changes costs a few points.
local function path(runs, step, X, Y)
  local d = {}
  local function pt(x, y) d[#d + 1] = fmt("%.1f,%.1f", x, y) end
  for _, run in ipairs(runs) do
    d[#d + 1] = "M"
    local np = #d
    if step then
      local cur, last
      for j = 1, #run, 5 do
        local f, a, b, l = run[j + 1], run[j + 2], run[j + 3], run[j + 4]
        if not (f == cur and a == cur and b == cur and l == cur) then
          local x = X(run[j])
          last = run[j]
          if cur then pt(x, Y(cur)) end
          local prev = cur
          for _, y in ipairs { a, b, l } do  -- f lies on the vertical a..b
            if y ~= prev then pt(x, Y(y)); prev = y end
          end
          cur = l
        end
      end
      if run.stop > last then pt(X(run.stop), Y(cur)) end
    else
      for j = 1, #run, 5 do
        local x, ya, yb = X(run[j]), Y(run[j + 2]), Y(run[j + 3])
        pt(x, ya)
        if math.abs(yb - ya) >= 0.05 then pt(x, yb) end
      end
    end
    if #d == np + 1 then d[#d + 1] = "h0.1" end  -- a lone point shows as a dot
  end
  return concat(d, " ")
end

--------------------------------------------------------------------- input

local function check_series(s, who)
  if type(s) ~= "table" then fail("%s is %s, expected a table", who, show(s)) end
  if type(s.t) ~= "table" then fail("%s: t is missing (a table of times in seconds)", who) end
  if type(s.v) ~= "table" then fail("%s: v is missing (a table of values)", who) end
  local n = #s.t
  if n == 0 then fail("%s: empty series (no samples in t)", who) end
  -- v may end in nils (trailing gaps), so only a longer v is certain to be
  -- wrong, or a declared count (table.pack's n) that differs.
  if #s.v > n or s.v[n + 1] ~= nil or (s.v.n and s.v.n ~= n) then
    fail("%s: v has %d values but t has %d", who, s.v.n or #s.v, n)
  end
  for _, i in ipairs { 1, n } do
    if type(s.t[i]) ~= "number" or s.t[i] ~= s.t[i] then
      fail("%s: t[%d] is %s, expected a number", who, i, show(s.t[i]))
    end
  end
end

-- Whether a panel holds strings: its levels, or its first non-nil value.
local function categorical(p, pwho)
  if p.levels ~= nil then
    if type(p.levels) ~= "table" then fail("%s: levels is %s, expected a table of strings", pwho, show(p.levels)) end
    return true
  end
  local kind, by
  for j, s in ipairs(p.series) do
    for i = 1, #s.t do
      local x = s.v[i]
      if x ~= nil then
        local this = type(x) == "string"
        if kind ~= nil and this ~= kind then
          fail("%s: series %d (%s) has %s values, series %d has %s", pwho, j, show(s.name),
               this and "string" or "numeric", by, kind and "string" or "numeric")
        end
        kind, by = this, j
        break
      end
    end
  end
  return kind == true
end

-- The y axis of a numeric panel: its range, given by min/max or the data's
-- padded by 5% (a constant series gets +-10% first), and ticks at the round
-- multiples (1, 2, 2.5, 5 x 10^k) of about a sixth of it that fall inside.
local function numeric_axis(p, lo, hi, pwho)
  for _, key in ipairs { "min", "max" } do
    if p[key] ~= nil and (type(p[key]) ~= "number" or p[key] ~= p[key]) then
      fail("%s: %s is %s, expected a number", pwho, key, show(p[key]))
    end
  end
  if lo > hi then lo, hi = 0, 1 end  -- no data at all
  lo, hi = p.min or lo, p.max or hi
  if lo == hi then
    local pad = lo == 0 and 1 or math.abs(lo) * 0.1
    lo, hi = p.min or lo - pad, p.max or hi + pad
  end
  if lo >= hi then fail("%s: min (%s) must be below max (%s)", pwho, show(lo), show(hi)) end
  local pad = (hi - lo) * 0.05
  lo, hi = p.min or lo - pad, p.max or hi + pad
  local step = nice((hi - lo) / 6)
  local d, ticks = decimals(step), multiples(lo, hi, step)
  for i, v in ipairs(ticks) do ticks[i] = { v = v, label = fmt("%." .. d .. "f", v) } end
  return lo, hi, ticks
end

--------------------------------------------------------------------- output

function M.svg(spec)
  local ok, res = pcall(function()
    if type(spec) ~= "table" then fail("svg() expects a table, got %s", show(spec)) end
    local W = spec.width or 1000
    if type(W) ~= "number" or not (W >= 200 and W <= 20000) then fail("width must be a number of px in 200..20000") end
    W = floor(W)
    local panels = spec.panels
    if type(panels) ~= "table" or #panels == 0 then fail("panels is missing or empty") end

    -- Checks, and the time range every panel shares.
    local t0, t1 = huge, -huge
    for pi, p in ipairs(panels) do
      local pwho = fmt("panel %d%s", pi, type(p) == "table" and p.title and " (" .. show(p.title) .. ")" or "")
      if type(p) ~= "table" then fail("%s is %s, expected a table", pwho, show(p)) end
      if type(p.series) ~= "table" or #p.series == 0 then fail("%s: series is missing or empty", pwho) end
      p.who = pwho
      for si, s in ipairs(p.series) do
        local who = fmt("%s, series %d%s", pwho, si, type(s) == "table" and s.name and " (" .. show(s.name) .. ")" or "")
        check_series(s, who)
        t0, t1 = min(t0, s.t[1]), max(t1, s.t[#s.t])
      end
    end
    if t1 == t0 then t0, t1 = t0 - 0.5, t1 + 0.5 end

    -- Reduce every series to the pixel columns; the plot width depends on
    -- the left margin and that on the tick labels, so take the widest
    -- plausible margin for the columns and the real one for the layout.
    local axes, ML = {}, 0
    local pw0 = floor(W - MR - 80)
    local scale = pw0 / (t1 - t0)
    for pi, p in ipairs(panels) do
      local ax = { runs = {} }
      local lo, hi = huge, -huge
      if categorical(p, p.who) then
        ax.names, ax.index = {}, {}
        for i, name in ipairs(p.levels or {}) do
          if type(name) ~= "string" then fail("%s: levels[%d] is %s, expected a string", p.who, i, show(name)) end
          ax.names[i], ax.index[name] = name, i
        end
      end
      for si, s in ipairs(p.series) do
        local who = fmt("%s, series %d%s", p.who, si, s.name and " (" .. show(s.name) .. ")" or "")
        local ok, r, a, b = pcall(reduce, s, who, t0, scale, pw0, ax.index, ax.names)
        if not ok then
          if type(r) ~= "table" then check_samples(s, who, ax.names) end
          error(r, 0)
        end
        ax.runs[si], lo, hi = r, min(lo, a), max(hi, b)
      end
      if ax.names then
        ax.lo, ax.hi, ax.ticks = 0.5, max(#ax.names, 1) + 0.5, {}
        for i, name in ipairs(ax.names) do ax.ticks[i] = { v = i, label = tostring(name) } end
      else
        ax.lo, ax.hi, ax.ticks = numeric_axis(p, lo, hi, p.who)
      end
      for _, tk in ipairs(ax.ticks) do ML = max(ML, #tk.label) end
      axes[pi] = ax
    end
    ML = min(80, floor(ML * CHAR + 30))
    -- Columns were cut at the widest margin; stretch them over the real width.
    local pw = W - ML - MR
    local function X(col) return ML + (col + 0.5) * pw / pw0 end

    local out = {}
    local function add(f, ...) out[#out + 1] = fmt(f, ...) end
    local heights, H = {}, TOP
    for pi, p in ipairs(panels) do
      heights[pi] = max(40, floor(tonumber(p.height) or 130))
      H = H + HEAD + heights[pi] + GAP
    end
    H = H - GAP + BOTTOM
    local title = spec.title and esc(spec.title) or "perch plot"
    add('<?xml version="1.0" encoding="UTF-8"?>\n')
    add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        .. 'font-family="sans-serif" font-size="11">\n<title>%s</title>\n', W, H, W, H, title)
    add('<rect width="100%%" height="100%%" fill="#fff"/>\n')
    add('<text x="%.1f" y="24" text-anchor="middle" font-size="16" font-weight="bold">%s</text>\n', W / 2, title)

    local tticks, caption = time_ticks(t0, t1, pw)
    local function TX(t) return ML + (t - t0) * pw / (t1 - t0) end
    local y = TOP
    for pi, p in ipairs(panels) do
      local ax, ph = axes[pi], heights[pi]
      local top, bot = y + HEAD, y + HEAD + ph
      local function Y(v) return top + (ax.hi - v) * ph / (ax.hi - ax.lo) end
      add('<g id="panel%d">\n<clipPath id="clip%d"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></clipPath>\n',
          pi, pi, ML, top, pw, ph)
      -- Grid: one path for the horizontal and vertical lines.
      local g = {}
      for _, tk in ipairs(ax.ticks) do g[#g + 1] = fmt("M%.1f,%.1fH%.1f", ML, Y(tk.v), ML + pw) end
      for _, tk in ipairs(tticks) do g[#g + 1] = fmt("M%.1f,%.1fV%.1f", TX(tk.v), top, bot) end
      if #g > 0 then add('<path d="%s" stroke="#e4e4e4" fill="none"/>\n', concat(g)) end
      add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>\n', ML, top, pw, ph)
      for _, tk in ipairs(ax.ticks) do
        add('<text x="%.1f" y="%.1f" dy="0.35em" text-anchor="end">%s</text>\n', ML - 5, Y(tk.v), esc(tk.label))
      end
      if p.unit then
        add('<text transform="translate(12 %.1f) rotate(-90)" text-anchor="middle" dy="0.35em">%s</text>\n',
            (top + bot) / 2, esc(p.unit))
      end
      -- Header: panel title, then the legend.
      local ptitle = esc(p.title or "")
      add('<text x="%.1f" y="%.1f" font-weight="bold">%s</text>\n', ML, top - 7, ptitle)
      local lx = ML + #tostring(p.title or "") * CHAR * 1.1 + 18
      for si, s in ipairs(p.series) do
        local color = s.color and esc(s.color) or PALETTE[(si - 1) % #PALETTE + 1]
        local dash = s.dashed and ' stroke-dasharray="6 3"' or ""
        local name = esc(s.name or "series " .. si)
        add('<path d="M%.1f,%.1fh18" stroke="%s" stroke-width="2"%s/>', lx, top - 11, color, dash)
        add('<text x="%.1f" y="%.1f">%s</text>\n', lx + 22, top - 7, name)
        lx = lx + 36 + #tostring(s.name or "series 00") * CHAR
        add('<path d="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-linejoin="round" '
            .. 'stroke-linecap="round"%s clip-path="url(#clip%d)"><title>%s</title></path>\n',
            path(ax.runs[si], s.step or ax.names, X, Y), color, dash, pi, name)
      end
      add('</g>\n')
      y = bot + GAP
    end
    -- The shared time axis, under the last panel.
    local base = y - GAP
    for _, tk in ipairs(tticks) do
      add('<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>\n', TX(tk.v), base + 15, esc(tk.label))
    end
    add('<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%s</text>\n</svg>\n', ML + pw / 2, base + 34, caption)
    return concat(out)
  end)
  if ok then return res end
  if type(res) == "table" and res.plot_error then error(res.plot_error, 2) end
  error(res, 0)
end

return M
