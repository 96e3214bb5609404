-- perch.route - routing rules: an ordered list, checked at load, where the
-- first rule whose match holds decides where a request goes.
--
--   local router = perch.route.new{
--     { name = "echo", match = { method = "POST", path = "/v1/query", json = { op = "echo" } },
--       target = "local:echo" },
--     { name = "low-battery", match = { battery_below = 15 }, target = "cache-only" },
--     { name = "huge", match = { body_min = 65537 }, target = "reject", status = 413 },
--     { name = "default", target = "upstream:main", ttl_s = 60, retry = "default" },
--   }
--   local d = router:match(req, ctx)   -- d.name, d.kind, d.target, d.status, d.ttl_s, d.retry
--
-- A rule: name (required: every decision carries it), match (all of its
-- conditions must hold; absent = always), target ("local:<handler>",
-- "upstream:<name>", "cache-only", "reject"), and per target: status and
-- message (reject), ttl_s and stale_s (cache the answers of a local or
-- upstream target), retry (an upstream target's retry policy, by name).
-- The last rule must match everything: it is the default.  A mistake
-- raises at load, naming the rule (index and name) and the key.
--
-- Match conditions: method (a name or a list), path (exact), path_prefix,
-- path_pattern (a Lua pattern), body_min / body_max (bytes), headers
-- ({ name = "exact" | { pattern = p } | true (present) | false (absent) }),
-- json ({ ["a.b"] = value | function(v) -> bool }, fields of the decoded
-- body by dotted path), battery_below / battery_above (%, from
-- perch.sensors.inputs(); unknown never matches), on_ac (boolean),
-- link_below / link_above (the app's link health, 0..1), and when =
-- function(req, ctx) -> bool for anything else.

local M = {}

local RULE_KEYS = { name = true, match = true, target = true, status = true, message = true,
                    ttl_s = true, stale_s = true, retry = true, doc = true }
local MATCH_KEYS = { method = true, path = true, path_prefix = true, path_pattern = true,
                     body_min = true, body_max = true, headers = true, json = true,
                     battery_below = true, battery_above = true, on_ac = true,
                     link_below = true, link_above = true, when = true }
local KINDS = { ["local"] = true, upstream = true, ["cache-only"] = true, reject = true }

local function label(i, rule)
  local name = type(rule) == "table" and type(rule.name) == "string" and rule.name
  return name and ("routing rule %d ('%s')"):format(i, name) or ("routing rule %d"):format(i)
end

local function number_in(v, lo, hi) return type(v) == "number" and v == v and v >= lo and v <= hi end

-- Parse "kind:name" targets.
local function parse_target(s)
  if type(s) ~= "string" then return nil end
  local kind, name = s:match("^([%w-]+):(.+)$")
  if kind == "local" or kind == "upstream" then return kind, name end
  if s == "cache-only" or s == "reject" then return s end
  return nil
end

-- Check one match table; returns a list of compiled predicates and, in
-- the same order, a plain description of each for perch.query's C fast
-- path (router:plan()): { "method", { names } }, { "path", p },
-- { "prefix", p }, { "body_min", n }, { "body_max", n }, { "json", parts,
-- want }, { "battery_below", v }, { "battery_above", v }, { "on_ac", b };
-- { "opaque" } for what only Lua can decide (patterns, headers, functions,
-- link health).
local OPAQUE = { "opaque" }
local function compile_match(i, rule, m, known)
  local bad = function(key, what) error(("%s: match.%s %s"):format(label(i, rule), key, what), 0) end
  if type(m) ~= "table" then error(("%s: 'match' must be a table"):format(label(i, rule)), 0) end
  local preds, descs = {}, {}
  local function add(f, desc)
    preds[#preds + 1] = f
    descs[#descs + 1] = desc or OPAQUE
  end
  for k in pairs(m) do
    if not MATCH_KEYS[k] then
      error(("%s: unknown match key '%s'"):format(label(i, rule), tostring(k)), 0)
    end
  end
  if m.method ~= nil then
    local set = {}
    local list = type(m.method) == "table" and m.method or { m.method }
    for _, v in ipairs(list) do
      if type(v) ~= "string" or not v:match("^%u+$") then bad("method", "must be upper-case names, like 'POST'") end
      set[v] = true
    end
    if next(set) == nil then bad("method", "is an empty list") end
    local names = {}
    for v in pairs(set) do names[#names + 1] = v end
    add(function(req) return set[req.method] == true end, { "method", names })
  end
  if m.path ~= nil then
    if type(m.path) ~= "string" then bad("path", "must be a string") end
    local p = m.path
    add(function(req) return req.path == p end, { "path", p })
  end
  if m.path_prefix ~= nil then
    if type(m.path_prefix) ~= "string" then bad("path_prefix", "must be a string") end
    local p = m.path_prefix
    add(function(req) return type(req.path) == "string" and req.path:sub(1, #p) == p end, { "prefix", p })
  end
  if m.path_pattern ~= nil then
    if type(m.path_pattern) ~= "string" then bad("path_pattern", "must be a string") end
    local ok, e = pcall(string.find, "", m.path_pattern)
    if not ok then bad("path_pattern", "is not a Lua pattern: " .. tostring(e):gsub("^.-:%d+: ", "")) end
    local p = m.path_pattern
    add(function(req) return type(req.path) == "string" and req.path:find(p) ~= nil end)
  end
  for _, key in ipairs({ "body_min", "body_max" }) do
    local v = m[key]
    if v ~= nil then
      if math.type(v) ~= "integer" or v < 0 then bad(key, "must be a whole number of bytes") end
      if key == "body_min" then
        add(function(req) return #(req.body or "") >= v end, { "body_min", v })
      else
        add(function(req) return #(req.body or "") <= v end, { "body_max", v })
      end
    end
  end
  if m.headers ~= nil then
    if type(m.headers) ~= "table" then bad("headers", "must be a table of name = condition") end
    for name, want in pairs(m.headers) do
      if type(name) ~= "string" then bad("headers", "names must be strings") end
      local lname = name:lower()
      if want == true then
        add(function(req) return req.headers ~= nil and req.headers[lname] ~= nil end)
      elseif want == false then
        add(function(req) return req.headers == nil or req.headers[lname] == nil end)
      elseif type(want) == "string" then
        add(function(req) return req.headers ~= nil and req.headers[lname] == want end)
      elseif type(want) == "table" and type(want.pattern) == "string" and next(want, next(want)) == nil then
        local pat = want.pattern
        local ok, e = pcall(string.find, "", pat)
        if not ok then bad("headers." .. name, "pattern is not a Lua pattern: " .. tostring(e)) end
        add(function(req)
          local v = req.headers and req.headers[lname]
          return type(v) == "string" and v:find(pat) ~= nil
        end)
      else
        bad("headers." .. name, "must be a string, { pattern = ... }, true or false")
      end
    end
  end
  if m.json ~= nil then
    if type(m.json) ~= "table" then bad("json", "must be a table of field = value") end
    for field, want in pairs(m.json) do
      if type(field) ~= "string" or field == "" then bad("json", "fields must be dotted names") end
      local parts = {}
      for part in field:gmatch("[^.]+") do parts[#parts + 1] = tonumber(part) and math.tointeger(tonumber(part)) or part end
      local wt = type(want)
      if wt ~= "string" and wt ~= "number" and wt ~= "boolean" and wt ~= "function" and want ~= perch.json.null then
        bad("json." .. field, "must be a string, number, boolean, perch.json.null or a function")
      end
      add(function(_, ctx)
        local v = ctx and ctx.json
        for _, part in ipairs(parts) do
          if type(v) ~= "table" then return false end
          v = v[part]
        end
        if wt == "function" then return v ~= nil and want(v) and true or false end
        return v == want
      end, wt ~= "function" and { "json", parts, want } or nil)
    end
  end
  for _, key in ipairs({ "battery_below", "battery_above" }) do
    local v = m[key]
    if v ~= nil then
      if not number_in(v, 0, 100) then bad(key, "must be a percentage 0..100") end
      local below = key == "battery_below"
      add(function(_, ctx)
        local b = ctx and ctx:inputs().battery
        if b == nil then return false end
        if below then return b < v end
        return b > v
      end, { key, v })
    end
  end
  if m.on_ac ~= nil then
    if type(m.on_ac) ~= "boolean" then bad("on_ac", "must be a boolean") end
    local want = m.on_ac
    add(function(_, ctx)
      local v = ctx and ctx:inputs().on_ac
      return v ~= nil and v == want
    end, { "on_ac", want })
  end
  for _, key in ipairs({ "link_below", "link_above" }) do
    local v = m[key]
    if v ~= nil then
      if not number_in(v, 0, 1) then bad(key, "must be a number 0..1") end
      if known and not known.link then bad(key, "needs a link health function (query.new{ link = fn })") end
      local below = key == "link_below"
      add(function(_, ctx)
        local l = ctx and ctx:link()
        if l == nil then return false end
        if below then return l < v end
        return l > v
      end)
    end
  end
  if m.when ~= nil then
    if type(m.when) ~= "function" then bad("when", "must be a function(req, ctx)") end
    local f = m.when
    add(function(req, ctx) return f(req, ctx) and true or false end)
  end
  return preds, descs
end

local Router = {}
Router.__index = Router

-- known (optional): { handlers = set, upstreams = set, retries = set,
-- cache = bool, link = bool } to check names against what the app has.
function M.new(rules, known)
  if type(rules) ~= "table" then error("routing rules must be a list of rules", 2) end
  local n = #rules
  if n == 0 then error("routing rules: the list is empty (at least a default rule is needed)", 2) end
  for k in pairs(rules) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      error(("routing rules: '%s' is not a list index (rules are a list, in order)"):format(tostring(k)), 2)
    end
  end
  local compiled, names = {}, {}
  for i, rule in ipairs(rules) do
    local where = label(i, rule)
    local function bad(fmt, ...) error(where .. ": " .. fmt:format(...), 0) end
    if type(rule) ~= "table" then bad("must be a table") end
    for k in pairs(rule) do
      if not RULE_KEYS[k] then bad("unknown key '%s'", tostring(k)) end
    end
    if type(rule.name) ~= "string" or rule.name == "" then bad("needs a 'name' (a string)") end
    if names[rule.name] then bad("name '%s' is used by rule %d too", rule.name, names[rule.name]) end
    names[rule.name] = i
    local kind, target = parse_target(rule.target)
    if not kind then
      bad("target %s is not 'local:<handler>', 'upstream:<name>', 'cache-only' or 'reject'",
          type(rule.target) == "string" and ("'" .. rule.target .. "'") or tostring(rule.target))
    end
    if known then
      if kind == "local" and not (known.handlers or {})[target] then
        bad("target 'local:%s': no such handler", target)
      end
      if kind == "upstream" and not (known.upstreams or {})[target] then
        bad("target 'upstream:%s': no such upstream", target)
      end
      if kind == "cache-only" and not known.cache then bad("target 'cache-only' needs a cache") end
    end
    if kind == "reject" then
      if math.type(rule.status) ~= "integer" or rule.status < 400 or rule.status > 599 then
        bad("key 'status' must be an HTTP status 400..599 for a reject target")
      end
    else
      if rule.status ~= nil then bad("key 'status' only applies to a reject target") end
      if rule.message ~= nil then bad("key 'message' only applies to a reject target") end
    end
    if rule.message ~= nil and type(rule.message) ~= "string" then bad("key 'message' must be a string") end
    if rule.ttl_s ~= nil then
      if kind ~= "local" and kind ~= "upstream" then bad("key 'ttl_s' only applies to local and upstream targets") end
      if not number_in(rule.ttl_s, 0.001, 1e9) then bad("key 'ttl_s' must be a number > 0") end
    end
    if rule.stale_s ~= nil then
      if rule.ttl_s == nil then bad("key 'stale_s' needs 'ttl_s'") end
      if not number_in(rule.stale_s, 0, 1e9) then bad("key 'stale_s' must be a number >= 0") end
    end
    if rule.retry ~= nil then
      if kind ~= "upstream" then bad("key 'retry' only applies to an upstream target") end
      if type(rule.retry) ~= "string" then bad("key 'retry' must be the name of a retry policy") end
      if known and not (known.retries or {})[rule.retry] then
        bad("key 'retry': no retry policy named '%s'", rule.retry)
      end
    end
    local preds, descs = {}, {}
    if rule.match ~= nil then preds, descs = compile_match(i, rule, rule.match, known) end
    if #preds == 0 and i < n then
      bad("matches everything but is not the last rule: rules %d..%d could never match", i + 1, n)
    end
    if i == n and #preds > 0 then
      bad("the last rule is the default: it must match everything (no 'match')")
    end
    compiled[i] = { name = rule.name, index = i, kind = kind, target = target,
                    status = rule.status, message = rule.message, ttl_s = rule.ttl_s,
                    stale_s = rule.stale_s, retry = rule.retry, preds = preds, descs = descs }
  end
  return setmetatable({ rules = compiled }, Router)
end

-- The context a match sees: the decoded body (ctx.json), live inputs read
-- once per request (ctx:inputs(): perch.sensors.inputs(), or the `inputs`
-- given, a table or a function), and the app's link health (ctx:link(),
-- from the `link` function: 0..1, or a boolean; nil when unknown).
local Ctx = {}
Ctx.__index = Ctx
function Ctx:inputs()
  if self._inputs == nil then
    local src = self._inputs_src
    if type(src) == "table" then
      self._inputs = src
    else
      local ok, v = pcall(src or function() return perch.sensors.inputs() end)
      self._inputs = ok and type(v) == "table" and v or {}
    end
  end
  return self._inputs
end
function Ctx:link()
  if self._link == nil then
    local v = self._link_fn and self._link_fn()
    if v == true then v = 1 elseif v == false then v = 0 end
    self._link = type(v) == "number" and v or false
  end
  return self._link or nil
end

-- context{ json = decoded body, link = fn, inputs = table | fn }
function M.context(c)
  c = c or {}
  return setmetatable({ json = c.json, _link_fn = c.link, _inputs_src = c.inputs }, Ctx)
end

-- The rules as plain data for a C evaluator (perch.query's fast path):
-- a list of { name, kind, ttl_s, preds = descriptions }, see compile_match.
function Router:plan()
  local out = {}
  for i, r in ipairs(self.rules) do
    out[i] = { name = r.name, kind = r.kind, ttl_s = r.ttl_s, preds = r.descs }
  end
  return out
end

-- The first rule whose conditions all hold (the default at worst).  A
-- `when` or json function that raises: the error names the rule.
function Router:match(req, ctx)
  ctx = ctx or M.context()
  for _, r in ipairs(self.rules) do
    local all = true
    for _, p in ipairs(r.preds) do
      local ok, v = pcall(p, req, ctx)
      if not ok then
        error(("routing rule %d ('%s'): %s"):format(r.index, r.name, tostring(v)), 0)
      end
      if not v then all = false; break end
    end
    if all then return r end
  end
end

return M
