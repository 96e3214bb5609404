-- perch.frames, perch.jpeg, perch.motion: misuse, synthetic frames, borrowed
-- and kept frames, motion on a scripted scene (still, moving, lightswitch,
-- motion right after it), JPEG round trips and scaling, the dir source and
-- sink, a slow consumer (bounded memory, counted drops), fps following the
-- actuators.  Steps run one after another from callbacks.
local t = require "perch.test"
t.plan(51)

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp .. "/in " .. tmp .. "/out"))
perch.on_stop(function() os.execute("rm -rf " .. tmp) end)

-- Misuse raises, naming the problem.
t.raises(function() perch.frames.source{ kind = "webcam" } end, "invalid option 'webcam'", "unknown kind")
t.raises(function() perch.frames.source{ kind = "synthetic", colour = 1 } end,
  "unknown option 'colour'", "unknown option")
t.raises(function() perch.frames.source{ kind = "mjpeg" } end, "kind 'mjpeg' needs 'path'", "mjpeg needs a path")
t.raises(function() perch.frames.source{ kind = "synthetic", fps = 2000 } end,
  "'fps' must be in %[0, 1000%]", "fps range")
t.raises(function() perch.frames.source{ kind = "synthetic", script = { { frames = 0 } } } end,
  "script%[1%]: 'frames' must be in", "script segment checked")
t.raises(function() perch.motion.new{ thresh = 300 } end, "'thresh' must be in %[0, 254%]", "motion thresh range")
t.raises(function() perch.jpeg.encode("x", 0) end, "quality must be 1..100", "quality range")
t.raises(function() perch.jpeg.decode({}) end, "JPEG frame or string expected", "decode wants a JPEG")
local s0, msg, code = perch.frames.source{ kind = "mjpeg", path = tmp .. "/nope" }
t.ok(s0 == nil and code == "ENOENT" and msg:find("nope"), "missing stream: nil, message, ENOENT")
local d0, m0, c0 = perch.frames.dir_sink{ path = tmp .. "/nope" }
t.ok(d0 == nil and c0 == "ENOENT" and m0:find("nope"), "missing sink dir: nil, message, ENOENT")

-- JPEG: encode / info / decode with DCT scaling / broken data.
local steps = {}
local function next_step() local f = table.remove(steps, 1); if f then f() else t.done(); perch.stop() end end

steps[#steps + 1] = function()
  local src = perch.frames.source{ kind = "synthetic", fps = 200, width = 640, height = 480, format = "rgb" }
  src:on_frame(function(f)
    src:close()
    t.ok(f.format == "rgb" and f.width == 640 and f.height == 480 and #f == 640 * 480 * 3 and f.seq >= 1,
      "synthetic rgb frame: 640x480")
    local j = perch.jpeg.encode(f, 80)
    local info = perch.jpeg.info(j)
    t.ok(info.width == 640 and info.height == 480 and info.subsamp == "420", "RGB encodes 640x480 4:2:0")
    local small = perch.jpeg.decode(j, { format = "gray", max_width = 160, fast = true })
    t.ok(small.width == 160 and small.height == 120 and small.format == "gray", "decode scaled to 160x120 gray")
    local half = perch.jpeg.decode(j, { format = "rgb", max_width = 399 })
    t.ok(half.width == 320 and half.height == 240 and #half == 320 * 240 * 3, "max_width 399: 1/2 scale")
    local g = perch.jpeg.encode(small, 50)
    t.is(perch.jpeg.info(g).subsamp, "gray", "a gray frame encodes as gray")
    local q10, q95 = perch.jpeg.encode(f, 10), perch.jpeg.encode(f, 95)
    t.ok(#q10 < #j and #j < #q95, "size grows with quality")
    local r = perch.jpeg.encode(j, 30)
    t.ok(#r < #j and perch.jpeg.info(r).width == 640, "re-encoding a JPEG at 30 makes it smaller")
    local x, m, c = perch.jpeg.decode(j:sub(1, 600) .. string.rep("\0", 100) .. j:sub(701))
    t.ok(x == nil and c == "EBADMSG" and #m > 0, "corrupt data: nil, message, EBADMSG")
    x, m, c = perch.jpeg.info("not a jpeg at all")
    t.ok(x == nil and c == "EBADMSG", "not a JPEG: EBADMSG (" .. tostring(m) .. ", " .. tostring(c) .. ")")
    next_step()
  end)
end

-- Borrowed frames end with the callback; kept ones live on.
steps[#steps + 1] = function()
  local src = perch.frames.source{ kind = "synthetic", fps = 200, width = 64, height = 48 }
  local seen, seqs, kept = {}, {}, nil
  src:on_frame(function(f, s)
    seen[#seen + 1] = f
    seqs[#seqs + 1] = f.seq
    if #seen == 1 then kept = f:keep() end
    if #seen == 3 then
      s:close()
      t.raises(function() return seen[1].width end, "no longer valid", "a borrowed frame dies with its callback")
      t.ok(kept.width == 64 and kept.seq == 1 and #kept:bytes() == 64 * 48, "a kept frame stays readable")
      t.ok(seqs[2] == 2 and f.seq == 3, "seq counts frames")
      kept:close()
      t.raises(function() return kept.width end, "frame is closed", "a closed frame raises")
      t.raises(function() return s:stats() end, "closed", "a closed source raises")
      next_step()
    end
  end)
end

-- Motion on a scripted scene: still, moving, lightswitch (still), then
-- lightswitch back and moving at once.  Noise stays under the threshold.
steps[#steps + 1] = function()
  local script = { { frames = 12 }, { frames = 12, move = true }, { frames = 12, light = 90 },
                   { frames = 12, light = 0, move = true } }
  local src = perch.frames.source{ kind = "synthetic", fps = 20, format = "jpeg", quality = 90,
                                   width = 320, height = 240, noise = 6, script = script, ring = 64 }
  local m = perch.motion.new{ width = 80, thresh = 25 }
  local maxs, mins, n = { 0, 0, 0, 0 }, { 1, 1, 1, 1 }, 0
  src:on_frame(function(f, s)
    n = n + 1
    local v = assert(m:update(f))
    local seg = (f.seq - 1) // 12 + 1   -- by frame number: a slow machine may skip some
    if seg <= 4 and f.seq > 1 then
      maxs[seg] = math.max(maxs[seg], v)
      if (f.seq - 1) % 12 >= 2 then mins[seg] = math.min(mins[seg], v) end
    end
    if f.seq >= 48 then
      s:close()
      local st = m:stats()
      t.ok(maxs[1] < 0.002, string.format("still scene with noise: motion %.4f ~ 0", maxs[1]))
      t.ok(mins[2] > 0.02, string.format("moving square: motion >= %.4f > 0.02", mins[2]))
      t.ok(maxs[3] < 0.002, string.format("lightswitch: no false motion (max %.4f)", maxs[3]))
      t.ok(mins[4] > 0.01, string.format("motion right after a lightswitch is reported (>= %.4f)", mins[4]))
      t.ok(st.lightswitches == 2 and st.suppressed >= 2, "two lightswitches counted")
      t.ok(st.width == 80 and st.height == 60, "analysed at 80x60")
      next_step()
    end
  end)
end

-- A gray frame and an RGB frame of the same scene measure alike.
steps[#steps + 1] = function()
  local g = perch.frames.source{ kind = "synthetic", fps = 100, width = 320, height = 240 }
  local frames = {}
  g:on_frame(function(f, s)
    frames[#frames + 1] = f:keep()
    if #frames == 4 then
      s:close()
      local m = perch.motion.new{ width = 80 }
      local v = {}
      for i = 1, 4 do v[i] = m:update(frames[i]) end
      t.ok(v[1] == 0 and v[2] > 0 and v[4] > 0, "gray frames: first 0, then motion")
      t.is(m:stats().width, 80, "320 wide halved twice to 80")
      for _, f in ipairs(frames) do f:close() end
      next_step()
    end
  end)
end

-- dir source: JPEGs in name order; a text file and a truncated JPEG are
-- skipped and counted; the end is reported.
steps[#steps + 1] = function()
  -- three real JPEGs named so that byte order differs from creation order
  local src = perch.frames.source{ kind = "synthetic", fps = 200, width = 96, height = 64, format = "jpeg" }
  local blobs = {}
  src:on_frame(function(f, s)
    blobs[#blobs + 1] = f:bytes()
    if #blobs < 3 then return end
    s:close()
    local function put(name, data) local h = assert(io.open(tmp .. "/in/" .. name, "wb")); h:write(data); h:close() end
    put("b.jpg", blobs[2]); put("a.JPG", blobs[1]); put("c.jpeg", blobs[3])
    put("ab.jpg", "this is not a jpeg"); put("bz.jpg", blobs[1]:sub(1, #blobs[1] // 2))
    put("notes.txt", "ignored")
    local d = perch.frames.source{ kind = "dir", path = tmp .. "/in", fps = 200 }
    local got = {}
    d:on_frame(function(fr) got[#got + 1] = fr:bytes() end)
    d:on_end(function(s2, why)
      local st = s2:stats()
      t.ok(#got == 3 and got[1] == blobs[1] and got[2] == blobs[2] and got[3] == blobs[3],
        "dir: the 3 JPEGs in name order (a.JPG, b.jpg, c.jpeg)")
      t.is(st.corrupt, 2, "a text file and a truncated JPEG are skipped and counted")
      t.like(why, "no more files", "the end is reported")
      t.is(st.state, "ended", "state 'ended'")
      s2:close()
      next_step()
    end)
  end)
end

-- dir sink: numbered files, rotation by count and bytes, no temporaries.
steps[#steps + 1] = function()
  local sink = assert(perch.frames.dir_sink{ path = tmp .. "/out", max_files = 3, prefix = "cam" })
  local names = {}
  for i = 1, 5 do names[i] = assert(sink:write(string.rep(string.char(i), 100 * i))) end
  t.is(names[1], "cam-0000000001.jpg", "names: prefix, 10-digit number, .jpg")
  local st = sink:stats()
  t.ok(st.files == 3 and st.removed == 2 and st.bytes == 300 + 400 + 500, "max_files 3: the oldest 2 removed")
  local ls = io.popen("ls -A " .. tmp .. "/out"):read("a")
  t.is(ls, "cam-0000000003.jpg\ncam-0000000004.jpg\ncam-0000000005.jpg\n", "only the newest 3 on disk, no temporaries")
  sink:close()
  local again = assert(perch.frames.dir_sink{ path = tmp .. "/out", max_bytes = 950, prefix = "cam" })
  t.is(again:write("abc"), "cam-0000000006.jpg", "a new sink continues the numbering")
  again:write(string.rep("z", 600))
  t.ok(again:stats().files == 2 and again:stats().bytes == 603, "max_bytes 950: rotated down to 603 bytes")
  t.raises(function() again:write(42) end, "JPEG frame or string expected", "write wants bytes")
  again:close()
  next_step()
end

-- A slow consumer: 100 fps into a 30 ms callback.  Memory stays bounded,
-- the ring drops the oldest frames and counts them.
local function rss_kib()
  local h = io.open("/proc/self/status")
  local s = h:read("a"); h:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end
steps[#steps + 1] = function()
  local src = perch.frames.source{ kind = "synthetic", fps = 100, width = 640, height = 480, format = "rgb",
                                   ring = 3, keep = 2 }
  local n, rss0, rss_max, held = 0, nil, 0, {}
  local spin = ("x"):rep(65536)
  src:on_frame(function(f, s)
    n = n + 1
    -- spin on a C call (a 64 KiB scan, no allocation): few instructions of
    -- the budget, which a bare perch.now() loop spends in ~40 ms
    local t0 = perch.now()
    while perch.now() - t0 < 0.03 do spin:find("y", 1, true) end
    if n <= 4 then held[#held + 1] = f:keep() end       -- hold more than 'keep' allows
    if n == 8 then rss0 = rss_kib() end
    if n > 8 then rss_max = math.max(rss_max, rss_kib()) end
    if n == 40 then
      local st = s:stats()
      t.ok(st.dropped > 0 and st.dropped + st.pool_empty > 20, string.format(
        "slow consumer: %d frames dropped by the ring, %d for want of a buffer", st.dropped, st.pool_empty))
      t.ok(st.pool_in_use <= st.pool_capacity and st.pool_capacity == 6, "pool bounded at ring + keep + 1 = 6")
      t.ok(st.pool_empty > 0, "frames the held buffers left no room for are counted (" .. st.pool_empty .. ")")
      t.ok(rss_max - rss0 < 4096, string.format("RSS grew %d KiB over 32 slow frames", rss_max - rss0))
      for _, h in ipairs(held) do h:close() end
      s:close()
      next_step()
    end
  end)
end

-- fps follows the actuators live; set_fps overrides.
steps[#steps + 1] = function()
  local src = perch.frames.source{ kind = "synthetic", fps = "actuators", fps_default = 7, width = 32, height = 32 }
  t.is(src:stats().fps, 7, "fps_default until a policy asks")
  assert(perch.actuators.set{ fps = 25 })
  perch.after(300, function()
    t.is(src:stats().fps, 25, "follows perch.actuators' effective fps")
    t.ok(src:stats().follows_actuators, "stats say it follows")
    src:set_fps(3)
    assert(perch.actuators.set{ fps = 12 })
    perch.after(300, function()
      t.is(src:stats().fps, 3, "set_fps(n) stops following")
      src:set_fps(0)
      t.is(src:stats().state, "paused", "fps 0 pauses")
      src:close()
      next_step()
    end)
  end)
end

next_step()
