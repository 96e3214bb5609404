-- perch.upload - bodies (camera frames) POSTed to an upstream in the
-- background: routing rules decide each item on live state, a retry policy
-- carries each request, and a bounded queue and a bounded number of
-- uploads in flight keep the loop free and memory flat whatever the
-- upstream does.
--
--   local up = perch.upload.new{
--     upstreams = { main = { url = "http://10.0.0.2:9000/frames", timeout_ms = 5000,
--                            headers = { ["x-camera"] = "door" } } },
--     retry = perch.retry.policy{ attempts = 3, deadline_ms = 10000 },  -- upstreams without their own
--     retries = { patient = perch.retry.policy{ attempts = 5 } },       -- for a rule's retry = "patient"
--     rules = require "policies.frames_routing",   -- default: all to the only upstream
--     handlers = { keep = function(body, meta) return sink:write(body) ~= nil end },
--     fallback = "keep",          -- handler for what failed or was pushed out of the queue
--     max_in_flight = 2, max_queue = 8, content_type = "image/jpeg",
--     link = function() return 0.8 end,   -- for link_below/above; default: up:link()
--     metrics = "camera_upload",          -- metric name prefix; false: none
--     on_result = function(result, meta, info) end,
--   }
--   up:push(body, meta, headers)   -- never waits; meta: a flat table the rules see as `json`
--
-- Each pushed item ends in exactly one on_result(result, meta, info):
-- "uploaded" (a 2xx), "kept" (a local handler stored it: a rule said so,
-- or as the fallback after a failure or an overflow), "dropped" (pushed out
-- of a full queue, or a handler declined it, with nowhere else to go),
-- "rejected" (a reject rule), "failed" (the upload failed after its
-- retries, or a handler failed, and no fallback took it).  info.why says
-- which path (rule, failed, overflow, closed), info.code the failure code
-- (connect, timeout, http_5xx, http_404, breaker_open, ...), info.rule the
-- rule's name, info.attempts the HTTP attempts.
--
-- The queue drops its oldest item when full: for a camera the newest
-- frame is the one worth sending.  Failures are counted per code and
-- logged once when uploads start failing and once when they recover.

local route = require "perch.route"

local M = {}
local U = {}
U.__index = U

local NEW_KEYS = { upstreams = true, retry = true, retries = true, rules = true, handlers = true,
                   fallback = true, max_in_flight = true, max_queue = true, content_type = true,
                   link = true, inputs = true, metrics = true, on_result = true }
local UPSTREAM_KEYS = { url = true, retry = true, timeout_ms = true, headers = true }

-- How much one upload outcome moves the link health (an EWMA of success).
local LINK_ALPHA = 0.25

local function bad(fmt, ...) error("perch.upload.new: " .. fmt:format(...), 3) end

local function is_policy(p) return type(p) == "table" and type(p.request) == "function" end

-- http(s)://HOST[:PORT][/PATH], with no spaces or control characters.
local function check_url(url)
  if type(url) ~= "string" then return "must be a string" end
  if url:find("[%s%c]") then return "has a space or a control character" end
  local scheme, authority = url:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return "is not an absolute URL (http://HOST[:PORT]/PATH)" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return ("has scheme '%s' (http or https)"):format(scheme) end
  authority = authority:gsub("^.*@", "")
  local host, port = authority:match("^(%[[%x:.]+%])(.*)$")
  if not host then host, port = authority:match("^([^:]*)(.*)$") end
  if host == "" then return "has no host" end
  if port ~= "" then
    local n = port:match("^:(%d+)$")
    n = n and tonumber(n)
    if not n or n < 1 or n > 65535 then return ("has a bad port '%s'"):format(port:sub(2)) end
  end
  return nil
end
M.check_url = check_url

local function set_of(t)
  local s = {}
  for k in pairs(t or {}) do s[k] = true end
  return s
end

-- The rules for route.new: a reject needs no status here (nothing answers
-- a frame), caching and cache-only do not apply to uploads.
local function frame_rules(rules)
  if type(rules) ~= "table" then return rules end
  local out = {}
  for i, r in ipairs(rules) do
    if type(r) == "table" then
      local label = type(r.name) == "string" and ("routing rule %d ('%s')"):format(i, r.name)
                    or ("routing rule %d"):format(i)
      if r.target == "cache-only" then bad("%s: target 'cache-only' does not apply to uploads", label) end
      if r.ttl_s ~= nil or r.stale_s ~= nil then bad("%s: ttl_s/stale_s do not apply to uploads", label) end
      local c = {}
      for k, v in pairs(r) do c[k] = v end
      if c.target == "reject" and c.status == nil then c.status = 403 end
      r = c
    end
    out[i] = r
  end
  for k, v in pairs(rules) do if out[k] == nil then out[k] = v end end
  return out
end

local function init_metrics(u, prefix)
  local ok, err = pcall(function()
    local m = perch.metrics
    u.m = {
      requests = m.counter(prefix .. "_requests", "Uploads finished, by result (ok, failed)", { "result" }),
      failures = m.counter(prefix .. "_failures", "Failed uploads, by final code", { "code" }),
      retries = m.counter(prefix .. "_retries", "Retries made for uploads"),
      dropped = m.counter(prefix .. "_dropped", "Items pushed out of the full upload queue"),
      queue = m.gauge(prefix .. "_queue", "Items waiting in the upload queue"),
      in_flight = m.gauge(prefix .. "_in_flight", "Uploads in flight (retry waits included)"),
      link = m.gauge(prefix .. "_link", "Upload health 0..1 (moving average of successes)"),
    }
  end)
  if not ok then
    perch.log.warn("perch.upload: metrics off: %s", tostring(err))
    u.m = nil
  end
end

function M.new(cfg)
  if type(cfg) ~= "table" then error("perch.upload.new needs a table", 2) end
  for k in pairs(cfg) do
    if not NEW_KEYS[k] then bad("unknown key '%s'", tostring(k)) end
  end
  local ups = cfg.upstreams
  if type(ups) ~= "table" or next(ups) == nil then
    bad("'upstreams' must be a table of name = { url = 'http://HOST[:PORT]/PATH' }")
  end
  local n_ups, only = 0, nil
  for name, u in pairs(ups) do
    n_ups, only = n_ups + 1, name
    if type(u) ~= "table" then bad("upstream '%s' must be a table with a url", tostring(name)) end
    for k in pairs(u) do
      if not UPSTREAM_KEYS[k] then bad("upstream '%s': unknown key '%s'", tostring(name), tostring(k)) end
    end
    local why = check_url(u.url)
    if why then bad("upstream '%s': url '%s' %s", tostring(name), tostring(u.url), why) end
    if u.retry ~= nil and not is_policy(u.retry) then
      bad("upstream '%s': retry must be a perch.retry.policy", tostring(name))
    end
    if u.timeout_ms ~= nil and (type(u.timeout_ms) ~= "number" or u.timeout_ms < 1) then
      bad("upstream '%s': timeout_ms must be a number >= 1", tostring(name))
    end
    if u.headers ~= nil and type(u.headers) ~= "table" then
      bad("upstream '%s': headers must be a table of name = value", tostring(name))
    end
  end
  if cfg.retry ~= nil and not is_policy(cfg.retry) then bad("'retry' must be a perch.retry.policy") end
  for name, p in pairs(cfg.retries or {}) do
    if not is_policy(p) then bad("retries.%s must be a perch.retry.policy", tostring(name)) end
  end
  for name, h in pairs(cfg.handlers or {}) do
    if type(h) ~= "function" then bad("handlers.%s must be a function(body, meta)", tostring(name)) end
  end
  if cfg.fallback ~= nil and not (cfg.handlers or {})[cfg.fallback] then
    bad("fallback '%s': no such handler", tostring(cfg.fallback))
  end
  local function count(key, default, lo, hi)
    local v = cfg[key]
    if v == nil then return default end
    if type(v) ~= "number" or v ~= math.floor(v) or v < lo or v > hi then
      bad("'%s' must be a whole number in %d..%d, got %s", key, lo, hi, tostring(v))
    end
    return math.tointeger(v)
  end
  local max_in_flight = count("max_in_flight", 2, 1, 64)
  local max_queue = count("max_queue", 8, 0, 10000)
  if cfg.link ~= nil and type(cfg.link) ~= "function" then bad("'link' must be a function") end
  if cfg.on_result ~= nil and type(cfg.on_result) ~= "function" then bad("'on_result' must be a function") end
  if cfg.content_type ~= nil and type(cfg.content_type) ~= "string" then bad("'content_type' must be a string") end
  if cfg.metrics ~= nil and cfg.metrics ~= false and
     (type(cfg.metrics) ~= "string" or not cfg.metrics:match("^[%a_][%w_]*$")) then
    bad("'metrics' must be a metric name prefix (letters, digits, _) or false")
  end
  local rules = cfg.rules
  if rules == nil then
    if n_ups > 1 then bad("'rules' are needed with more than one upstream") end
    rules = { { name = "default", target = "upstream:" .. only } }
  end
  local ok, router = pcall(route.new, frame_rules(rules), {
    handlers = set_of(cfg.handlers), upstreams = set_of(ups), retries = set_of(cfg.retries),
    cache = false, link = true })
  if not ok then error("perch.upload.new: " .. tostring(router), 2) end
  local u = setmetatable({
    router = router, upstreams = ups, retry = cfg.retry, retries = cfg.retries or {},
    handlers = cfg.handlers or {}, fallback = cfg.fallback, on_result = cfg.on_result,
    inputs = cfg.inputs, link_fn = cfg.link, content_type = cfg.content_type or "application/octet-stream",
    max_in_flight = max_in_flight, max_queue = max_queue,
    queue = {}, qhead = 1, qtail = 0, workers = 0, active = {}, health = 1, closed = false,
    failing = nil, logged = {},
    stats = { pushed = 0, uploaded = 0, kept = 0, dropped = 0, rejected = 0, failed = 0,
              attempts = 0, retries = 0, bytes = 0, queued = 0, in_flight = 0,
              queue_peak = 0, in_flight_peak = 0, failures = {}, last_error = nil },
  }, U)
  if cfg.metrics ~= false and perch.metrics then init_metrics(u, cfg.metrics or "perch_upload") end
  return u
end

local function metric(u, name, method, ...)
  local m = u.m and u.m[name]
  if m then
    local ok, err = pcall(m[method], m, ...)
    if not ok then perch.log.debug("perch.upload: metric %s: %s", name, tostring(err)) end
  end
end

-- Log a message once per distinct text (handler and rule errors).
function U:_once(level, fmt, ...)
  local msg = fmt:format(...)
  if self.logged[msg] then return end
  self.logged[msg] = true
  perch.log[level]("%s", msg)
end

function U:_result(result, meta, info)
  local st = self.stats
  st[result] = st[result] + 1
  if self.on_result then
    local ok, err = pcall(self.on_result, result, meta, info)
    if not ok then self:_once("error", "perch.upload: on_result failed: %s", tostring(err)) end
  end
end

-- Run local handler `name`: true stored, false declined, nil + error.
function U:_handle(name, body, meta)
  local ok, v, err = pcall(self.handlers[name], body, meta)
  if not ok then return nil, ("handler '%s' failed: %s"):format(name, tostring(v)) end
  if v == false then return false end
  if v == nil then return nil, ("handler '%s': %s"):format(name, tostring(err or "returned nil")) end
  return true
end

-- An item that will not be uploaded: to the fallback if there is one.
function U:_fall_back(item, why, result, info)
  info.why = why
  if self.fallback then
    local ok, err = self:_handle(self.fallback, item.body, item.meta)
    if ok then return self:_result("kept", item.meta, info) end
    if ok == nil then
      self:_once("warn", "perch.upload: fallback: %s", err)
      info.fallback_error = err
    end
  end
  self:_result(result, item.meta, info)
end

function U:_gauges()
  local st = self.stats
  st.queued = self.qtail - self.qhead + 1
  metric(self, "queue", "set", st.queued)
  metric(self, "in_flight", "set", st.in_flight)
end

-- The link health: the app's function if given, else the moving average
-- of upload successes (1 until the first upload ends).
function U:link()
  if self.link_fn then return self.link_fn() end
  return self.health
end

function U:push(body, meta, headers)
  if type(body) ~= "string" then error("up:push: body must be a string", 2) end
  if meta ~= nil and type(meta) ~= "table" then error("up:push: meta must be a table", 2) end
  if headers ~= nil and type(headers) ~= "table" then error("up:push: headers must be a table", 2) end
  if self.closed then error("up:push: the uploader is closed", 2) end
  local st = self.stats
  st.pushed = st.pushed + 1
  meta = meta or {}
  local req = { method = "POST", body = body, headers = headers }
  local ctx = route.context{ json = meta, inputs = self.inputs,
                             link = function() return self:link() end }
  local ok, d = pcall(self.router.match, self.router, req, ctx)
  if not ok then
    self:_once("error", "perch.upload: %s", tostring(d))
    self:_result("failed", meta, { why = "rule", code = "rule_error", error = tostring(d) })
    return "failed"
  end
  if d.kind == "reject" then
    self:_result("rejected", meta, { why = "rule", rule = d.name, code = "rejected" })
    return "rejected"
  end
  if d.kind == "local" then
    local stored, err = self:_handle(d.target, body, meta)
    local info = { why = "rule", rule = d.name }
    if stored then self:_result("kept", meta, info); return "kept" end
    if stored == false then self:_result("dropped", meta, info); return "dropped" end
    self:_once("warn", "perch.upload: rule '%s': %s", d.name, err)
    info.code, info.error = "handler_error", err
    self:_result("failed", meta, info)
    return "failed"
  end
  -- upstream: to a worker if one is free, else into the queue, pushing
  -- out the oldest when it is full.
  local item = { body = body, meta = meta, headers = headers, d = d }
  if self.workers < self.max_in_flight then
    self:_spawn(self:_take(item))
    self:_gauges()
    return "queued"
  end
  self.qtail = self.qtail + 1
  self.queue[self.qtail] = item
  if self.qtail - self.qhead + 1 > self.max_queue then
    local old = self:_pop()
    metric(self, "dropped", "inc")
    self:_fall_back(old, "overflow", "dropped", { rule = old.d.name, code = "queue_full" })
  end
  local depth = self.qtail - self.qhead + 1
  if depth > st.queue_peak then st.queue_peak = depth end
  self:_gauges()
  return "queued"
end

function U:_pop()
  if self.qhead > self.qtail then return nil end
  local item = self.queue[self.qhead]
  self.queue[self.qhead] = nil
  self.qhead = self.qhead + 1
  if self.qhead > self.qtail then self.qhead, self.qtail = 1, 0 end
  return item
end

-- An item handed to a worker counts as in flight from then on.
function U:_take(item)
  if not item then return nil end
  local st = self.stats
  self.active[item] = true
  st.in_flight = st.in_flight + 1
  if st.in_flight > st.in_flight_peak then st.in_flight_peak = st.in_flight end
  return item
end

-- A worker task: uploads its first item, then from the queue until it is
-- empty.
function U:_spawn(first)
  self.workers = self.workers + 1
  perch.spawn(function()
    local _ <close> = setmetatable({}, { __close = function() self.workers = self.workers - 1 end })
    local item = first
    while item and not self.closed do
      self:_send(item)
      if self.closed then break end
      item = self:_take(self:_pop())
      self:_gauges()
    end
  end)
end

function U:_send(item)
  local st, d = self.stats, item.d
  local up = self.upstreams[d.target]
  local headers = { ["content-type"] = self.content_type }
  for k, v in pairs(up.headers or {}) do headers[k] = v end
  for k, v in pairs(item.headers or {}) do headers[k] = v end
  local spec = { method = "POST", url = up.url, headers = headers, body = item.body,
                 timeout_ms = up.timeout_ms }
  local policy = d.retry and self.retries[d.retry] or up.retry or self.retry
  local ok, res, err, code, rec
  if policy then
    ok, res, err, code, rec = pcall(policy.request, policy, spec)
    if ok and res then rec = err end      -- success: res, rec
  else
    ok, res, err, code = pcall(perch.http.request, spec)
  end
  if not self.active[item] then return end   -- close() settled it meanwhile
  self.active[item] = nil
  st.in_flight = st.in_flight - 1
  self:_gauges()
  if not ok then res, err, code = nil, tostring(res), "error" end
  local attempts = rec and rec.attempts or (code == "breaker_open" and 0 or 1)
  st.attempts = st.attempts + attempts
  local retries = rec and rec.retries or 0
  if retries > 0 then
    st.retries = st.retries + retries
    metric(self, "retries", "inc", retries)
  end
  local info = { rule = d.name, attempts = attempts, retries = retries, upstream = d.target }
  if res and res.status >= 200 and res.status < 300 then
    st.bytes = st.bytes + #item.body
    self:_outcome(true)
    self:_result("uploaded", item.meta, info)
    return
  end
  if res then code, err = "http_" .. res.status, ("status %d"):format(res.status) end
  info.code, info.error = code, err
  st.failures[code] = (st.failures[code] or 0) + 1
  st.last_error = err
  metric(self, "failures", "inc", { code = code })
  self:_outcome(false, d.target, err, code)
  self:_fall_back(item, "failed", "failed", info)
end

-- Health, metrics and the two log lines of a failure streak.
function U:_outcome(good, target, err, code)
  self.health = (1 - LINK_ALPHA) * self.health + LINK_ALPHA * (good and 1 or 0)
  metric(self, "link", "set", self.health)
  metric(self, "requests", "inc", { result = good and "ok" or "failed" })
  local f = self.failing
  if good then
    if f then
      perch.log.info("perch.upload: uploads work again after %d failed in %.1f s", f.n, perch.now() - f.since)
      self.failing = nil
    end
  elseif not f then
    self.failing = { n = 1, since = perch.now() }
    perch.log.warn("perch.upload: upload to '%s' failed: %s (%s); further failures are counted, not logged",
                   target, tostring(err), tostring(code))
  else
    f.n = f.n + 1
  end
end

function U:pending() return self.qtail - self.qhead + 1, self.stats.in_flight end

-- Stop: queued and in-flight items go to the fallback (or count as
-- dropped); a worker still waiting ends without touching them again.
function U:close()
  if self.closed then return end
  self.closed = true
  local items = {}
  for item in pairs(self.active) do items[#items + 1] = item end
  while true do
    local item = self:_pop()
    if not item then break end
    items[#items + 1] = item
  end
  self.active = {}
  self.stats.in_flight = 0
  for _, item in ipairs(items) do
    self:_fall_back(item, "closed", "dropped", { rule = item.d.name, code = "closed" })
  end
  self:_gauges()
end
U.__close = U.close

function U:__tostring()
  return ("perch.upload (%d queued, %d in flight%s)"):format(self.qtail - self.qhead + 1,
    self.stats.in_flight, self.closed and ", closed" or "")
end

return M
