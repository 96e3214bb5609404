-- camera.lua - the headless smart camera, perch's main job and what
-- `make demo` runs.
--
--   perch run scripts/camera.lua [--set source=synthetic|mjpeg:FILE|mjpeg:-|dir:PATH]
--                                [--set sink=dir:PATH|upstream:URL]
--                                [--set http.listen=127.0.0.1:8080]
--
-- Frames come from the source at the frame rate the policies allow (the
-- source follows perch.actuators' effective fps, after the safety floor),
-- motion is measured on each one and fed back to the policies, and each
-- frame is re-encoded at the effective jpeg_quality and written to the
-- sink: a directory, or an upstream the frames are POSTed to in the
-- background (perch.upload: routing rules, a retry policy, a bounded queue;
-- see upload_sink below).  A status line every camera.status_s, a summary at the end, and
-- /metrics on http.listen when that address can be bound (the camera runs
-- on without it).  With demo.discharge_per_s on a fake sysfs tree the app
-- drains the fake battery itself, so the policies have something to do.

local cfg = perch.config
local cam = cfg.camera or {}
local demo = cfg.demo or {}
local t0 = perch.now()

local function fail(fmt, ...) error(("camera: " .. fmt):format(...), 2) end

-- KIND:ARG from a --set value; "synthetic" alone has no argument.
local function split(value, what)
  value = tostring(value)
  local kind, arg = value:match("^(%w+):(.+)$")
  return kind or value, arg
end

-- The source.
local src_kind, src_arg = split(cfg.source or "synthetic")
local common = { fps = "actuators", fps_default = tonumber(cam.fps_default) or 10 }
local src_opts
if src_kind == "synthetic" then
  src_opts = { kind = "synthetic", width = tonumber(cam.width) or 320,
               height = tonumber(cam.height) or 240, format = "rgb", noise = 4 }
elseif src_kind == "mjpeg" and src_arg then
  src_opts = { kind = "mjpeg", path = src_arg }
elseif src_kind == "dir" and src_arg then
  src_opts = { kind = "dir", path = src_arg, loop = cam.loop == true }
else
  fail("source=%s: expected synthetic, mjpeg:FILE, mjpeg:- or dir:PATH", tostring(cfg.source))
end
for k, v in pairs(common) do src_opts[k] = v end
local src = assert(perch.frames.source(src_opts))

-- Counters for the status lines, the summary and /metrics.
local n = { kept = 0, failed = 0, bytes = 0, interval_kept = 0, uploaded = 0, dropped = 0,
            rejected = 0 }
local m_frames = perch.metrics.counter("camera_frames", "Frames by outcome", { "result" })
local m_bytes = perch.metrics.counter("camera_bytes", "JPEG bytes written or uploaded")
local m_motion = perch.metrics.gauge("camera_motion", "Fraction of the last frame that moved")

local function count(result, bytes)
  n[result] = n[result] + 1
  if result == "kept" or result == "uploaded" then
    n.interval_kept, n.bytes = n.interval_kept + 1, n.bytes + bytes
    m_bytes:inc(bytes)
  end
  m_frames:inc({ result = result })
end

local function dir_sink(path, what)
  local s, err = perch.frames.dir_sink{ path = path, max_files = tonumber(cam.max_files) or 1000,
                                        max_bytes = tonumber(cam.max_bytes) or 200e6 }
  if not s then fail("%s: %s", what, err) end
  return s
end

-- sink=upstream:URL: each frame is pushed to perch.upload, which routes it
-- (policies/frames_routing.lua, or upload.rules), POSTs it with the retry
-- policy below, at most upload.max_in_flight at a time, and queues at most
-- upload.max_queue more (the oldest is pushed out: counted as dropped, or
-- kept in upload.fallback_dir).  The frame's metadata travels in headers.
local upl = cfg.upload or {}
local function upload_num(key, default, lo, hi)
  local v = upl[key]
  if v == nil then return default end
  v = tonumber(v)
  if not v or v < lo or v > hi or v ~= v then
    fail("upload.%s=%s: expected a number in %s..%s", key, tostring(upl[key]), lo, hi)
  end
  return v
end

local function load_rules(name)
  if name:match("%.lua$") then
    local chunk, err = loadfile(name)
    if not chunk then fail("upload.rules=%s: %s", name, err) end
    return chunk()
  end
  return require(name)
end

local function upload_sink(url)
  local fallback = upl.fallback_dir and dir_sink(tostring(upl.fallback_dir), "upload.fallback_dir")
  local retry = perch.retry.policy{
    name = "upload", attempts = math.floor(upload_num("attempts", 3, 1, 10)), backoff = "full",
    base_ms = upload_num("base_ms", 200, 1, 60000), cap_ms = upload_num("cap_ms", 2000, 1, 600000),
    deadline_ms = upload_num("deadline_ms", 15000, 1, 3600000),
    breaker = { failures = math.floor(upload_num("breaker_failures", 5, 1, 1000)),
                open_ms = upload_num("breaker_open_ms", 10000, 1, 3600000) },
  }
  local ok, up = pcall(perch.upload.new, {
    upstreams = { main = { url = url, timeout_ms = upload_num("timeout_ms", 5000, 1, 600000) } },
    retry = retry,
    rules = load_rules(tostring(upl.rules or "policies.frames_routing")),
    -- local:keep and the fallback: the fallback dir, or dropped without one
    handlers = { keep = function(jpeg)
      if not fallback then return false end
      local name, err = fallback:write(jpeg)
      return name ~= nil or nil, err
    end },
    fallback = fallback and "keep" or nil,
    max_in_flight = math.floor(upload_num("max_in_flight", 2, 1, 64)),
    max_queue = math.floor(upload_num("max_queue", 8, 0, 10000)),
    content_type = "image/jpeg",
    metrics = "camera_upload",
    on_result = function(result, meta) count(result, meta.bytes) end,
  })
  if not ok then fail("sink=upstream:%s: %s", url, (tostring(up):gsub("^perch%.upload%.new: ", ""))) end
  return up, fallback, retry
end

-- The sink.
local sink_kind, sink_arg = split(cfg.sink or "dir:frames")
local sink, uploader, fallback, retry
if sink_kind == "dir" and sink_arg then
  sink = dir_sink(sink_arg, "sink=dir:" .. sink_arg)
elseif sink_kind == "upstream" and sink_arg then
  uploader, fallback, retry = upload_sink(sink_arg)
else
  fail("sink=%s: expected dir:PATH or upstream:URL", tostring(cfg.sink))
end

-- The policies, fed the motion the frames show.
local motion = perch.motion.new{ width = 160, thresh = 25 }
local last_motion = 0
local user_active = cam.user_active == true
local run = perch.policy.run{
  policies = { require "policies.power", require "policies.thermal",
               require "policies.framerate", (require "policies.quality") },
  every_ms = tonumber(cam.policy_ms) or 1000,
  inputs = function(i)
    -- the upload health is the link's: a failing upstream lowers quality
    i.motion, i.user_active, i.link_quality = last_motion, user_active, uploader and uploader:link() or 1
    return i
  end,
}

-- Frame metadata for the rules and the upload headers.
local function upload(frame, jpeg, mo)
  local a = perch.actuators.get()
  local q = a.jpeg_quality.effective or 85
  local wall = perch.wall() - (perch.now() - frame.time)   -- capture time on the wall clock
  local meta = { seq = frame.seq, time = wall, motion = mo, quality = q, width = frame.width,
                 height = frame.height, bytes = #jpeg, upstream_allowed = a.upstream_allowed.effective }
  uploader:push(jpeg, meta, {
    ["x-perch-frame-seq"] = ("%d"):format(frame.seq),
    ["x-perch-frame-time"] = ("%.3f"):format(wall),
    ["x-perch-frame-motion"] = ("%.4f"):format(mo),
    ["x-perch-frame-quality"] = ("%d"):format(q),
  })
end

src:on_frame(function(frame)
  local mo = motion:update(frame)
  if mo then last_motion = mo; m_motion:set(mo) end
  local jpeg, err = perch.jpeg.encode(frame)   -- at the actuators' jpeg_quality
  if not jpeg then
    count("failed", 0)
    perch.log.warn("encode: %s", err)
    return
  end
  if uploader then return upload(frame, jpeg, mo or last_motion) end
  -- a full disk is logged once by the sink
  count(sink:write(jpeg) and "kept" or "failed", #jpeg)
end)

-- A pipe or a file that ends ends the app; a FIFO or device is reopened.
src:on_end(function(s, why)
  perch.log.info("source ended: %s", why)
  if src_kind == "mjpeg" and src_arg ~= "-" and cam.reopen ~= false then
    local f = io.open(src_arg, "rb")
    local regular = f and f:seek("end") ~= nil and f:seek("end") > 0
    if f then f:close() end
    if not regular then perch.after(1000, function() s:reopen() end); return end
  end
  perch.after(0, perch.stop)
end)

-- Metrics: nice to have, never a reason not to run.
local srv
do
  local ok, s, err = pcall(perch.http.serve, {})
  if ok and s then
    srv = s
    perch.log.info("metrics on http://%s/metrics", s:address())
  else
    perch.log.warn("no metrics server: %s", ok and err or s)
  end
end

-- The demo's fake battery: drain it, but never under the real /sys.
local root = cfg.sysfs and cfg.sysfs.root
local rate = tonumber(demo.discharge_per_s)
if rate and rate > 0 then
  if not root or root == "/sys" or root:match("^/sys/") then
    fail("demo.discharge_per_s needs sysfs.root set to a fake tree, not /sys")
  end
  local path = demo.capacity or (root .. "/class/power_supply/BAT0/capacity")
  perch.every(1000, function()
    local f = io.open(path, "r")
    local cap = f and tonumber(f:read("l")) or 100
    if f then f:close() end
    cap = math.max(0, cap - rate)
    f = assert(io.open(path, "w"))
    f:write(("%d\n"):format(math.floor(cap + 0.5)))
    f:close()
  end)
end

local function fmt(v, spec) return v == nil and "?" or (spec):format(v) end

local function snapshot()
  local st, a, i = src:stats(), perch.actuators.get(), perch.sensors.inputs()
  local r = run:last()
  return st, a, i, r and r.mode
end

-- The upload part of the status line and the summary.
local function upload_status()
  local u = uploader.stats
  local queued = uploader:pending()
  return ("uploaded %d kept %d dropped %d rejected %d failed %d | queue %d/%d, %d in flight, "
          .. "%d retries, breaker %s, link %.2f"):format(n.uploaded, n.kept, n.dropped, n.rejected,
          n.failed, queued, uploader.max_queue, u.in_flight, u.retries,
          retry:state(sink_arg).breaker, uploader:link())
end

local function failure_codes()
  local list = {}
  for code, k in pairs(uploader.stats.failures) do list[#list + 1] = ("%s %d"):format(code, k) end
  table.sort(list)
  return #list > 0 and table.concat(list, ", ") or "none"
end

local status_s = tonumber(cam.status_s) or 5
local last_t = perch.now()
perch.every(status_s * 1000, function()
  local st, a, i, mode = snapshot()
  local now = perch.now()
  local actual = n.interval_kept / math.max(now - last_t, 1e-3)
  last_t, n.interval_kept = now, 0
  local head = ("camera: fps %s target %.1f actual | quality %s | motion %.3f | battery %s | "
                .. "temp %s | mode %s | "):format(fmt(a.fps.effective, "%g"), actual,
                fmt(a.jpeg_quality.effective, "%g"), last_motion, fmt(i.battery, "%.0f%%"),
                fmt(i.temp, "%.1f C"), mode or "?")
  if uploader then
    perch.log.info("%s%s | ring dropped %d | %.1f KiB sent", head, upload_status(),
                   st.dropped + st.skipped, uploader.stats.bytes / 1024)
  else
    perch.log.info("%skept %d dropped %d | %.1f KiB written", head, n.kept,
                   st.dropped + st.skipped + n.failed, n.bytes / 1024)
  end
end)

perch.on_stop(function()
  -- what is still queued or in flight goes to the fallback dir (or counts
  -- as dropped) before the summary
  if uploader then uploader:close() end
  local st, a, i, mode = snapshot()
  local secs = perch.now() - t0
  local last = ("last fps %s quality %s mode %s battery %s"):format(fmt(a.fps.effective, "%g"),
    fmt(a.jpeg_quality.effective, "%g"), mode or "?", fmt(i.battery, "%.0f%%"))
  if uploader then
    local u = uploader.stats
    perch.log.info("camera done: %d frames uploaded in %.1f s (%.1f fps), %d kept %s, "
                   .. "%d dropped (queue full or at stop), %d rejected by the rules, %d failed, "
                   .. "%d dropped by the ring, %d skipped by the frame rate; %d upload attempts, "
                   .. "%d retries, failures: %s; %.1f KiB to %s; %s",
                   n.uploaded, secs, n.uploaded / math.max(secs, 1e-3), n.kept,
                   fallback and ("in " .. tostring(upl.fallback_dir)) or "(no upload.fallback_dir)", n.dropped,
                   n.rejected, n.failed, st.dropped, st.skipped, u.attempts, u.retries,
                   failure_codes(), u.bytes / 1024, sink_arg, last)
  else
    perch.log.info("camera done: %d frames kept in %.1f s (%.1f fps), %d dropped by the ring, "
                   .. "%d skipped by the frame rate, %d failed, %.1f KiB written to %s; %s",
                   n.kept, secs, n.kept / math.max(secs, 1e-3), st.dropped, st.skipped, n.failed,
                   n.bytes / 1024, sink_arg, last)
  end
  if srv then srv:close() end
end)

perch.log.info("camera started: source %s, sink %s (perch %s)", tostring(cfg.source or "synthetic"),
               tostring(cfg.sink or "dir:frames"), perch.version)
