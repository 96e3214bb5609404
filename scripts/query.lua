-- query.lua - the request path as a device runs it: POST /v1/query through
-- the routing rules in policies/routing.lua, the LMDB response cache, a local
-- handler or the upstream with a retry policy; GET /metrics and /health come
-- with the server.
--
--   perch run scripts/query.lua --set query.upstream=http://10.0.0.2:9000 \
--       --set query.cache=/var/lib/perch/query.mdb [--set http.listen=127.0.0.1:8080]
local cfg = perch.config.query or {}

local q = perch.query.new{
  rules = require "policies.routing",
  cache = assert(perch.cache.open{ path = cfg.cache or "query.mdb", max_mb = cfg.cache_mb or 64,
                                   default_ttl_s = 60 }),
  upstreams = {
    main = { url = cfg.upstream or "http://127.0.0.1:9000",
             retry = perch.retry.policy{ attempts = 3, backoff = "full", base_ms = 50,
                                         cap_ms = 1000, deadline_ms = 5000, budget = 0.2 } },
  },
  fast_hits = cfg.fast_hits ~= false,   -- --set query.fast_hits=false: every request through Lua
  handlers = {
    -- answered on the device: the path works end to end without the radio
    echo = function(req, body) return { echo = body, at = perch.now() } end,
  },
}

local srv = perch.http.serve{}
q:route(srv)   -- POST /v1/query; fresh cache hits are answered in C
perch.log.info("query: serving POST /v1/query on %s", srv:address())
