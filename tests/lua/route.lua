-- perch.route: rule validation at load (errors name the rule and the key),
-- each match condition, first match wins, the default rule, live inputs
-- and link health through the context, and the shipped policies/routing.lua.
local t = require "perch.test"
local route = perch.route

t.plan(47)

local function err_of(rules, known)
  local ok, e = pcall(route.new, rules, known)
  return ok and "loaded" or tostring(e)
end
local D = { name = "default", target = "upstream:main" }

-- Validation.
t.like(err_of({}), "the list is empty", "an empty list")
t.is(err_of({ { name = "a", target = "upstream:main", ttl = 5 } }),
     "routing rule 1 ('a'): unknown key 'ttl'", "unknown rule key: index, name and key")
t.is(err_of({ { name = "a", match = { paht = "/x" }, target = "reject", status = 400 }, D }),
     "routing rule 1 ('a'): unknown match key 'paht'", "unknown match key")
t.is(err_of({ { target = "upstream:main" } }), "routing rule 1: needs a 'name' (a string)", "a rule needs a name")
t.is(err_of({ { name = "a", match = { path = "/" }, target = "somewhere" }, D }),
     "routing rule 1 ('a'): target 'somewhere' is not 'local:<handler>', 'upstream:<name>', 'cache-only' or 'reject'",
     "a bad target")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "reject" }, D }),
       "rule 1 %('a'%): key 'status' must be an HTTP status 400..599", "reject needs a status")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "upstream:main", status = 200 }, D }),
       "key 'status' only applies to a reject target", "status on another target")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "cache-only", ttl_s = 5 }, D }),
       "key 'ttl_s' only applies to local and upstream targets", "ttl_s on cache-only")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "local:x", retry = "fast" }, D }),
       "key 'retry' only applies to an upstream target", "retry on a local target")
t.like(err_of({ { name = "a", target = "upstream:main" }, D }),
       "rule 1 %('a'%): matches everything but is not the last rule: rules 2%.%.2 could never match",
       "a catch-all before the end")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "upstream:main" } }),
       "rule 1 %('a'%): the last rule is the default: it must match everything", "the last rule must be a default")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "upstream:main" }, { name = "a", target = "reject", status = 404 } }),
       "rule 2 %('a'%): name 'a' is used by rule 1 too", "duplicate names")
t.like(err_of({ { name = "a", match = { path_pattern = "[" }, target = "upstream:main" }, D }),
       "rule 1 %('a'%): match%.path_pattern is not a Lua pattern", "a bad pattern")
t.like(err_of({ { name = "a", match = { method = "post" }, target = "upstream:main" }, D }),
       "match%.method must be upper%-case names", "lower-case method")
t.like(err_of({ { name = "a", match = { battery_below = 150 }, target = "upstream:main" }, D }),
       "match%.battery_below must be a percentage 0%.%.100", "battery out of range")
t.like(err_of({ { name = "a", match = { headers = { Accept = 3 } }, target = "upstream:main" }, D }),
       "match%.headers%.Accept must be a string", "bad header condition")
t.like(err_of({ { name = "a", match = { json = { op = {} } }, target = "upstream:main" }, D }),
       "match%.json%.op must be a string, number, boolean", "bad json condition")
local known = { handlers = { echo = true }, upstreams = { main = true }, retries = { fast = true } }
t.is(err_of({ { name = "a", match = { path = "/" }, target = "local:nope" }, D }, known),
     "routing rule 1 ('a'): target 'local:nope': no such handler", "unknown handler (against what the app has)")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "upstream:main", retry = "slow" }, D }, known),
       "key 'retry': no retry policy named 'slow'", "unknown retry policy")
t.like(err_of({ { name = "a", match = { path = "/" }, target = "cache-only" }, D }, known),
       "target 'cache%-only' needs a cache", "cache-only without a cache")
t.like(err_of({ { name = "a", match = { link_below = 0.2 }, target = "cache-only" }, D },
              { upstreams = { main = true }, cache = true }),
       "match%.link_below needs a link health function", "link_below without a link function")

-- Matching.
local r = route.new({
  { name = "health", match = { method = { "GET", "HEAD" }, path = "/health" }, target = "local:health" },
  { name = "admin", match = { path_prefix = "/admin/", headers = { ["X-Token"] = false } },
    target = "reject", status = 401, message = "token needed" },
  { name = "item", match = { path_pattern = "^/items/%d+$" }, target = "upstream:items", ttl_s = 10 },
  { name = "big", match = { body_min = 11 }, target = "reject", status = 413 },
  { name = "model", match = { json = { model = "small", ["opts.fast"] = true, ["list.2"] = "b" } },
    target = "local:small" },
  { name = "scored", match = { json = { score = function(v) return type(v) == "number" and v > 0.5 end } },
    target = "local:scored" },
  { name = "json-client", match = { headers = { ["content-type"] = { pattern = "^application/json" } },
    path = "/ct" }, target = "local:ct" },
  { name = "battery", match = { battery_below = 15, on_ac = false }, target = "cache-only" },
  { name = "link", match = { link_below = 0.3 }, target = "cache-only" },
  { name = "custom", match = { when = function(req) return req.headers and req.headers["x-mode"] == "c" end },
    target = "upstream:alt", retry = "fast" },
  { name = "default", target = "upstream:main", ttl_s = 30, stale_s = 60 },
})
local function pick(req, ctx)
  req.method = req.method or "POST"
  req.path = req.path or "/v1/query"
  req.headers = req.headers or {}
  return r:match(req, ctx or route.context{ inputs = { battery = 80, on_ac = false }, link = function() return 1 end }).name
end
local function ctx(json, inputs, link)
  return route.context{ json = json, inputs = inputs or { battery = 80 }, link = link or function() return 1 end }
end
t.is(pick{ method = "GET", path = "/health" }, "health", "method list and exact path")
t.is(pick{ method = "POST", path = "/health" }, "default", "another method falls through")
t.is(pick{ path = "/admin/x" }, "admin", "prefix + an absent header")
t.is(pick{ path = "/admin/x", headers = { ["x-token"] = "t" } }, "default", "the header present: no match")
t.is(pick{ path = "/items/42" }, "item", "a path pattern")
t.is(pick{ path = "/items/4x" }, "default", "the pattern not matching")
t.is(pick{ body = "12345678901" }, "big", "body_min")
t.is(pick({ body = "x" }, ctx({ model = "small", opts = { fast = true }, list = { "a", "b" } })), "model",
     "json fields by dotted path, array index included")
t.is(pick({}, ctx({ model = "small", opts = { fast = false }, list = { "a", "b" } })), "default",
     "one json field differing: no match")
t.is(pick({}, ctx({ score = 0.9 })), "scored", "a json predicate")
t.is(pick({}, ctx({ score = "high" })), "default", "... false for a string")
t.is(pick{ path = "/ct", headers = { ["content-type"] = "application/json; charset=utf-8" } }, "json-client",
     "a header pattern")
t.is(pick({}, ctx(nil, { battery = 10, on_ac = false })), "battery", "live input: battery below 15 on battery")
t.is(pick({}, ctx(nil, { battery = 10, on_ac = true })), "default", "... not on AC")
t.is(pick({}, ctx(nil, { on_ac = false })), "default", "unknown battery never matches")
t.is(pick({}, ctx(nil, nil, function() return 0.1 end)), "link", "link health below 0.3")
t.is(pick({}, ctx(nil, nil, function() return false end)), "link", "link down (false)")
t.is(pick{ headers = { ["x-mode"] = "c" } }, "custom", "a when function")
local d = r:match({ method = "POST", path = "/", headers = {} }, ctx())
t.ok(d.kind == "upstream" and d.target == "main" and d.ttl_s == 30 and d.stale_s == 60 and d.index == 11,
     "the decision: kind, target, ttl, index")

local rb = route.new({ { name = "boom", match = { when = function() error("oops") end }, target = "local:x" }, D })
t.like(select(2, pcall(rb.match, rb, { path = "/" })), "routing rule 1 %('boom'%):.*oops",
       "a raising when names its rule")

-- router:plan(): the rules as data for perch.query's C front, conditions
-- in evaluation order, opaque where only Lua can judge.
local rp = route.new({
  { name = "a", match = { method = "POST", path = "/q", body_max = 10, json = { ["x.2"] = 5 } },
    target = "local:h", ttl_s = 5 },
  { name = "b", match = { path_pattern = "^/p", battery_below = 20, on_ac = true }, target = "cache-only" },
  { name = "c", match = { json = { f = function() return true end, n = perch.json.null } }, target = "reject", status = 403 },
  D })
local plan = rp:plan()
t.ok(#plan == 4 and plan[1].name == "a" and plan[1].kind == "local" and plan[1].ttl_s == 5 and
     plan[2].kind == "cache-only" and plan[4].kind == "upstream" and #plan[4].preds == 0,
     "plan: one entry per rule with name, kind and ttl")
local kinds = {}
for i, p in ipairs(plan[1].preds) do kinds[i] = p[1] end
t.is(table.concat(kinds, ","), "method,path,body_max,json", "plan: the conditions in the order they are checked")
t.ok(plan[1].preds[4][2][1] == "x" and plan[1].preds[4][2][2] == 2 and plan[1].preds[4][3] == 5,
     "plan: a json field as its path parts (an index as an integer) and the wanted value")
kinds = {}
for i, p in ipairs(plan[2].preds) do kinds[i] = p[1] end
t.is(table.concat(kinds, ","), "opaque,battery_below,on_ac", "plan: a pattern is opaque; live inputs are not")
local c = {}
for _, p in ipairs(plan[3].preds) do c[#c + 1] = p[1] == "json" and (p[3] == perch.json.null and "null" or "?") or p[1] end
table.sort(c)
t.is(table.concat(c, ","), "null,opaque", "plan: a json function is opaque, json null is kept")

-- The shipped default rules load against what they name.
local shipped = dofile("policies/routing.lua")
t.ok(pcall(route.new, shipped, { handlers = { echo = true }, upstreams = { main = true }, cache = true }),
     "policies/routing.lua is valid")
t.done()
