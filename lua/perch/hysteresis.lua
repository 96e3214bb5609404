-- perch.hysteresis - the stateful helpers of pure policies: EWMA smoothing,
-- levels with per-level hysteresis and dwell time, and rate limiting.
--
-- None of them keeps state of its own.  Each takes the state it returned
-- last time (which a policy carries in its decision, so it comes back as
-- `prev`) and the time from inputs.time, and returns the new state.  That
-- keeps decide pure: the same policy gives the same decisions live, in
-- `perch sim` on a simulated clock, and in tests.  Also reachable through
-- perch.policy (policy.levels, policy.ewma, ...).

local M = {}

-- The standard severity levels, least severe first.
M.LEVELS = { "none", "light", "moderate", "severe", "critical", "emergency", "shutdown" }
local RANK = {}
for i, name in ipairs(M.LEVELS) do RANK[name] = i end

-- Index of a standard level name (1 = none), nil for anything else.
function M.rank(name) return RANK[name] end

-- The more severe of two standard level names (nil counts as "none").
function M.worse(a, b)
  return (RANK[a] or 1) >= (RANK[b] or 1) and (a or "none") or b
end

local function clamp01(x)
  if x ~= x then return 0 end
  return x < 0 and 0 or x > 1 and 1 or x
end

------------------------------------------------------------------- EWMA

-- ewma(prev, x, t, tau) -> state { value, time [, unknown] }
-- Exponentially weighted moving average with a time constant of tau
-- seconds: the new sample weighs 1 - exp(-dt/tau), so a trace at 60 s steps
-- and a live loop at 1 s smooth the same per second.  tau <= 0 (or no time)
-- means no smoothing.  x == nil keeps the average where it was (an unknown
-- reading must not move it) and marks the state unknown; a clock that goes
-- back restarts the average.
function M.ewma(prev, x, t, tau)
  if x == nil then
    if not prev then return nil end
    return { value = prev.value, time = prev.time, unknown = true }
  end
  if not prev or prev.value == nil or not t or not prev.time or not tau or tau <= 0
      or t < prev.time then
    return { value = x, time = t }
  end
  local a = 1 - math.exp(-(t - prev.time) / tau)
  return { value = prev.value + a * (x - prev.value), time = t }
end

----------------------------------------------------------------- levels

local Levels = {}
Levels.__index = Levels

-- A number, or a table level name -> number (missing: fallback).
local function per_level(v, name, fallback)
  if type(v) == "table" then return v[name] or fallback end
  return v or fallback
end

-- levels{...} -> classifier; classifier:step(prev, value, t) -> state
--
--   names       level names, best first (default M.LEVELS)
--   thresholds  name -> value where that level starts; higher_is_worse
--               (default true): value >= threshold enters it, else
--               value < threshold does.  Levels without a threshold are
--               only reached through `classify` or `unknown`.
--   classify    function(value) -> index into names, instead of thresholds
--   hysteresis  number, or name -> number: how far back past the point
--               where a level starts the value must go before leaving it
--   dwell       seconds, or name -> seconds: least time spent in a level
--               before it may relax (getting worse is never delayed)
--   unknown     level name assumed at least while the value is nil
--               (default: stay where it was)
--   lo, hi      value where headroom is 1 and where it is 0 (default the
--               first and the last threshold)
--
-- The state: { level = name, index, since = time the level was entered,
-- value, headroom = 0..1 (1 = nowhere near trouble), changed, unknown }.
function M.levels(spec)
  local c = setmetatable({
    names = spec.names or M.LEVELS,
    thresholds = spec.thresholds or {},
    worse_up = spec.higher_is_worse ~= false,
    classify_fn = spec.classify,
    hysteresis = spec.hysteresis or 0,
    dwell = spec.dwell or 0,
    lo = spec.lo, hi = spec.hi,
  }, Levels)
  if spec.unknown ~= nil then
    for i, n in ipairs(c.names) do
      if n == spec.unknown then c.unknown_index = i end
    end
    if not c.unknown_index then
      error(("levels: unknown level '%s' is not one of the names"):format(tostring(spec.unknown)), 2)
    end
  end
  -- Headroom range from the first and last thresholds given.
  local first, last
  for i = 2, #c.names do
    local th = c.thresholds[c.names[i]]
    if th then
      first = first or th
      last = th
    end
  end
  c.lo = c.lo or first
  c.hi = c.hi or last
  return c
end

function Levels:classify(value)
  if self.classify_fn then return self.classify_fn(value) end
  local k = 1
  for i = 2, #self.names do
    local th = self.thresholds[self.names[i]]
    if th and (self.worse_up and value >= th or not self.worse_up and value < th) then k = i end
  end
  return k
end

function Levels:headroom(value, k)
  if value ~= nil and self.lo and self.hi and self.lo ~= self.hi then
    return clamp01((self.hi - value) / (self.hi - self.lo))
  end
  if #self.names < 2 then return 1 end
  return clamp01(1 - (k - 1) / (#self.names - 1))
end

function Levels:step(prev, value, t)
  local cur = prev and prev.index
  local k
  if value == nil then
    k = cur or 1
    if self.unknown_index and self.unknown_index > k then k = self.unknown_index end
  else
    k = self:classify(value)
    if cur and k < cur then
      -- Relax only as far as the value shifted back by the current level's
      -- hysteresis allows, and only after its dwell time.
      local name = self.names[cur]
      local h = per_level(self.hysteresis, name, 0)
      local relaxed = self:classify(self.worse_up and value + h or value - h)
      local waited = not t or not prev.since or t - prev.since >= per_level(self.dwell, name, 0)
      if relaxed < cur and waited then
        k = relaxed > k and relaxed or k
      else
        k = cur
      end
    end
  end
  local changed = k ~= cur
  return {
    level = self.names[k], index = k, value = value,
    since = (not changed and prev.since) or t,
    headroom = self:headroom(value, k),
    changed = changed, unknown = value == nil or nil,
  }
end

------------------------------------------------------------ rate limit

-- limit(prev, target, t, opts) -> state { value, since }
-- Moves a numeric setting towards target without jumping around:
--   interval  seconds after a change before the next one (default 0)
--   max_up    largest increase per change (default: any)
--   max_down  largest decrease per change (default: any)
--   hold_down (default false): also delay decreases by interval; by default
--             a decrease, the restrictive direction, happens at once.
-- since is the time of the last change.
function M.limit(prev, target, t, opts)
  opts = opts or {}
  if target == nil then return prev end
  if not prev or prev.value == nil then return { value = target, since = t } end
  local v = prev.value
  if target == v then return prev end
  local up = target > v
  local due = not t or not prev.since or t - prev.since >= (opts.interval or 0)
  if not due and (up or opts.hold_down) then return prev end
  local step = up and opts.max_up or (not up and opts.max_down)
  if step and math.abs(target - v) > step then target = up and v + step or v - step end
  return { value = target, since = t }
end

return M
