-- perch.query - the query pipeline behind POST /v1/query: JSON body in,
-- routing rules, the response cache, local handlers or an upstream with
-- its retry policy, JSON out.  A server handler is one line:
--
--   local q = perch.query.new{
--     rules = require "policies.routing",
--     cache = perch.cache.open{ path = "/var/lib/app/cache.mdb", max_mb = 64 },
--     upstreams = { main = { url = "http://10.0.0.2:9000", retry = perch.retry.policy{...},
--                            timeout_ms = 5000, headers = { ["x-api-key"] = "..." } } },
--     retries = { fast = perch.retry.policy{ attempts = 2 } },   -- named, for rules' `retry`
--     handlers = { echo = function(req, body_json) return { echo = body_json } end },
--     link = function() return 0.8 end,                         -- link health for link_below
--   }
--   q:route(srv)            -- POST /v1/query on srv, fresh hits answered in C
--
-- q:route(srv [, method, path]) is srv:route(method, path, function(req)
-- return q:handle(req) end, q:front()): the same answers, but a fresh cache
-- hit whose rule C can decide is served without running Lua (see
-- lua/l_query_front.c; fast_hits = false in new{} turns that off).
--
-- q:handle(req) takes the server's request table ({ method, path, query,
-- headers, body }) and returns { status, headers, body }.  Every answer is
-- JSON and carries x-perch-route (the rule's name) and x-perch-cache (hit,
-- stale, miss, or bypass for a route that does not cache).  The cache key
-- is the method, the path with its query string and the SHA-256 of the
-- body; only 2xx answers are stored, with their status and content type.
-- A stale entry is served at once while one background task (the cache
-- hands the refresh to a single caller) fetches it again.
--
-- Failures: malformed JSON 400; a rule's function raising 500; reject: the
-- rule's status; cache-only miss 504; a local handler raising 500; the
-- upstream after its retries: 504 on a timeout or a spent deadline, 503
-- while its circuit breaker is open, 502 otherwise.  The JSON error body is
-- { error = message, code = ..., route = name }.

local route = require "perch.route"

local M = {}
local Q = {}
Q.__index = Q

local NEW_KEYS = { rules = true, cache = true, upstreams = true, retries = true, handlers = true,
                   link = true, inputs = true, max_body = true, max_depth = true, fast_hits = true }
local UPSTREAM_KEYS = { url = true, retry = true, timeout_ms = true, headers = true }

local function set_of(t)
  local s = {}
  for k in pairs(t or {}) do s[k] = true end
  return s
end

-- Metric families, when the server part (perch.metrics) is there.  A
-- failure to register is logged once and metrics are off for this q.
local function init_metrics(q)
  if not perch.metrics then return end
  local ok, err = pcall(function()
    q.m_requests = perch.metrics.counter("perch_query_requests_total",
      "Queries by routing rule, target kind, cache outcome and status", { "route", "kind", "cache", "status" })
    q.m_retries = perch.metrics.counter("perch_query_retries_total",
      "Retries made for queries, by upstream", { "upstream" })
    q.m_breaker = perch.metrics.gauge("perch_query_breaker_open",
      "1 while the circuit breaker of an upstream is open or half-open", { "upstream" })
  end)
  if not ok then
    perch.log.warn("perch.query: metrics off: %s", tostring(err))
    q.m_requests, q.m_retries, q.m_breaker = nil, nil, nil
  end
end

local function metric(f)
  local ok, err = pcall(f)
  if not ok then perch.log.debug("perch.query: metric: %s", tostring(err)) end
end

function M.new(cfg)
  if type(cfg) ~= "table" then error("perch.query.new needs a table", 2) end
  for k in pairs(cfg) do
    if not NEW_KEYS[k] then error(("perch.query.new: unknown key '%s'"):format(tostring(k)), 2) end
  end
  local ups = cfg.upstreams or {}
  if type(ups) ~= "table" then error("perch.query.new: 'upstreams' must be a table of name = { url = ... }", 2) end
  for name, u in pairs(ups) do
    if type(u) ~= "table" or type(u.url) ~= "string" or not u.url:match("^https?://[^/]+") then
      error(("perch.query.new: upstream '%s' needs url = 'http://host:port'"):format(tostring(name)), 2)
    end
    for k in pairs(u) do
      if not UPSTREAM_KEYS[k] then
        error(("perch.query.new: upstream '%s': unknown key '%s'"):format(tostring(name), tostring(k)), 2)
      end
    end
    if u.retry ~= nil and (type(u.retry) ~= "table" or type(u.retry.request) ~= "function") then
      error(("perch.query.new: upstream '%s': retry must be a perch.retry.policy"):format(tostring(name)), 2)
    end
  end
  for name, p in pairs(cfg.retries or {}) do
    if type(p) ~= "table" or type(p.request) ~= "function" then
      error(("perch.query.new: retries.%s must be a perch.retry.policy"):format(tostring(name)), 2)
    end
  end
  for name, h in pairs(cfg.handlers or {}) do
    if type(h) ~= "function" then
      error(("perch.query.new: handlers.%s must be a function(req, body_json)"):format(tostring(name)), 2)
    end
  end
  if cfg.link ~= nil and type(cfg.link) ~= "function" then error("perch.query.new: 'link' must be a function", 2) end
  if cfg.fast_hits ~= nil and type(cfg.fast_hits) ~= "boolean" then error("perch.query.new: 'fast_hits' must be a boolean", 2) end
  local limits = { max_depth = cfg.max_depth or 64, max_bytes = cfg.max_body or 1048576 }
  local lok, lerr = pcall(perch.json.decode, "1", limits)
  if not lok then error("perch.query.new: " .. tostring(lerr):gsub("json%.decode: option", "max_body/max_depth:"), 2) end
  local ok, router = pcall(route.new, cfg.rules, {
    handlers = set_of(cfg.handlers), upstreams = set_of(ups), retries = set_of(cfg.retries),
    cache = cfg.cache ~= nil, link = cfg.link ~= nil })
  if not ok then error("perch.query.new: " .. tostring(router), 2) end
  local q = setmetatable({
    router = router, cache = cfg.cache, upstreams = ups, retries = cfg.retries or {},
    handlers = cfg.handlers or {}, link = cfg.link, inputs = cfg.inputs,
    max_body = limits.max_bytes, max_depth = limits.max_depth, fast_hits = cfg.fast_hits ~= false,
    stats = { requests = 0, hits = 0, stale = 0, misses = 0, refreshes = 0, errors = 0 },
  }, Q)
  init_metrics(q)
  return q
end

-- The C fast path for this q's fresh hits (l_query_front.c), or nil when
-- there is nothing it could serve: no cache, or fast_hits = false.
function Q:front()
  if self._front == nil then
    self._front = false
    if self.cache and self.fast_hits then
      self._front = require("perch.query.front").new{
        rules = self.router:plan(), cache = self.cache, stats = self.stats, metric = self.m_requests,
        live_inputs = self.inputs == nil, max_depth = self.max_depth, max_body = self.max_body }
    end
  end
  return self._front or nil
end

-- Serve this q on srv (perch.http.serve): method and path default to
-- POST /v1/query.
function Q:route(srv, method, path)
  srv:route(method or "POST", path or "/v1/query", function(req) return self:handle(req) end, self:front())
  return srv
end

local function cache_key(req)
  local path = req.path or "/"
  if req.query and req.query ~= "" then path = path .. "?" .. req.query end
  if #path > 300 then path = "#" .. perch.sha256(path) end  -- LMDB keys stop at 511 bytes
  return ("%s %s %s"):format(req.method or "GET", path, perch.sha256(req.body or ""))
end
M.cache_key = cache_key

-- Answer with status and a body (a string sent as it is, or a value
-- encoded as JSON).
function Q:_answer(status, body, d, cache_state, extra)
  local headers = { ["content-type"] = "application/json", ["x-perch-route"] = d and d.name or "-",
                    ["x-perch-cache"] = cache_state or "bypass" }
  for k, v in pairs(extra or {}) do headers[k] = v end
  if type(body) ~= "string" then
    local s, err = perch.json.encode(body)
    if not s then
      status, s = 500, perch.json.encode({ error = "handler result: " .. err, code = "bad_result",
                                           route = d and d.name })
    end
    body = s
  end
  if self.m_requests then
    metric(function()
      self.m_requests:inc({ route = d and d.name or "-", kind = d and d.kind or "-",
                            cache = cache_state or "bypass", status = tostring(status) }, 1)
    end)
  end
  return { status = status, headers = headers, body = body }
end

function Q:_error(status, message, code, d, cache_state, extra)
  self.stats.errors = self.stats.errors + 1
  return self:_answer(status, { error = message, code = code, route = d and d.name or nil },
                      d, cache_state, extra)
end

-- Run the rule's target.  Returns an answer { status, body, content_type }
-- or nil, message, code, rec.
function Q:_fetch(d, req, doc)
  if d.kind == "local" then
    local fn = self.handlers[d.target]
    local ok, value, status, hdrs = pcall(fn, req, doc)
    if not ok then
      perch.log.error("perch.query: handler '%s' (rule '%s') failed: %s", d.target, d.name, tostring(value))
      return nil, ("handler '%s' failed: %s"):format(d.target, tostring(value)), "handler_error"
    end
    local body = value
    if type(body) ~= "string" then
      local err
      body, err = perch.json.encode(value)
      if not body then
        return nil, ("handler '%s' returned %s"):format(d.target, err), "handler_error"
      end
    end
    local extra = {}
    for k, v in pairs(type(hdrs) == "table" and hdrs or {}) do
      if type(k) == "string" and (type(v) == "string" or type(v) == "number") then extra[k:lower()] = tostring(v) end
    end
    local ct = extra["content-type"] or "application/json"
    extra["content-type"] = nil
    return { status = math.tointeger(status) or 200, body = body, content_type = ct, headers = extra }
  end
  local up = self.upstreams[d.target]
  local url = up.url:gsub("/$", "") .. (req.path or "/")
  if req.query and req.query ~= "" then url = url .. "?" .. req.query end
  local headers = { ["content-type"] = req.headers and req.headers["content-type"] or "application/json" }
  for k, v in pairs(up.headers or {}) do headers[k] = v end
  local spec = { method = req.method or "POST", url = url, headers = headers,
                 body = (req.body and req.body ~= "") and req.body or nil, timeout_ms = up.timeout_ms }
  local policy = d.retry and self.retries[d.retry] or up.retry
  local res, err, code, rec
  if policy then
    res, err, code, rec = policy:request(spec)
    if res then rec = err end  -- success: res, rec
    if rec and self.m_retries and rec.retries and rec.retries > 0 then
      metric(function() self.m_retries:inc({ upstream = d.target }, rec.retries) end)
    end
    if rec and self.m_breaker then
      metric(function() self.m_breaker:set(rec.breaker == "closed" and 0 or 1, { upstream = d.target }) end)
    end
  else
    res, err, code = perch.http.request(spec)
  end
  if not res then return nil, err, code, rec end
  return { status = res.status, body = res.body, content_type = res.headers["content-type"], rec = rec }
end

local function rec_headers(rec)
  if not rec then return nil end
  return { ["x-perch-attempts"] = tostring(rec.attempts) }
end

-- The failure of a target as an answer.
function Q:_failed(d, err, code, rec, cache_state)
  local status = 502
  if code == "handler_error" then status = 500
  elseif code == "timeout" or (rec and rec.reason == "deadline") then status = 504
  elseif code == "breaker_open" then status = 503 end
  return self:_error(status, err, code, d, cache_state, rec_headers(rec))
end

local function cacheable(res) return res.status >= 200 and res.status < 300 end

function Q:_store(d, key, res)
  local ok, err = self.cache:put(key, res.body, { ttl_s = d.ttl_s, stale_s = d.stale_s,
    content_type = res.content_type, flags = res.status })
  if not ok then perch.log.warn("perch.query: cache put for rule '%s' failed: %s", d.name, tostring(err)) end
end

-- Refresh a stale entry in the background; this caller holds the cache's
-- one refresh claim for the key until the put, or the release on failure.
function Q:_refresh(d, req, doc, key)
  self.stats.refreshes = self.stats.refreshes + 1
  perch.spawn(function()
    local res, err = self:_fetch(d, req, doc)
    if res and cacheable(res) then
      self:_store(d, key, res)
    else
      self.cache:release(key)
      perch.log.warn("perch.query: refresh for rule '%s' failed: %s", d.name,
                     res and ("status " .. res.status) or tostring(err))
    end
  end)
end

function Q:handle(req)
  if type(req) ~= "table" then error("q:handle needs the request table", 2) end
  self.stats.requests = self.stats.requests + 1
  local body = req.body or ""
  local doc
  if body ~= "" then
    local err
    doc, err = perch.json.decode(body, { max_depth = self.max_depth, max_bytes = self.max_body })
    if doc == nil then return self:_error(400, err, "bad_json", nil) end
  end
  local ctx = route.context{ json = doc, link = self.link, inputs = self.inputs }
  local ok, d = pcall(self.router.match, self.router, req, ctx)
  if not ok then
    perch.log.error("perch.query: %s", tostring(d))
    return self:_error(500, tostring(d), "rule_error", nil)
  end

  if d.kind == "reject" then
    return self:_error(d.status, d.message or ("rejected by rule '" .. d.name .. "'"), "rejected", d)
  end

  local key = self.cache and (d.kind == "cache-only" or d.ttl_s) and cache_key(req)
  if key then
    local v, state, refresh, ct, flags = self.cache:get(key)
    if v then
      local hit = state == "fresh" and "hit" or "stale"
      if hit == "hit" then self.stats.hits = self.stats.hits + 1 else self.stats.stale = self.stats.stale + 1 end
      if refresh then
        -- cache-only never fetches: hand the claim back for a route that does
        if d.kind == "cache-only" then self.cache:release(key) else self:_refresh(d, req, doc, key) end
      end
      return self:_answer(flags ~= 0 and flags or 200, v, d, hit, { ["content-type"] = ct or "application/json" })
    end
    self.stats.misses = self.stats.misses + 1
    if d.kind == "cache-only" then
      return self:_error(504, ("not in the cache, and rule '%s' is cache-only"):format(d.name), "cache_miss", d, "miss")
    end
  end

  local res, err, code, rec = self:_fetch(d, req, doc)
  local state = key and "miss" or "bypass"
  if not res then return self:_failed(d, err, code, rec, state) end
  if key and cacheable(res) then self:_store(d, key, res) end
  local extra = rec_headers(res.rec) or {}
  for k, v in pairs(res.headers or {}) do extra[k] = v end   -- a local handler's own
  extra["content-type"] = res.content_type or "application/json"
  return self:_answer(res.status, res.body, d, state, extra)
end

return M
