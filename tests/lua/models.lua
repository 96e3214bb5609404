-- perch.esn and perch.snn: steps checked against values computed by hand (or
-- by the formula in Lua), state handling, and spec checking that names the
-- offending field.
local t = require "perch.test"
local B = perch.buffer
t.plan(62)

local function tanh(x)
  local e = math.exp(2 * x)
  return (e - 1) / (e + 1)
end
local function near(a, b) return math.abs(a - b) < 1e-5 end
local function list(b) return table.concat(b:totable(), ",") end

---------------------------------------------------------------- perch.esn
-- 2 units, 1 input: W_in = [0.5; -1], W = [0 0.5; -0.25 0], b = [0.1, 0.2]
local w_in = B.from("f32", { 0.5, -1 })
local W = { row_ptr = B.from("i32", { 0, 1, 2 }), col = B.from("i32", { 1, 0 }),
            val = B.from("f32", { 0.5, -0.25 }) }
local bias = B.from("f32", { 0.1, 0.2 })
local Wd = { { 0, 0.5 }, { -0.25, 0 } }
local Win, bv = { 0.5, -1 }, { 0.1, 0.2 }

-- x' = (1 - a) x + a tanh(W_in u + W x + b), in Lua
local function ref(x, u, a, b)
  local y = {}
  for i = 1, 2 do
    local pre = Win[i] * u + Wd[i][1] * x[1] + Wd[i][2] * x[2] + (b and b[i] or 0)
    y[i] = (1 - a) * x[i] + a * tanh(pre)
  end
  return y
end
local function matches(buf, want)
  return #buf == #want and near(buf[1], want[1]) and near(buf[2], want[2])
end

local function spec(over)
  local s = { units = 2, inputs = 1, w_in = w_in, w = W, bias = bias, leak = 1 }
  for k, v in pairs(over or {}) do s[k] = v or nil end  -- false removes a field
  return s
end

local r = perch.esn.new(spec())
t.is(tostring(r), "perch.esn (2 units, 1 inputs)", "esn __tostring")
t.is(list(r:state()), "0.0,0.0", "esn state starts at zero")
local x = r:step(B.from("f32", { 1 }))
t.ok(rawequal(x, r:state()), "esn:step returns the live state buffer")
t.ok(near(x[1], tanh(0.6)) and near(x[2], tanh(-0.8)),
  "esn leak 1, step 1: x = tanh(W_in u + b) = tanh(0.6), tanh(-0.8)")
local want = ref({ tanh(0.6), tanh(-0.8) }, 0.5, 1, bv)
r:step(B.from("f32", { 0.5 }))
t.ok(matches(x, want), "esn leak 1, step 2 uses W x")
t.is(r:reset(), r, "esn:reset returns the esn")
t.is(list(x), "0.0,0.0", "esn:reset zeroes the state")
r:step(B.from("f32", { 1 }))
t.ok(near(x[1], tanh(0.6)) and near(x[2], tanh(-0.8)), "esn after reset steps as fresh")

local h = perch.esn.new(spec { leak = 0.5 })
local hx, href = h:state(), { 0, 0 }
local ok_all = true
for step, u in ipairs { 1, 0.5, -2, 0 } do
  h:step(B.from("f32", { u }))
  href = ref(href, u, 0.5, bv)
  if not matches(hx, href) then
    ok_all = false
    t.diag(("step %d: got %s want %g,%g"):format(step, list(hx), href[1], href[2]))
  end
end
t.ok(ok_all, "esn leak 0.5: four steps follow (1-a)x + a tanh(W_in u + W x + b)")
t.ok(near(hx[1], href[1]) and hx[1] ~= 0, "esn leak 0.5 state is non-trivial")
h:reset()
t.is(list(hx), "0.0,0.0", "esn leak 0.5 reset")
h:step(B.from("f32", { 1 }))
t.ok(near(hx[1], 0.5 * tanh(0.6)) and near(hx[2], 0.5 * tanh(-0.8)),
  "esn leak 0.5, one step from zero: x = 0.5 tanh(pre)")

local nb = perch.esn.new { units = 2, inputs = 1, w_in = w_in, w = W, leak = 1 }
nb:step(B.from("f32", { 1 }))
t.ok(near(nb:state()[1], tanh(0.5)) and near(nb:state()[2], tanh(-1)), "esn without bias")

-- the CSR structure is copied: later writes to it cannot break the model
local col2 = B.from("i32", { 1, 0 })
local cp = perch.esn.new(spec { w = { row_ptr = W.row_ptr, col = col2, val = W.val } })
col2[1] = 1000
cp:step(B.from("f32", { 1 }))
cp:step(B.from("f32", { 0.5 }))
t.ok(matches(cp:state(), want), "esn keeps its own copy of the CSR indexes")

t.raises(function() r:step(B.from("f32", { 1, 2 })) end, "input has 2 values, the reservoir takes 1",
  "esn:step checks the input size")
t.raises(function() r:step(B.from("u8", { 1 })) end, "f32 buffer expected", "esn:step checks the input type")
t.raises(function() perch.esn.new(spec { units = 0 }) end, "'units' must be an integer", "esn units checked")
t.raises(function() perch.esn.new(spec { inputs = "x" }) end, "'inputs' must be an integer", "esn inputs checked")
t.raises(function() perch.esn.new(spec { w_in = B("f32", 3) }) end,
  "'w_in' has 3 values, units x inputs needs 2", "esn w_in size")
t.raises(function() perch.esn.new(spec { w_in = B("u8", 2) }) end,
  "'w_in': f32 buffer expected, got u8 buffer", "esn w_in type")
t.raises(function() perch.esn.new(spec { bias = B("f32", 3) }) end, "'bias' has 3 values", "esn bias size")
t.raises(function() perch.esn.new(spec { w = false }) end, "'w' must be a table", "esn w missing")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = B.from("i32", { 0, 2 }), col = W.col, val = W.val } })
end, "'w%.row_ptr' has 2 values, rows %+ 1 needs 3", "esn row_ptr size")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = B.from("i32", { 1, 1, 2 }), col = W.col, val = W.val } })
end, "'w%.row_ptr' must start at 0", "esn row_ptr[1] must be 0")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = B.from("i32", { 0, 2, 1 }), col = W.col, val = W.val } })
end, "'w%.row_ptr' decreases", "esn row_ptr must not decrease")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = B.from("i32", { 0, 1, 1 }), col = W.col, val = W.val } })
end, "'w%.row_ptr' ends at 1 but 'w%.col' and 'w%.val' have 2", "esn row_ptr end = #col")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = W.row_ptr, col = B.from("i32", { 1, 2 }), val = W.val } })
end, "'w%.col' entry 2 is 2, must be in 0%.%.1", "esn col < units")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = W.row_ptr, col = B.from("i32", { -1, 0 }), val = W.val } })
end, "'w%.col' entry 1 is %-1", "esn col >= 0")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = W.row_ptr, col = W.col, val = B("f32", 3) } })
end, "'w%.val' has 3 values but 'w%.col' has 2", "esn #val = #col")
t.raises(function()
  perch.esn.new(spec { w = { row_ptr = W.row_ptr, col = B("f32", 2), val = W.val } })
end, "'w%.col': i32 buffer expected, got f32 buffer", "esn col type")
t.raises(function() perch.esn.new(spec { leak = 0 }) end, "'leak' must be a number in %(0, 1%]", "esn leak 0")
t.raises(function() perch.esn.new(spec { leak = 1.5 }) end, "'leak' must be a number in %(0, 1%]", "esn leak > 1")
t.raises(function() perch.esn.new(spec { leak = 0 / 0 }) end, "'leak' must be", "esn leak NaN")

---------------------------------------------------------------- perch.snn
-- 3 neurons, 2 inputs; weights presynaptic-major (row j = input j onto each
-- neuron): input 1 -> {0.5, 1.25, 0.25}, input 2 -> {0.75, -0.5, 0.5}
local dense = B.from("f32", { 0.5, 1.25, 0.25,
                              0.75, -0.5, 0.5 })
local csr = { row_ptr = B.from("i32", { 0, 3, 6 }), col = B.from("i32", { 0, 1, 2, 2, 0, 1 }),
              val = B.from("f32", { 0.5, 1.25, 0.25, 0.5, 0.75, -0.5 }) }
local function sspec(over)
  local s = { neurons = 3, inputs = 2, weights = dense, decay = 0.5, threshold = 1, v_reset = 0,
              refractory = 2 }
  for k, v in pairs(over or {}) do s[k] = v or nil end  -- false removes a field
  return s
end

local s = perch.snn.new(sspec())
t.like(tostring(s), "^perch%.snn %(3 neurons, 2 inputs", "snn __tostring")
t.is(list(s:potentials()), "0.0,0.0,0.0", "snn potentials start at v_reset")

-- inputs per step (nil = no spikes) and the hand-computed out | count | v
local drive = { { 1, 0 }, { 1, 1 }, { 1, 0 }, { 1, 1 }, nil, false, { 1, 0 } }
local expect = {
  "0,1,0|1|0.5,0.0,0.25",      -- v = w1; neuron 2 at 1.25 fires
  "1,0,0|1|0.0,0.0,0.875",     -- v/2 + w1 + w2 = 1.5, 0.75, 0.875; 2 refractory, 1 fires
  "0,0,0|0|0.0,0.0,0.6875",    -- 1 refractory; 2 (at 1.25) still refractory
  "0,0,1|1|0.0,0.75,0.0",      -- 1 (at 1.25) refractory; 2 at 0.75; 3 at 1.09375 fires
  "0,0,0|0|0.0,0.375,0.0",     -- no input: decay only, 3 refractory
  "0,0,0|0|0.0,0.1875,0.0",    -- no input again
  "0,1,0|1|0.5,0.0,0.25",      -- 2 at 1.34375 fires
}
local function run(model, n)
  local trace, same, out0 = {}, true, nil
  for i = 1, n do
    local d = drive[i]
    local out, count
    if d == nil then out, count = model:step(nil)
    elseif d == false then out, count = model:step()
    else out, count = model:step(B.from("u8", d)) end
    out0 = out0 or out
    same = same and rawequal(out, out0)
    trace[i] = list(out) .. "|" .. count .. "|" .. list(model:potentials())
  end
  return trace, same, out0
end

local trace, same, out = run(s, #expect)
local names = { "input 1: neuron 2 fires", "inputs 1+2: neuron 1 fires, 2 refractory",
  "refractory neurons cannot fire", "neuron 1 refractory its 2nd step, 3 fires",
  "step(nil): decay only", "step(): decay only", "refractory over, neuron 2 fires" }
for i = 1, #expect do
  t.is(trace[i], expect[i], "snn dense step " .. i .. ": " .. names[i])
end
t.ok(same, "snn:step returns the same spikes buffer each step")
t.ok(rawequal(s:potentials(), s:potentials()), "snn:potentials is the live buffer")

local c = perch.snn.new(sspec { weights = false, csr = csr })
t.like(tostring(c), "csr", "snn csr __tostring")
local ctrace = run(c, #expect)
t.is(table.concat(ctrace, " / "), table.concat(trace, " / "), "snn csr gives the dense results")

t.is(s:reset(), s, "snn:reset returns the snn")
t.ok(list(s:potentials()) == "0.0,0.0,0.0" and list(out) == "0,0,0", "snn:reset: v = v_reset, spikes 0")
local _, n1 = s:step(B.from("u8", { 1, 0 }))
local _, n2 = s:step(B.from("u8", { 0, 0 }))
s:reset()
local o3, n3 = s:step(B.from("u8", { 1, 0 }))
t.ok(n1 == 1 and n2 == 0 and n3 == 1 and list(o3) == "0,1,0", "snn:reset clears refractory counters")
local vr = perch.snn.new(sspec { v_reset = -0.5 })
local vbefore = list(vr:potentials())
vr:step(B.from("u8", { 1, 1 }))
vr:reset()
t.ok(vbefore == "-0.5,-0.5,-0.5" and list(vr:potentials()) == "-0.5,-0.5,-0.5",
  "snn v starts at and resets to v_reset")

t.raises(function() s:step(B("u8", 3)) end, "spikes_in has 3 values, the layer takes 2", "snn:step input size")
t.raises(function() s:step(B("f32", 2)) end, "u8 buffer expected", "snn:step input type")
t.raises(function() perch.snn.new(sspec { csr = csr }) end, "exactly one of 'weights'", "snn weights and csr")
t.raises(function() perch.snn.new(sspec { weights = false }) end, "exactly one of 'weights'",
  "snn neither weights nor csr")
t.raises(function() perch.snn.new(sspec { weights = B("f32", 5) }) end,
  "'weights' has 5 values, inputs x neurons needs 6", "snn dense size")
t.raises(function()
  perch.snn.new(sspec { weights = false, csr = { row_ptr = B.from("i32", { 0, 1, 2, 3 }), col = csr.col,
    val = csr.val } })
end, "'csr%.row_ptr' has 4 values, rows %+ 1 needs 3", "snn csr row_ptr is inputs + 1")
t.raises(function()
  perch.snn.new(sspec { weights = false, csr = { row_ptr = csr.row_ptr,
    col = B.from("i32", { 0, 1, 3, 2, 0, 1 }), val = csr.val } })
end, "'csr%.col' entry 3 is 3, must be in 0%.%.2", "snn csr col < neurons")
t.raises(function()
  perch.snn.new(sspec { weights = false, csr = { row_ptr = csr.row_ptr,
    col = B.from("i32", { 0, 1, 2, 2, 0, 2 }), val = csr.val } })
end, "'csr%.col' repeats 2 within row 1", "snn csr columns distinct within a row")
t.raises(function() perch.snn.new(sspec { decay = 1.5 }) end, "'decay' must be in %[0, 1%]", "snn decay range")
t.raises(function() perch.snn.new(sspec { threshold = "high" }) end, "'threshold' must be a finite number",
  "snn threshold checked")
t.raises(function() perch.snn.new(sspec { refractory = -1 }) end, "'refractory' must be an integer",
  "snn refractory checked")
t.raises(function() perch.snn.new(sspec { neurons = 2.5 }) end, "'neurons' must be an integer",
  "snn neurons checked")

t.done()
