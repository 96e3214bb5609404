-- perch.upload without a network: checks at new (unknown keys, URLs, rules
-- that do not apply to uploads, a fallback without a handler), then the
-- queue and the workers against stand-in retry policies that wait in the
-- task like a request does: results per item, at most max_in_flight at
-- once, drop-oldest into the fallback, failures by code with the link
-- health falling and rising, rules rejecting and keeping local on the
-- item's meta, close() settling what is queued and in flight.  Real HTTP is
-- in tests/runtime/camera_upstream.t.
local t = require "perch.test"
local U = perch.upload

t.plan(35)

-- A stand-in for perch.retry.policy: waits `ms` in the task, then answers
-- what `answer(spec, n)` says (res, rec or nil, err, code, rec).
local function fake(ms, answer)
  local p = { calls = 0, active = 0, peak = 0, bodies = {} }
  function p:request(spec)
    self.calls = self.calls + 1
    self.active = self.active + 1
    if self.active > self.peak then self.peak = self.active end
    self.bodies[#self.bodies + 1] = spec.body
    self.last = spec
    perch.sleep(ms)
    self.active = self.active - 1
    return answer(spec, self.calls)
  end
  return p
end
local function ok200() return { status = 200, headers = {}, body = "" }, { attempts = 1, retries = 0 } end
local function fail503() return nil, "HTTP status 503", "http_5xx", { attempts = 3, retries = 2 } end

local URL = "http://127.0.0.1:9/frames"
local function new(cfg)
  cfg.upstreams = cfg.upstreams or { main = { url = URL } }
  cfg.metrics = cfg.metrics or false
  return U.new(cfg)
end

-- Checks at new.
t.raises(function() U.new{ upstreams = { main = { url = URL } }, max_queu = 3 } end,
         "unknown key 'max_queu'", "unknown key")
t.raises(function() U.new{} end, "'upstreams' must be a table", "no upstreams")
t.raises(function() new{ upstreams = { main = { url = "ftp://h/x" } } } end,
         "upstream 'main': url 'ftp://h/x' has scheme 'ftp'", "ftp URL")
t.raises(function() new{ upstreams = { main = { url = "http://:80/x" } } } end, "has no host", "no host")
t.raises(function() new{ upstreams = { main = { url = "http://h:0/x" } } } end, "has a bad port '0'", "port 0")
t.raises(function() new{ upstreams = { main = { url = "http://h x/" } } } end, "has a space", "a space")
t.raises(function() new{ upstreams = { main = { url = "h:80/x" } } } end, "is not an absolute URL", "relative URL")
t.ok(U.check_url("https://[::1]:8443/a?b") == nil and U.check_url("http://user@host/x") == nil,
     "IPv6 literal and user@host URLs pass")
t.raises(function() new{ upstreams = { main = { url = URL, timeout = 5 } } } end,
         "upstream 'main': unknown key 'timeout'", "unknown upstream key")
t.raises(function() new{ max_queue = -1 } end, "'max_queue' must be a whole number in 0..10000", "negative queue")
t.raises(function() new{ max_in_flight = 1.5 } end, "'max_in_flight' must be a whole number", "fractional in flight")
t.raises(function() new{ rules = { { name = "c", target = "cache-only" }, { name = "d", target = "upstream:main" } } } end,
         "routing rule 1 %('c'%): target 'cache%-only' does not apply to uploads", "cache-only refused")
t.raises(function() new{ rules = { { name = "d", target = "upstream:main", ttl_s = 5 } } } end,
         "ttl_s/stale_s do not apply", "ttl_s refused")
t.raises(function() new{ rules = { { name = "d", target = "upstream:other" } } } end,
         "target 'upstream:other': no such upstream", "unknown upstream in a rule")
t.raises(function() new{ fallback = "keep" } end, "fallback 'keep': no such handler", "fallback without handler")
t.raises(function() new{ retry = {} } end, "'retry' must be a perch.retry.policy", "retry not a policy")

-- A reject rule needs no status; rules see meta as json and the link.
do
  local results = {}
  local up = new{
    rules = { { name = "still", match = { json = { motion = function(m) return m < 0.01 end } }, target = "reject" },
              { name = "big", match = { body_min = 10 }, target = "local:keep" },
              { name = "default", target = "upstream:main" } },
    handlers = { keep = function(body) return #body < 20 end },
    retry = fake(1, ok200),
    on_result = function(r, meta, info) results[meta.id] = r .. ":" .. tostring(info.rule) end,
  }
  t.is(up:push("x", { id = 1, motion = 0 }), "rejected", "push: a reject rule drops at once")
  t.is(up:push("0123456789ab", { id = 2, motion = 1 }), "kept", "push: local:keep stores")
  t.is(up:push(("z"):rep(30), { id = 3, motion = 1 }), "dropped", "push: a handler returning false drops")
  t.is(results[1] .. " " .. results[2] .. " " .. results[3], "rejected:still kept:big dropped:big",
       "on_result: result and rule per item")
end

perch.spawn(function()
  -- Uploads: two in flight at most, queue of 3, the oldest pushed out to
  -- the fallback.
  local p = fake(30, ok200)
  local order, fell = {}, {}
  local up = new{ retry = p, max_in_flight = 2, max_queue = 3,
                  handlers = { keep = function(body) fell[#fell + 1] = body; return true end },
                  fallback = "keep",
                  on_result = function(r, meta) order[#order + 1] = r .. meta.i end }
  for i = 1, 10 do up:push("frame" .. i, { i = i }, { ["x-seq"] = tostring(i) }) end
  local q, inflight = up:pending()
  t.ok(q == 3 and inflight == 2, ("10 pushed at once: 3 queued, 2 in flight (%d, %d)"):format(q, inflight))
  t.is(table.concat(fell, ","), "frame3,frame4,frame5,frame6,frame7", "the oldest queued went to the fallback")
  while up.stats.uploaded < 5 do perch.sleep(10) end
  t.is(p.peak, 2, "never more than max_in_flight requests at once")
  t.is(table.concat(p.bodies, ","), "frame1,frame2,frame8,frame9,frame10", "uploaded: the first two, then the newest")
  t.is(p.last.headers["content-type"] .. " " .. p.last.headers["x-seq"], "application/octet-stream 10",
       "the item's headers and the content type go out")
  t.ok(up.stats.queue_peak == 3 and up.stats.kept == 5 and up.stats.uploaded == 5,
       "stats: queue peak 3, 5 kept, 5 uploaded")

  -- Failures: counted by code, fall back, the link health falls and comes back.
  local state = "fail"
  local p2 = fake(1, function(spec, n)
    if state == "fail" then return fail503() end
    return ok200()
  end)
  local got = {}
  local up2 = new{ retry = p2, max_in_flight = 1, max_queue = 10,
                   on_result = function(r, meta, info) got[#got + 1] = r .. ":" .. tostring(info.code) end }
  for i = 1, 4 do up2:push("f" .. i) end
  while #got < 4 do perch.sleep(5) end
  t.is(got[1] .. " " .. got[4], "failed:http_5xx failed:http_5xx", "a failed upload without fallback: failed, with its code")
  t.ok(up2.stats.failures.http_5xx == 4 and up2.stats.retries == 8,
       ("failures by code (4) and retries (8) counted (%s, %d)"):format(up2.stats.failures.http_5xx, up2.stats.retries))
  local low = up2:link()
  t.ok(low < 0.4, ("link health after 4 failures: %.2f"):format(low))
  state = "ok"
  for i = 1, 4 do up2:push("g" .. i) end
  while #got < 8 do perch.sleep(5) end
  t.ok(up2:link() > low + 0.3 and got[8] == "uploaded:nil", ("link health after 4 successes: %.2f"):format(up2:link()))

  -- A 4xx answer is a failure with the status as its code.
  local p3 = fake(1, function() return { status = 404, headers = {}, body = "" }, { attempts = 1, retries = 0 } end)
  local r3
  local up3 = new{ retry = p3, on_result = function(r, _, info) r3 = r .. ":" .. info.code end }
  up3:push("x")
  while not r3 do perch.sleep(5) end
  t.is(r3, "failed:http_404", "a 404 is a failed upload, code http_404")

  -- A request that raises is a failure, not a dead worker.
  local boom = { request = function() error("kaboom") end }
  local r4 = {}
  local up4 = new{ retry = boom, max_in_flight = 1,
                   on_result = function(r, _, info) r4[#r4 + 1] = r .. ":" .. info.code end }
  up4:push("a"); up4:push("b")
  while #r4 < 2 do perch.sleep(5) end
  t.is(table.concat(r4, " "), "failed:error failed:error", "a raising request fails each item; the worker goes on")

  -- close(): queued and in-flight items settle at once, to the fallback.
  local p5 = fake(200, ok200)
  local kept5, res5 = 0, {}
  local up5 = new{ retry = p5, max_in_flight = 1, max_queue = 5,
                   handlers = { keep = function() kept5 = kept5 + 1; return true end }, fallback = "keep",
                   on_result = function(r, _, info) res5[#res5 + 1] = r .. ":" .. info.why end }
  for i = 1, 4 do up5:push("c" .. i) end
  perch.sleep(20)
  up5:close()
  t.ok(kept5 == 4 and res5[1] == "kept:closed" and up5.stats.in_flight == 0 and select(1, up5:pending()) == 0,
       ("close: 1 in flight + 3 queued kept by the fallback (%d)"):format(kept5))
  perch.sleep(250)
  t.is(#res5, 4, "close: the request ending later reports nothing more")
  t.raises(function() up5:push("late") end, "the uploader is closed", "push after close raises")
  t.done()
end)
