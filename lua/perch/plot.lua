-- perch.plot - minimal stand-in for the SVG plot module (CONTRACT section
-- 3) so `perch sim --plot` works on this branch; the full module replaces
-- this file.  Panels stacked on one time axis; series decimated to the
-- pixel width (first/min/max/last per pixel column), step lines for
-- decisions, dashed series for a compared set, nil values as gaps.

local M = {}

local COLORS = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b" }
local PANEL_H, GAP, LEFT, RIGHT, TOP = 140, 36, 70, 20, 40

local function esc(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function num(x) return ("%.1f"):format(x) end

-- Path of one series: per pixel column its first, min, max and last value.
local function path(s, px, py)
  local d, col, open, last_y = {}, nil, false, nil
  local first, lo, hi, last
  local function flush()
    if not col then return end
    local x = num(col)
    if not open then
      d[#d + 1] = "M" .. x .. "," .. num(py(first))
      open = true
    elseif s.step and last_y then
      d[#d + 1] = "L" .. x .. "," .. num(py(last_y))
      d[#d + 1] = "L" .. x .. "," .. num(py(first))
    else
      d[#d + 1] = "L" .. x .. "," .. num(py(first))
    end
    if lo ~= first then d[#d + 1] = "L" .. x .. "," .. num(py(lo)) end
    if hi ~= lo then d[#d + 1] = "L" .. x .. "," .. num(py(hi)) end
    if last ~= hi then d[#d + 1] = "L" .. x .. "," .. num(py(last)) end
    last_y = last
  end
  local n = math.max(#s.t, 0)
  for i = 1, n do
    local v = s.v[i]
    if v == nil then
      flush()
      col, open, last_y = nil, false, nil
    else
      local c = math.floor(px(s.t[i]))
      if c ~= col then
        flush()
        col, first, lo, hi = c, v, v, v
      end
      lo, hi, last = math.min(lo, v), math.max(hi, v), v
    end
  end
  flush()
  if s.step and open and n > 0 then d[#d + 1] = "L" .. num(px(s.t[n])) .. "," .. num(py(last_y)) end
  return table.concat(d, " ")
end

function M.svg(spec)
  local w = spec.width or 1200
  local panels = spec.panels or {}
  local t0, t1 = math.huge, -math.huge
  for _, p in ipairs(panels) do
    for _, s in ipairs(p.series or {}) do
      if #s.t > 0 then t0, t1 = math.min(t0, s.t[1]), math.max(t1, s.t[#s.t]) end
    end
  end
  if t0 > t1 then t0, t1 = 0, 1 end
  if t1 == t0 then t1 = t0 + 1 end
  local plot_w = w - LEFT - RIGHT
  local h = TOP + #panels * (PANEL_H + GAP) + 20
  local out = {
    ('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
     .. 'width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">'):format(w, h, w, h),
    ('<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="22" font-size="15">%s</text>')
      :format(LEFT, esc(spec.title or "")),
  }
  local function px(t) return LEFT + (t - t0) / (t1 - t0) * (plot_w - 1) end
  for k, p in ipairs(panels) do
    local y0 = TOP + (k - 1) * (PANEL_H + GAP) + GAP - 10
    local lo, hi = p.min, p.max
    if not lo or not hi then
      local a, b = math.huge, -math.huge
      for _, s in ipairs(p.series or {}) do
        for i = 1, #s.t do
          local v = s.v[i]
          if v then a, b = math.min(a, v), math.max(b, v) end
        end
      end
      if a > b then a, b = 0, 1 end
      lo, hi = lo or a, hi or b
    end
    if hi <= lo then hi = lo + 1 end
    local function py(v) return y0 + PANEL_H - (v - lo) / (hi - lo) * PANEL_H end
    out[#out + 1] = ('<g class="panel"><text x="%d" y="%d" font-weight="bold">%s%s</text>')
      :format(LEFT, y0 - 6, esc(p.title or ""), p.unit and p.unit ~= "" and " [" .. esc(p.unit) .. "]" or "")
    out[#out + 1] = ('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>')
      :format(LEFT, y0, plot_w, PANEL_H)
    out[#out + 1] = ('<text x="%d" y="%d" text-anchor="end">%s</text><text x="%d" y="%d" text-anchor="end">%s</text>')
      :format(LEFT - 4, y0 + 10, esc(("%g"):format(hi)), LEFT - 4, y0 + PANEL_H, esc(("%g"):format(lo)))
    local lx = LEFT + 300
    for j, s in ipairs(p.series or {}) do
      local color = COLORS[(j - 1) % #COLORS + 1]
      out[#out + 1] = ('<path class="series" data-name="%s" d="%s" fill="none" stroke="%s" stroke-width="1.2"%s/>')
        :format(esc(s.name or ""), path(s, px, py), color, s.dashed and ' stroke-dasharray="6 4"' or "")
      out[#out + 1] = ('<text x="%d" y="%d" fill="%s">%s</text>'):format(lx, y0 - 6, color, esc(s.name or ""))
      lx = lx + 12 + 7 * #(s.name or "")
    end
    out[#out + 1] = "</g>"
  end
  local span = t1 - t0
  local unit, div = "s", 1
  if span >= 7200 then unit, div = "h", 3600 elseif span >= 120 then unit, div = "min", 60 end
  local yb = h - 12
  for i = 0, 4 do
    local t = t0 + span * i / 4
    out[#out + 1] = ('<text x="%s" y="%d" text-anchor="middle">%s %s</text>')
      :format(num(px(t)), yb, ("%.4g"):format(t / div), unit)
  end
  out[#out + 1] = "</svg>\n"
  return table.concat(out, "\n")
end

return M
