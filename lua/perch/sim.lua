-- perch.sim - `perch sim`: replay a recorded sensor trace through policies
-- on a simulated clock, write every decision with its why, plot it, and
-- summarise.  runtime/main.c calls main(args) and exits with its result.
--
-- The trace is CSV with a header: `time` (seconds) and any of the input
-- fields of CONTRACT section 1 (battery, on_ac, charging, power_w, temp,
-- temp_crit, throttled, motion, user_active, link_quality); booleans are
-- 0/1 or true/false, an empty cell is nil (stale[name] = "missing").  Lines
-- starting with # are comments.  Each row is one engine step at its time:
-- nothing waits, so a day at 1 s steps takes seconds.

local policy = require "perch.policy"

local M = {}

M.usage = [[
usage: perch sim POLICY.lua... --trace TRACE.csv [options]

Replays TRACE.csv through the policies (each file returns a policy, or a
list of them) on a simulated clock and prints a summary.
  --trace FILE        the sensor trace (CSV: time + input columns)
  --out FILE          write every decision: time, each actuator's value and
                      winning policy, mode, why
  --plot FILE         draw inputs and decisions over time as SVG
  --compare FILE      a policy replacing the one of the same name (or added)
                      in a second set, replayed alongside: its decisions are
                      summarised and overlaid dashed on the plot (repeatable)
  --stuck COL=SECONDS treat a numeric column that keeps exactly the same
                      value this long as unknown (stale[COL] = "stuck"), as
                      the live sensor layer does (repeatable)
]]

-- Column types of the known inputs; other columns pass through as numbers
-- (or text) with a warning, since a typo would otherwise read as nil.
local COLUMNS = {
  battery = { "number", 0, 100 }, power_w = { "number" }, temp = { "number" },
  temp_crit = { "number" }, motion = { "number", 0, 1 }, link_quality = { "number", 0, 1 },
  on_ac = { "boolean" }, charging = { "boolean" }, throttled = { "boolean" },
  user_active = { "boolean" },
}
local BOOL = { ["0"] = false, ["1"] = true, ["false"] = false, ["true"] = true }

------------------------------------------------------------ CSV

-- Fields of one CSV line (RFC 4180 quotes), or nil and a message.
local function split(line)
  if not line:find('"', 1, true) then
    local out = {}
    for f in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = f end
    return out
  end
  local out, i, n = {}, 1, #line
  while i <= n + 1 do
    if line:sub(i, i) == '"' then
      local buf, j = {}, i + 1
      while true do
        local q = line:find('"', j, true)
        if not q then return nil, "unterminated quote" end
        buf[#buf + 1] = line:sub(j, q - 1)
        if line:sub(q + 1, q + 1) == '"' then
          buf[#buf + 1] = '"'
          j = q + 2
        else
          j = q + 1
          break
        end
      end
      out[#out + 1] = table.concat(buf)
      local c = line:sub(j, j)
      if c ~= "," and c ~= "" then return nil, "text after a closing quote" end
      i = j + 1
    else
      local c = line:find(",", i, true) or n + 1
      out[#out + 1] = line:sub(i, c - 1)
      i = c + 1
    end
  end
  return out
end

local function csv_field(v)
  if v == nil then return "" end
  if v == true then return "1" end
  if v == false then return "0" end
  if type(v) == "number" then
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return ("%d"):format(v) end
    return ("%.6g"):format(v)
  end
  v = tostring(v)
  if v:find('[,"\r\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end
M.csv_field = csv_field

-- read_trace(path) -> trace { n, time = {...}, cols = { name = {...} },
-- names = { ordered } } or nil, "path:line: message".
function M.read_trace(path, warn)
  local f, err = io.open(path, "r")
  if not f then return nil, ("%s: cannot read: %s"):format(path, err) end
  local tr = { n = 0, time = {}, cols = {}, names = {}, path = path }
  local header, conv, lineno, last_t = nil, nil, 0, nil
  local function bad(fmt, ...)
    f:close()
    return nil, ("%s:%d: " .. fmt):format(path, lineno, ...)
  end
  for line in f:lines() do
    lineno = lineno + 1
    line = line:gsub("\r$", "")
    if line:match("^%s*$") or line:match("^%s*#") then goto continue end
    local fields, why = split(line)
    if not fields then return bad("%s", why) end
    if not header then
      header, conv = {}, {}
      local seen = {}
      for i, name in ipairs(fields) do
        name = name:match("^%s*(.-)%s*$")
        if name == "" then return bad("column %d has no name", i) end
        if seen[name] then return bad("column '%s' appears twice", name) end
        seen[name] = true
        header[i] = name
        if name ~= "time" then
          tr.names[#tr.names + 1] = name
          tr.cols[name] = {}
          if not COLUMNS[name] and warn then
            warn(("%s:%d: column '%s' is not a known input (passed through as is)"):format(
              path, lineno, name))
          end
        end
      end
      if not seen.time then return bad("no 'time' column (header: %s)", line) end
    else
      if #fields ~= #header then
        return bad("%d fields, the header has %d", #fields, #header)
      end
      local n = tr.n + 1
      for i, raw in ipairs(fields) do
        local name, v = header[i], raw:match("^%s*(.-)%s*$")
        local ty = COLUMNS[name]
        if v == "" then
          if name == "time" then return bad("empty time") end
          v = nil
        elseif name == "time" or (ty and ty[1] == "number") then
          local x = tonumber(v)
          if not x or x ~= x or x == math.huge or x == -math.huge then
            return bad("%s '%s' is not a number", name, v)
          end
          if ty and ((ty[2] and x < ty[2]) or (ty[3] and x > ty[3])) then
            return bad("%s %s is out of range [%s, %s]", name, v, ty[2], ty[3])
          end
          v = x
        elseif ty then
          local b = BOOL[v:lower()]
          if b == nil then return bad("%s '%s' is not 0/1/true/false", name, v) end
          v = b
        else
          v = tonumber(v) or v
        end
        if name == "time" then
          if last_t and v <= last_t then return bad("time %s is not after %s", raw, last_t) end
          last_t = v
          tr.time[n] = v
        else
          tr.cols[name][n] = v
        end
      end
      tr.n = n
    end
    ::continue::
  end
  f:close()
  if not header then return nil, ("%s:%d: empty trace (no header)"):format(path, lineno) end
  if tr.n == 0 then return nil, ("%s:%d: no rows after the header"):format(path, lineno) end
  return tr
end

------------------------------------------------------------ replay

-- The inputs of row i, with stuck detection per --stuck (state in `stuck`).
local function inputs_at(tr, i, stuck)
  local t = tr.time[i]
  local inputs, stale = { time = t }, {}
  for _, name in ipairs(tr.names) do
    local v = tr.cols[name][i]
    local s = stuck[name]
    if s and v ~= nil then
      if v ~= s.value then s.value, s.since = v, t end
      if t - s.since >= s.after then
        v = nil
        stale[name] = "stuck"
      end
    elseif s then
      s.value = nil
    end
    if v == nil and not stale[name] then stale[name] = "missing" end
    inputs[name] = v
  end
  inputs.stale = stale
  return inputs
end

-- Replay the trace through one policy set.  Returns the series of
-- decisions; on_step(i, r, engine) sees each result (for the CSV).
function M.replay(policies, tr, opts, on_step)
  local eng = policy.engine{ policies = policies }
  local stuck = {}
  for col, after in pairs(opts.stuck or {}) do stuck[col] = { after = after } end
  local s = { mode = {}, errors = {}, wins = {} }
  for _, act in ipairs(policy.ACTUATORS) do s[act] = {} end
  for i = 1, tr.n do
    local r = eng:step(inputs_at(tr, i, stuck))
    for _, act in ipairs(policy.ACTUATORS) do
      local v = r[act]
      if v then
        s[act][i] = v.value
        local w = s.wins[act] or {}
        s.wins[act] = w
        w[v.by] = (w[v.by] or 0) + 1
      end
    end
    s.mode[i] = r.mode
    if on_step then on_step(i, r, eng) end
  end
  for name, n in pairs(eng.errors) do s.errors[name] = n end
  s.engine = eng
  return s
end

local function why_of(eng, r)
  local parts = {}
  for _, p in ipairs(eng.policies) do
    local e = r.policies[p.name]
    parts[#parts + 1] = e.error and ("%s: ERROR %s"):format(p.name, e.error)
                        or ("%s: %s"):format(p.name, e.why)
  end
  return table.concat(parts, " | ")
end

------------------------------------------------------------ summary

local function hours(s)
  if s >= 3600 then return ("%.2f h"):format(s / 3600) end
  if s >= 120 then return ("%.1f min"):format(s / 60) end
  return ("%.0f s"):format(s)
end

-- Each row holds until the next; the last for the step before it.
local function durations(tr)
  local d = {}
  for i = 1, tr.n - 1 do d[i] = tr.time[i + 1] - tr.time[i] end
  d[tr.n] = tr.n > 1 and d[tr.n - 1] or 0
  return d
end

local function summarize(label, s, tr, dur, out)
  local total = tr.time[tr.n] - tr.time[1] + dur[tr.n]
  local function line(fmt, ...) out[#out + 1] = fmt:format(...) end
  local names = {}
  for _, p in ipairs(s.engine.policies) do names[#names + 1] = p.name end
  line("== %s: %s", label, table.concat(names, ", "))
  local in_mode, order = {}, {}
  for i = 1, tr.n do
    local m = s.mode[i] or "(none)"
    if not in_mode[m] then in_mode[m] = 0; order[#order + 1] = m end
    in_mode[m] = in_mode[m] + dur[i]
  end
  local parts = {}
  for _, m in ipairs(order) do
    parts[#parts + 1] = ("%s %s (%.1f%%)"):format(m, hours(in_mode[m]), total > 0 and 100 * in_mode[m] / total or 0)
  end
  line("mode: %s", table.concat(parts, ", "))
  for _, act in ipairs({ "fps", "jpeg_quality", "cpu_max_khz" }) do
    local v, sum, w, lo, hi, changes, prev = s[act], 0, 0, nil, nil, 0, nil
    for i = 1, tr.n do
      local x = v[i]
      if x then
        sum, w = sum + x * dur[i], w + dur[i]
        lo = (not lo or x < lo) and x or lo
        hi = (not hi or x > hi) and x or hi
      end
      if i > 1 and x ~= prev then changes = changes + 1 end
      prev = x
    end
    if w > 0 then
      line("%s: mean %.2f, min %s, max %s, %d changes%s", act, sum / w, csv_field(lo), csv_field(hi),
           changes, w < total and (", no vote for " .. hours(total - w)) or "")
    elseif act ~= "cpu_max_khz" then
      line("%s: no votes", act)
    end
  end
  local blocked = 0
  for i = 1, tr.n do
    if s.upstream_allowed[i] == false then blocked = blocked + dur[i] end
  end
  line("upstream blocked: %s", hours(blocked))
  parts = {}
  for _, act in ipairs(policy.ACTUATORS) do
    local w = s.wins[act]
    if w then
      local by = {}
      for name, n in pairs(w) do by[#by + 1] = ("%s %.1f%%"):format(name, 100 * n / tr.n) end
      table.sort(by)
      parts[#parts + 1] = act .. " " .. table.concat(by, " ")
    end
  end
  line("won by: %s", #parts > 0 and table.concat(parts, "; ") or "nothing")
  parts = {}
  for name, n in pairs(s.errors) do parts[#parts + 1] = ("%s %d steps"):format(name, n) end
  table.sort(parts)
  line("policy errors: %s", #parts > 0 and table.concat(parts, ", ") or "none")
end

------------------------------------------------------------ plot

local MODE_ORDER = { "full", "normal", "saver", "critical" }

local function plot(path, tr, main, cmp)
  local plotlib = require "perch.plot"
  local t = tr.time
  local function bools(v)
    local out = {}
    for i = 1, tr.n do if v[i] ~= nil then out[i] = v[i] and 1 or 0 end end
    return out
  end
  local panels = {}
  local function input_panel(title, unit, lo, hi, cols)
    local series = {}
    for _, c in ipairs(cols) do
      local v = tr.cols[c[1]]
      if v then
        series[#series + 1] = { name = c[1], t = t, v = c[2] and bools(v) or v, step = c[2] }
      end
    end
    if #series > 0 then
      panels[#panels + 1] = { title = title, unit = unit, min = lo, max = hi, series = series }
    end
  end
  input_panel("battery", "%", 0, 100, { { "battery" } })
  input_panel("temperature", "°C", nil, nil, { { "temp" }, { "temp_crit" } })
  input_panel("motion and user", "0..1", 0, 1, { { "motion" }, { "user_active", true } })
  input_panel("supply and throttling", "0/1", 0, 1,
              { { "on_ac", true }, { "charging", true }, { "throttled", true } })

  local function decision_panel(title, unit, lo, hi, key, conv)
    local series = {}
    for _, set in ipairs({ { main, "" }, { cmp, " (compare)" } }) do
      local s = set[1]
      if s then
        local v = s[key]
        if conv then
          local c = {}
          for i = 1, tr.n do c[i] = conv(v[i]) end
          v = c
        end
        series[#series + 1] = { name = key .. set[2], t = t, v = v, step = true, dashed = set[2] ~= "" }
      end
    end
    panels[#panels + 1] = { title = title, unit = unit, min = lo, max = hi, series = series }
  end
  decision_panel("frame rate", "fps", 0, nil, "fps")
  decision_panel("JPEG quality", "", 0, 100, "jpeg_quality")
  -- Modes as categories: the known ones in order of severity, others after
  -- in order of appearance (perch.plot adds those itself).
  decision_panel("mode", "", nil, nil, "mode")
  panels[#panels].levels = MODE_ORDER
  local svg = plotlib.svg{ title = "policy replay: " .. tr.path, width = 1200, panels = panels }
  local f, err = io.open(path, "w")
  if not f then return nil, ("%s: cannot write: %s"):format(path, err) end
  f:write(svg)
  f:close()
  return true
end

------------------------------------------------------------ main

local function load_policies(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then return nil, err end
  local ok, res = pcall(chunk)
  if not ok then return nil, tostring(res) end
  if policy.is(res) then return { res } end
  if type(res) == "table" and #res > 0 then
    for i, p in ipairs(res) do
      if not policy.is(p) then return nil, ("%s: item %d of the list is not a policy"):format(path, i) end
    end
    return res
  end
  return nil, ("%s: did not return a policy (got %s)"):format(path, type(res))
end

local function parse_args(args)
  local o = { policies = {}, compare = {}, stuck = {} }
  local i = 1
  local function value(a, name)
    local v = a:match("^" .. name .. "=(.*)$")
    if v then return v end
    i = i + 1
    if args[i] == nil then error({ usage = name .. " needs a value" }) end
    return args[i]
  end
  while i <= #args do
    local a = args[i]
    local opt = a:match("^(%-%-[%w-]+)")
    if a == "--help" or a == "-h" then
      o.help = true
    elseif opt == "--trace" then o.trace = value(a, opt)
    elseif opt == "--out" then o.out = value(a, opt)
    elseif opt == "--plot" then o.plot = value(a, opt)
    elseif opt == "--compare" then o.compare[#o.compare + 1] = value(a, opt)
    elseif opt == "--stuck" then
      local v = value(a, opt)
      local col, s = v:match("^([%w_]+)=([%d.]+)$")
      if not col or not tonumber(s) or tonumber(s) <= 0 then
        error({ usage = ("bad --stuck '%s' (COLUMN=SECONDS)"):format(v) })
      end
      o.stuck[col] = tonumber(s)
    elseif a:sub(1, 1) == "-" and #a > 1 then
      error({ usage = ("unknown option '%s'"):format(a) })
    else
      o.policies[#o.policies + 1] = a
    end
    i = i + 1
  end
  if o.help then return o end
  if #o.policies == 0 then error({ usage = "no policy given: perch sim POLICY.lua... --trace TRACE.csv" }) end
  if not o.trace then error({ usage = "--trace TRACE.csv is required" }) end
  return o
end

local function errln(msg) io.stderr:write("perch sim: ", msg, "\n") end

-- main(args) -> exit code: 0, 1 (bad trace, policy or output), 2 (usage).
function M.main(args)
  local ok, o = pcall(parse_args, args)
  if not ok then
    if type(o) == "table" and o.usage then
      errln(o.usage)
      io.stderr:write("\n", M.usage)
      return 2
    end
    error(o, 0)
  end
  if o.help then io.write(M.usage); return 0 end

  local clock0 = os.clock()
  local main_set, cmp_set = {}, nil
  for _, path in ipairs(o.policies) do
    local ps, err = load_policies(path)
    if not ps then errln(err); return 1 end
    for _, p in ipairs(ps) do main_set[#main_set + 1] = p end
  end
  local eng_ok, eng_err = pcall(policy.engine, { policies = main_set })
  if not eng_ok then errln(tostring(eng_err)); return 1 end
  if #o.compare > 0 then
    cmp_set = {}
    for i, p in ipairs(main_set) do cmp_set[i] = p end
    for _, path in ipairs(o.compare) do
      local ps, err = load_policies(path)
      if not ps then errln(err); return 1 end
      for _, p in ipairs(ps) do
        local replaced = false
        for i, q in ipairs(cmp_set) do
          if q.name == p.name then cmp_set[i], replaced = p, true end
        end
        if not replaced then cmp_set[#cmp_set + 1] = p end
      end
    end
  end

  local tr, err = M.read_trace(o.trace, errln)
  if not tr then errln(err); return 1 end
  for col in pairs(o.stuck) do
    if not tr.cols[col] then errln(("--stuck %s: the trace has no such column"):format(col)); return 1 end
  end

  local out, on_step
  if o.out then
    local f, ferr = io.open(o.out, "w")
    if not f then errln(("%s: cannot write: %s"):format(o.out, ferr)); return 1 end
    out = f
    local head = { "time" }
    for _, act in ipairs(policy.ACTUATORS) do head[#head + 1] = act; head[#head + 1] = act .. "_by" end
    head[#head + 1] = "mode"
    head[#head + 1] = "why"
    out:write(table.concat(head, ","), "\n")
    local row = {}
    on_step = function(i, r, eng)
      row[1] = csv_field(tr.time[i])
      local k = 1
      for _, act in ipairs(policy.ACTUATORS) do
        local v = r[act]
        row[k + 1] = csv_field(v and v.value)
        row[k + 2] = csv_field(v and v.by)
        k = k + 2
      end
      row[k + 1] = csv_field(r.mode)
      row[k + 2] = csv_field(why_of(eng, r))
      out:write(table.concat(row, ","), "\n")
    end
  end
  local main = M.replay(main_set, tr, o, on_step)
  if out then out:close() end
  local cmp = cmp_set and M.replay(cmp_set, tr, o) or nil

  local dur = durations(tr)
  local lines = {}
  lines[1] = ("perch sim: %s: %d steps over %s of trace, replayed in %.2f s"):format(
    o.trace, tr.n, hours(tr.time[tr.n] - tr.time[1] + dur[tr.n]), os.clock() - clock0)
  summarize("policies", main, tr, dur, lines)
  if cmp then summarize("compare", cmp, tr, dur, lines) end
  if o.out then lines[#lines + 1] = "decisions: " .. o.out end
  if o.plot then
    local pok, perr = plot(o.plot, tr, main, cmp)
    if not pok then errln(perr); return 1 end
    lines[#lines + 1] = "plot: " .. o.plot
  end
  io.write(table.concat(lines, "\n"), "\n")
  return 0
end

return M
