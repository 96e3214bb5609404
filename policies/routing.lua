-- policies/routing.lua - the default routing rules for the query pipeline
-- (perch.query, POST /v1/query).  First match wins; the last rule is the
-- default.  An app using them provides a local handler `echo` and an
-- upstream `main` (see README, Routing rules); tune or replace freely:
-- perch.query.new checks every name and key at load.
return {
  { name = "too-large", match = { body_min = 65537 }, target = "reject", status = 413,
    message = "query bodies are limited to 64 KiB",
    doc = "refuse before anything is decoded further or sent upstream" },
  { name = "echo", match = { method = "POST", json = { op = "echo" } }, target = "local:echo",
    doc = "answered on the device, for checks of the whole path" },
  { name = "battery-critical", match = { battery_below = 10, on_ac = false }, target = "cache-only",
    doc = "below 10% on battery the radio stays off: cached answers or 504" },
  { name = "lookup", match = { method = "POST", json = { op = "lookup" } }, target = "upstream:main",
    ttl_s = 300, stale_s = 3600,
    doc = "lookups change slowly: 5 min fresh, then an hour served stale while refreshed" },
  { name = "default", target = "upstream:main", ttl_s = 30, stale_s = 120 },
}
