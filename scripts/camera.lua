-- camera.lua - the headless smart camera, perch's main job and what
-- `make demo` runs.
--
--   perch run scripts/camera.lua [--set source=synthetic|mjpeg:FILE|mjpeg:-|dir:PATH]
--                                [--set sink=dir:PATH] [--set http.listen=127.0.0.1:8080]
--
-- Frames come from the source at the frame rate the policies allow (the
-- source follows perch.actuators' effective fps, after the safety floor),
-- motion is measured on each one and fed back to the policies, and each
-- frame is re-encoded at the effective jpeg_quality and written to the
-- sink.  A status line every camera.status_s, a summary at the end, and
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

-- The sink.
local sink_kind, sink_arg = split(cfg.sink or "dir:frames")
local sink
if sink_kind == "dir" and sink_arg then
  sink = assert(perch.frames.dir_sink{ path = sink_arg, max_files = tonumber(cam.max_files) or 1000,
                                       max_bytes = tonumber(cam.max_bytes) or 200e6 })
elseif sink_kind == "upstream" then
  fail("sink=upstream:URL is not supported yet (use sink=dir:PATH)")
else
  fail("sink=%s: expected dir:PATH", tostring(cfg.sink))
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
    i.motion, i.user_active, i.link_quality = last_motion, user_active, 1
    return i
  end,
}

-- Counters for the status lines, the summary and /metrics.
local n = { kept = 0, failed = 0, bytes = 0, interval_kept = 0 }
local m_frames = perch.metrics.counter("camera_frames", "Frames by outcome", { "result" })
local m_bytes = perch.metrics.counter("camera_bytes", "JPEG bytes written")
local m_motion = perch.metrics.gauge("camera_motion", "Fraction of the last frame that moved")

src:on_frame(function(frame)
  local mo = motion:update(frame)
  if mo then last_motion = mo; m_motion:set(mo) end
  local jpeg, err = perch.jpeg.encode(frame)   -- at the actuators' jpeg_quality
  if not jpeg then
    n.failed = n.failed + 1
    m_frames:inc({ result = "failed" })
    perch.log.warn("encode: %s", err)
    return
  end
  local name = sink:write(jpeg)                -- a full disk is logged once by the sink
  if name then
    n.kept, n.interval_kept, n.bytes = n.kept + 1, n.interval_kept + 1, n.bytes + #jpeg
    m_frames:inc({ result = "kept" })
    m_bytes:inc(#jpeg)
  else
    n.failed = n.failed + 1
    m_frames:inc({ result = "failed" })
  end
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

local status_s = tonumber(cam.status_s) or 5
local last_t = perch.now()
perch.every(status_s * 1000, function()
  local st, a, i, mode = snapshot()
  local now = perch.now()
  local actual = n.interval_kept / math.max(now - last_t, 1e-3)
  last_t, n.interval_kept = now, 0
  perch.log.info("camera: fps %s target %.1f actual | quality %s | motion %.3f | battery %s | "
                 .. "temp %s | mode %s | kept %d dropped %d | %.1f KiB written",
                 fmt(a.fps.effective, "%g"), actual, fmt(a.jpeg_quality.effective, "%g"),
                 last_motion, fmt(i.battery, "%.0f%%"), fmt(i.temp, "%.1f C"), mode or "?",
                 n.kept, st.dropped + st.skipped + n.failed, n.bytes / 1024)
end)

perch.on_stop(function()
  local st, a, i, mode = snapshot()
  local secs = perch.now() - t0
  perch.log.info("camera done: %d frames kept in %.1f s (%.1f fps), %d dropped by the ring, "
                 .. "%d skipped by the frame rate, %d failed, %.1f KiB written to %s; "
                 .. "last fps %s quality %s mode %s battery %s",
                 n.kept, secs, n.kept / math.max(secs, 1e-3), st.dropped, st.skipped, n.failed,
                 n.bytes / 1024, sink_arg, fmt(a.fps.effective, "%g"),
                 fmt(a.jpeg_quality.effective, "%g"), mode or "?", fmt(i.battery, "%.0f%%"))
  if srv then srv:close() end
end)

perch.log.info("camera started: source %s, sink %s (perch %s)", tostring(cfg.source or "synthetic"),
               tostring(cfg.sink or "dir:frames"), perch.version)
