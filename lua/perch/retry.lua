-- perch.retry - retry policies for perch.http.request: which failures to
-- retry, how long to wait (jittered backoff, Retry-After), an overall
-- deadline, a retry budget and a circuit breaker per upstream.
--
--   local p = perch.retry.policy{ attempts = 4, backoff = "full", base_ms = 100,
--     cap_ms = 2000, deadline_ms = 5000, retry_on = { "timeout", "connect", "5xx" },
--     budget = 0.2, breaker = { failures = 5, open_ms = 30000 }, seed = 1 }
--   perch.spawn(function()
--     local res, rec = p:request{ url = "http://10.0.0.2/v1/x", body = "..." }
--     -- failure: nil, message, code, rec
--   end)
--
-- The counting that must hold whatever a script does is C's
-- (perch.retry.core, lua/l_retry.c): attempts clamped to core.max_attempts
-- (10), the deadline cutting each attempt's timeout and each wait, the
-- backoff formulas and their generator.  This file decides what is worth
-- another attempt and keeps the per-upstream state.

local core = require "perch.retry.core"

local M = { max_attempts = core.max_attempts }

local SOURCE = "@lua/perch/retry.lua"

local function where()
  for level = 3, 30 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.currentline and info.currentline > 0 and info.source ~= SOURCE then
      return ("%s:%d: "):format(info.short_src, info.currentline)
    end
  end
  return ""
end

local function fail(fmt, ...) error(where() .. "retry policy: " .. fmt:format(...), 0) end

local KEYS = { name = true, attempts = true, backoff = true, base_ms = true, cap_ms = true,
               retry_on = true, deadline_ms = true, timeout_ms = true, budget = true,
               honor_retry_after = true, breaker = true, seed = true }
local KINDS = { timeout = true, connect = true, reset = true, dns = true, ["5xx"] = true,
                ["429"] = true }
local DEFAULT_RETRY_ON = { "timeout", "connect", "reset", "5xx", "429" }
-- What the breaker counts as the upstream failing (429 is an answer).
local BREAKS = { timeout = true, connect = true, reset = true, dns = true, ["5xx"] = true }

-------------------------------------------------------------- the budget

-- Per upstream, a sliding window of `window_s` one-second slots counting
-- requests (first attempts) and retries.  A retry is allowed while the
-- retries in the window stay below ratio * requests + min_retries: under a
-- failure storm, retries add at most `ratio` to the load, while a quiet
-- upstream still gets its few retries.
local function window_new(n) return { n = n, sec = {}, req = {}, ret = {} } end

local function window_slot(w, now)
  local s = math.floor(now)
  local i = s % w.n + 1
  if w.sec[i] ~= s then w.sec[i], w.req[i], w.ret[i] = s, 0, 0 end
  return i
end

local function window_sum(w, now)
  local s, req, ret = math.floor(now), 0, 0
  for i = 1, w.n do
    if w.sec[i] and s - w.sec[i] < w.n then req, ret = req + w.req[i], ret + w.ret[i] end
  end
  return req, ret
end

------------------------------------------------------------ the breaker

-- closed -> open after `failures` consecutive failed attempts; open ->
-- half_open after open_ms, letting exactly one probe through (every other
-- request fails fast meanwhile); the probe's success closes it, its failure
-- opens it again for open_ms.
local function breaker_allow(b, cfg, now)
  if not cfg then return true end
  if b.state == "open" then
    if (now - b.opened_at) * 1000 < cfg.open_ms then return false end
    b.state = "half_open"
  end
  if b.state == "half_open" then
    if b.probing then return false end
    b.probing = true
    return true, true
  end
  return true
end

local function breaker_record(b, cfg, failed, now)
  if not cfg then return end
  b.probing = false
  if failed then
    b.failures = b.failures + 1
    if b.state == "half_open" or b.failures >= cfg.failures then
      if b.state ~= "open" then b.opens = b.opens + 1 end
      b.state, b.opened_at = "open", now
    end
  else
    b.state, b.failures = "closed", 0
  end
end

------------------------------------------------------------- the policy

local Policy = {}
Policy.__index = Policy

local function upstream_of(url)
  local scheme, authority = url:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return url end
  scheme = scheme:lower()
  authority = authority:gsub("^.*@", ""):lower()
  if not authority:find(":%d+$") then
    authority = authority .. (scheme == "https" and ":443" or ":80")
  end
  return scheme .. "://" .. authority
end
M.upstream_of = upstream_of

function Policy:_state(up)
  local st = self._upstreams[up]
  if not st then
    st = { window = self._budget and window_new(self._budget.window_s),
           breaker = { state = "closed", failures = 0, opens = 0 } }
    self._upstreams[up] = st
  end
  return st
end

-- The state kept for one upstream (a URL or "scheme://host:port"): the
-- breaker, and the budget window's requests and retries.
function Policy:state(url)
  local st = self:_state(upstream_of(url))
  local req, ret = 0, 0
  if st.window then req, ret = window_sum(st.window, perch.now()) end
  local b = st.breaker
  local state = b.state
  if state == "open" and self.breaker and (perch.now() - b.opened_at) * 1000 >= self.breaker.open_ms then
    state = "half_open"
  end
  return { breaker = state, failures = b.failures, opens = b.opens, requests = req, retries = ret }
end

-- The raw backoff wait for retry n in ms (tests, plots): draws from the policy's generator.
function Policy:delay(n, prev_ms) return self._core:backoff(n, prev_ms) end

function Policy:info() return self._core:info() end

local function classify(res, code)
  if res then return res.status == 429 and "429" or "ok" end
  if code == "http_5xx" then return "5xx" end
  return code
end

-- Run req (perch.http.request's table) with retries; inside a task.
-- Returns res, rec or nil, message, code, rec.
function Policy:request(req)
  if type(req) ~= "table" or type(req.url) ~= "string" then
    fail("request needs a table with a url")
  end
  local now = perch.now
  local up = upstream_of(req.url)
  local st = self:_state(up)
  local b, bcfg = st.breaker, self.breaker
  local t0 = now()
  local rec = { upstream = up, attempts = 0, waits = {}, codes = {}, times = {} }
  local run = self._core:start()
  if st.window then
    local i = window_slot(st.window, t0)
    st.window.req[i] = st.window.req[i] + 1
  end
  -- A cancelled task must not leave a half-open breaker waiting forever on
  -- its probe.
  local _ <close> = setmetatable({}, { __close = function()
    if rec.probing then b.probing = false end
  end })
  local spec = {}
  for k, v in pairs(req) do spec[k] = v end
  local res, err, code, resp

  local function finish(reason)
    rec.reason, rec.breaker = reason, b.state
    rec.retries = math.max(0, rec.attempts - 1)
    rec.elapsed_ms = (now() - t0) * 1000
    rec.final = res and res.status or code
    return rec
  end

  while true do
    local allowed, probe = breaker_allow(b, bcfg, now())
    if not allowed then
      finish("breaker_open")
      if rec.attempts == 0 then
        local left = bcfg.open_ms - (now() - b.opened_at) * 1000
        code = "breaker_open"
        rec.final = code
        if b.state == "half_open" then
          return nil, ("circuit half-open for %s: a probe is in flight"):format(up), code, rec
        end
        return nil, ("circuit open for %s (%d ms left)"):format(up, math.max(0, math.ceil(left))), code, rec
      end
      break
    end
    rec.probing = probe
    local n, timeout = run:next(req.timeout_ms)
    if not n then
      if probe then b.probing = false end
      rec.probing = nil
      finish(timeout)   -- "attempts" or "deadline"
      break
    end
    spec.timeout_ms = timeout
    rec.attempts = n
    rec.times[n] = now()
    res, err, code, resp = perch.http.request(spec)
    rec.probing = nil
    local kind = classify(res, code)
    rec.codes[n] = res and res.status or code
    breaker_record(b, bcfg, BREAKS[kind] or false, now())
    if kind == "ok" then return res, finish("ok") end
    if not self._retry_on[kind] then
      finish("not_retryable")
      if res then return res, rec end
      rec.response = resp
      return nil, err, code, rec
    end
    local after
    local ra = (res or resp) and (res or resp).headers["retry-after"]
    if ra and self.honor_retry_after then
      after = core.retry_after(ra)
      rec.retry_after_ms = after
    end
    local wait, why = run:wait(after)
    if not wait then finish(why); break end
    if st.window then
      local w = st.window
      local reqs, rets = window_sum(w, now())
      if rets >= self._budget.ratio * reqs + self._budget.min_retries then
        finish("budget")
        break
      end
      local i = window_slot(w, now())
      w.ret[i] = w.ret[i] + 1
    end
    rec.waits[#rec.waits + 1] = wait
    perch.sleep(wait)
  end
  rec.response = resp
  if res then return res, rec end   -- a 429 still is an answer
  return nil, ("%s (after %d attempt%s; stopped: %s)"):format(err or code, rec.attempts,
    rec.attempts == 1 and "" or "s", rec.reason), code, rec
end

local function check_budget(b)
  if b == nil then return { ratio = 0.2, window_s = 10, min_retries = 3 } end
  if b == false then return nil end
  if type(b) == "number" then b = { ratio = b } end
  if type(b) ~= "table" then fail("'budget' must be a ratio, a table or false") end
  for k in pairs(b) do
    if k ~= "ratio" and k ~= "window_s" and k ~= "min_retries" then
      fail("unknown budget key '%s' (ratio, window_s, min_retries)", tostring(k))
    end
  end
  local r = b.ratio == nil and 0.2 or b.ratio
  if type(r) ~= "number" or r < 0 or r > 10 then fail("budget ratio must be a number in 0..10") end
  local w = b.window_s == nil and 10 or b.window_s
  if math.type(w) ~= "integer" or w < 1 or w > 3600 then fail("budget window_s must be an integer in 1..3600") end
  local m = b.min_retries == nil and 3 or b.min_retries
  if math.type(m) ~= "integer" or m < 0 then fail("budget min_retries must be an integer >= 0") end
  return { ratio = r, window_s = w, min_retries = m }
end

local function check_breaker(b)
  if b == nil then return { failures = 5, open_ms = 30000 } end
  if b == false then return nil end
  if type(b) ~= "table" then fail("'breaker' must be a table or false") end
  for k in pairs(b) do
    if k ~= "failures" and k ~= "open_ms" then
      fail("unknown breaker key '%s' (failures, open_ms)", tostring(k))
    end
  end
  local f = b.failures == nil and 5 or b.failures
  if math.type(f) ~= "integer" or f < 1 then fail("breaker failures must be an integer >= 1") end
  local o = b.open_ms == nil and 30000 or b.open_ms
  if type(o) ~= "number" or o < 1 or o ~= o then fail("breaker open_ms must be a number >= 1") end
  return { failures = f, open_ms = o }
end

function M.policy(spec)
  if type(spec) ~= "table" then fail("policy{...} needs a table") end
  for k in pairs(spec) do
    if not KEYS[k] then fail("unknown key '%s'", tostring(k)) end
  end
  local retry_on = spec.retry_on == nil and DEFAULT_RETRY_ON or spec.retry_on
  if type(retry_on) ~= "table" then fail("'retry_on' must be a list") end
  local set = {}
  for _, kind in ipairs(retry_on) do
    if not KINDS[kind] then
      fail("unknown retry_on '%s' (timeout, connect, reset, dns, 5xx, 429)", tostring(kind))
    end
    set[kind] = true
  end
  if spec.honor_retry_after ~= nil and type(spec.honor_retry_after) ~= "boolean" then
    fail("'honor_retry_after' must be a boolean")
  end
  if spec.name ~= nil and type(spec.name) ~= "string" then fail("'name' must be a string") end
  local pc
  local ok, e = pcall(core.policy, {
    attempts = spec.attempts, backoff = spec.backoff, base_ms = spec.base_ms,
    cap_ms = spec.cap_ms, deadline_ms = spec.deadline_ms, timeout_ms = spec.timeout_ms,
    seed = spec.seed })
  if not ok then error(where() .. tostring(e), 0) end
  pc = e
  local info = pc:info()
  return setmetatable({
    name = spec.name, attempts = info.attempts, backoff = info.backoff,
    base_ms = info.base_ms, cap_ms = info.cap_ms, deadline_ms = info.deadline_ms,
    timeout_ms = info.timeout_ms, retry_on = retry_on,
    honor_retry_after = spec.honor_retry_after ~= false,
    breaker = check_breaker(spec.breaker), budget = spec.budget,
    _budget = check_budget(spec.budget), _retry_on = set, _core = pc, _upstreams = {},
  }, Policy)
end

function Policy:__tostring()
  return ("perch.retry.policy (%s%d attempts, %s backoff)"):format(
    self.name and (self.name .. ", ") or "", self.attempts, self.backoff)
end

M.retry_after = core.retry_after

return M
