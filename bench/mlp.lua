-- mlp.lua - perch.mlp forward pass, f32 and int8, through the Lua binding
-- (what an app pays).  bench/run writes the weights with numpy and runs:
--   perch run bench/mlp.lua --set dir=DIR [--set tag=scalar]
-- Reports mlp.forward.f32[.tag] and mlp.forward.int8[.tag] in ns per call.
local dir = assert(perch.config.dir, "--set dir=DIR (the .npy files)")
local tag = perch.config.tag and ("." .. perch.config.tag) or ""

local spec = {}
for i, act in ipairs({ "relu", "relu", "softmax" }) do
  spec[i] = { weights = ("%s/w%d.npy"):format(dir, i - 1), bias = ("%s/b%d.npy"):format(dir, i - 1),
              activation = act }
end
local m = assert(perch.mlp.load(spec))
local x = assert(perch.npy.load(dir .. "/x.npy"))
local y = perch.buffer("f32", 3)

local report = require("report").report

-- Best of 5 rounds; each round long enough to swamp the clock's cost.
local function time(n)
  local best = math.huge
  for _ = 1, 5 do
    local t0 = perch.now()
    for _ = 1, n do m:forward(x, y) end
    best = math.min(best, (perch.now() - t0) / n)
  end
  return best * 1e9
end

perch.after(0, function()
  report("mlp.forward.f32" .. tag, time(2000), "ns")
  m:quantize()
  report("mlp.forward.int8" .. tag, time(2000), "ns")
  perch.stop()
end)
