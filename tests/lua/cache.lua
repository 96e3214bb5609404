-- perch.cache: open options, get/put/del, fresh/stale/miss with real time,
-- one refresh per stale key, the background purge, the commit policy
-- (sync_ms, cache.sync_ms, sync()), errors and handle life.
local t = require "perch.test"

t.plan(53)

local base = os.tmpname()  -- creates an empty file: a fresh LMDB file is fine
local path = base .. ".mdb"
local function cleanup()
  for _, p in ipairs({ base, path, path .. "-lock", base .. ".txt", base .. ".txt-lock",
                       base .. ".sync", base .. ".sync-lock" }) do
    os.remove(p)
  end
end
perch.on_stop(cleanup)

-- Misuse raises, naming the problem.
t.raises(function() perch.cache.open() end, "table expected", "open needs a table")
t.raises(function() perch.cache.open{ max_mb = 1 } end, "needs 'path'", "path is required")
t.raises(function() perch.cache.open{ path = path, ttl = 5 } end, "perch.cache.open: unknown option 'ttl'",
  "unknown options are refused")
t.raises(function() perch.cache.open{ path = path, default_ttl_s = -1 } end,
  "'default_ttl_s' must be > 0", "negative TTL refused")
t.raises(function() perch.cache.open{ path = path, max_mb = 1.5 } end, "whole number",
  "fractional max_mb refused")
t.raises(function() perch.cache.open{ path = path, max_mb = "big" } end,
  "'max_mb' must be a number, got string", "max_mb must be a number")

t.raises(function() perch.cache.open{ path = path, sync_ms = -1 } end,
  "'sync_ms' must be >= 0", "negative sync_ms refused")
t.raises(function() perch.cache.open{ path = path, sync_ms = 2.5 } end,
  "'sync_ms' must be a whole number", "fractional sync_ms refused")
t.raises(function() perch.cache.open{ path = path, sync_ms = 3600001 } end,
  "'sync_ms' must be >= 0 and <= 3600000, got 3600001", "sync_ms over an hour refused")
-- --set cache.sync_ms=N is the default of every open.
perch.config.cache = { sync_ms = "often" }
t.raises(function() perch.cache.open{ path = path } end,
  "config cache.sync_ms must be a whole number of ms in 0..3600000, got 'often'",
  "a bad cache.sync_ms names the config key")
perch.config.cache = { sync_ms = 250 }
do
  local cs <close> = assert(perch.cache.open{ path = base .. ".sync" })
  t.is(cs:stats().sync_ms, 250, "cache.sync_ms sets the default")
end
perch.config.cache = nil

-- Failures of the file return nil, message, code.
local f = assert(io.open(base .. ".txt", "w"))
f:write(("not a cache\n"):rep(1000))
f:close()
local c0, msg, code = perch.cache.open{ path = base .. ".txt" }
t.ok(c0 == nil and code == "MDB_INVALID", "a text file: nil, MDB_INVALID")
t.like(msg, "%.txt: MDB_INVALID: File is not an LMDB file", "the message names the file")
c0, msg, code = perch.cache.open{ path = "/nonexistent-dir/x.mdb" }
t.ok(c0 == nil and code == "ENOENT", "missing directory: ENOENT")
t.like(msg, "^/nonexistent%-dir/x%.mdb: ", "... naming the path")

local c = assert(perch.cache.open{ path = path, max_mb = 4, default_ttl_s = 60,
                                   refresh_timeout_s = 5, purge_s = 0.02 })
t.like(tostring(c), "^perch%.cache %(.*%.mdb%)$", "__tostring names the file")
t.is(c:stats().sync_ms, 1000, "commits synced every 1000 ms by default")
t.ok(c:sync() == true, "sync() flushes now and returns true")
t.ok(c:stats().syncs >= 1 and c:stats().sync_errors == 0, "syncs and sync_errors in stats")

local v, state = c:get("nothing")
t.ok(v == nil and state == "miss", "absent key: nil, 'miss'")
t.ok(c:put("a", "alpha"), "put returns true")
local ct, flags, due
v, state, due, ct, flags = c:get("a")
t.ok(v == "alpha" and state == "fresh" and due == false, "fresh value")
t.ok(ct == nil and flags == 0, "no content type, flags 0")
t.ok(c:put("img", "\0\1\2jpeg", { ttl_s = 30, content_type = "image/jpeg", flags = 7 }),
  "put with options")
v, state, due, ct, flags = c:get("img")
t.ok(v == "\0\1\2jpeg" and ct == "image/jpeg" and flags == 7, "binary value, content type, flags")
t.ok(c:del("img") and c:get("img") == nil, "del")

t.raises(function() c:put("", "x") end, "key must be 1..511 bytes", "empty key raises")
t.raises(function() c:get(("k"):rep(512)) end, "key must be 1..511 bytes", "long key raises")
t.raises(function() c:put("k", {}) end, "string expected", "a table value raises")
t.raises(function() c:put("k", "v", -1) end, "ttl_s must be > 0", "negative ttl raises")
t.raises(function() c:put("k", "v", { ttl = 1 }) end, "cache:put: unknown option 'ttl' %(known: ttl_s",
  "unknown put option raises")
local ok2, err2, code2 = c:put("huge", ("x"):rep(3 * 1024 * 1024))
t.ok(ok2 == nil and code2 == "ETOOBIG", "oversize value: nil, ETOOBIG")
t.like(err2, "too large", "... saying it is too large")

-- TTL with real time: 50 ms fresh, then 10 s stale.
c:put("s", "old", { ttl_s = 0.05, stale_s = 10 })
c:put("gone", "x", { ttl_s = 0.05, stale_s = 0 })
for i = 1, 40 do c:put("p" .. i, "x", { ttl_s = 0.01, stale_s = 0 }) end

perch.after(120, function()
  local v1, s1, d1 = c:get("s")
  local v2, s2, d2 = c:get("s")
  local _, _, d3 = c:get("s")
  t.ok(v1 == "old" and s1 == "stale", "expired: stale value served")
  t.ok(d1 == true, "first stale get: refresh due")
  t.ok(v2 == "old" and s2 == "stale" and d2 == false and d3 == false,
    "later stale gets: refresh already in flight")
  c:release("s")
  local _, _, d4 = c:get("s")
  t.ok(d4 == true, "release: the next stale get claims again")
  c:put("s", "new", 60)
  local v5, s5 = c:get("s")
  t.ok(v5 == "new" and s5 == "fresh", "refreshed: fresh")
  local g, gs = c:get("gone")
  t.ok(g == nil and gs == "miss", "stale_s = 0: a miss at expiry")

  local st = c:stats()
  t.is(st.purged, 41, "the background purge took the 41 expired entries")
  t.is(st.entries, 2, "two entries left")
  t.ok(st.hits >= 2 and st.stale == 4 and st.refreshes == 2 and st.misses >= 3,
    "hit, stale, refresh and miss counters")
  t.ok(st.map_bytes == 4 * 1024 * 1024 and st.used_bytes > 0 and st.bytes > 0,
    "map, used and entry bytes")
  t.ok(st.puts == 45 and st.dels == 1 and st.evictions == 0, "put, del, eviction counters")
  t.ok(math.type(st.orphans) == "integer" and st.orphans <= st.entries and st.open_drops == 0,
    "orphans (at most one per entry) and open_drops in stats")

  perch.after(1, function()
    -- A second handle on the same file shares it; dropping it closes it.
    do
      local c2 <close> = assert(perch.cache.open{ path = path })
      t.is(c2:get("a"), "alpha", "a second handle on the same file sees the data")
    end
    collectgarbage()
    t.is(c:get("a"), "alpha", "the first handle still works after the second closed")

    c:close()
    t.like(tostring(c), "closed", "__tostring of a closed handle")
    t.raises(function() c:get("a") end, "cache is closed", "a closed handle raises")
    c:close()
    t.ok(true, "closing twice is fine")

    -- Data is on disk: reopening finds it.
    local c3 = assert(perch.cache.open{ path = path })
    t.is(c3:get("s"), "new", "reopened: the entry is there")
    t.is(c3:stats().entries, 2, "reopened: two entries")
    c3:put("q", "x", { ttl_s = 0.001, stale_s = 0 })
    perch.after(5, function()
      -- c3's purge timer runs every second: this is the explicit batch.
      t.is(c3:purge(), 1, "purge() runs a batch now")
      -- Left open on purpose: the host closes it at teardown.
      t.done()
    end)
  end)
end)
