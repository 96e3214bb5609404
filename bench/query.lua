-- query.lua - what a request costs in the query pipeline, through the Lua
-- API (what an app pays).  bench/run runs:
--   perch run bench/query.lua --set dir=DIR --set lua.budget=0
-- Reports JSON decode and encode of a ~4 KB query body (ns per call and
-- MB/s), perch.sha256 of it, and q:handle for a cache hit and for a local
-- handler (no cache), in ns per request.  No network: the upstream path is
-- HTTP's cost, measured by the HTTP client's own figures.
local dir = assert(perch.config.dir, "--set dir=DIR (for the cache file)")

local report = require("report").report

local time = require("report").best_ns   -- best of 5 rounds of n calls, ns per call

local doc = { op = "lookup", model = "small", limit = 20, threshold = 0.25, items = {} }
for i = 1, 60 do
  doc.items[i] = { id = i, name = "item-" .. i, score = i / 7, tags = { "a", "b", "c" }, ok = i % 2 == 0 }
end
local text = assert(perch.json.encode(doc))

local cache = assert(perch.cache.open{ path = dir .. "/bench-query.mdb", max_mb = 16 })
local q = perch.query.new{
  rules = {
    { name = "cached", match = { json = { op = "lookup" } }, target = "local:answer", ttl_s = 3600 },
    { name = "default", target = "local:answer" },
  },
  cache = cache,
  handlers = { answer = function(_, body) return { n = #body.items } end },
}
local function req(body) return { method = "POST", path = "/v1/query", query = "", headers = {}, body = body } end
local hit_req, local_req = req(text), req(text:gsub('"op":"lookup"', '"op":"other"'))
assert(q:handle(hit_req).status == 200)
assert(q:handle(hit_req).headers["x-perch-cache"] == "hit")

perch.after(0, function()
  local d = time(2000, function() perch.json.decode(text) end)
  report("json.decode.4k", d, "ns")
  report("json.decode.4k.rate", #text / d * 1e3, "MB/s")
  local e = time(2000, function() perch.json.encode(doc) end)
  report("json.encode.4k", e, "ns")
  report("sha256.4k", time(5000, function() perch.sha256(text) end), "ns")
  report("query.handle.cache_hit.4k", time(2000, function() q:handle(hit_req) end), "ns")
  report("query.handle.local.4k", time(2000, function() q:handle(local_req) end), "ns")
  cache:close()
  os.remove(dir .. "/bench-query.mdb")
  os.remove(dir .. "/bench-query.mdb-lock")
  perch.stop()
end)
