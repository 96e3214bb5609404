-- perch.kernels bindings: values on small inputs computed by hand, and
-- argument checking (types, sizes, ranges) that names the problem.
local t = require "perch.test"
local K, B = perch.kernels, perch.buffer
t.plan(33)

local x = B.from("f32", { 1, 2, 3, 4 })
local y = B.from("f32", { 10, 20, 30, 40 })
K.f32_axpy(2, x, y)
t.is(table.concat(y:totable(), ","), "12.0,24.0,36.0,48.0", "f32_axpy: y += 2x")
t.is(table.concat(K.f32_scale(0.5, x, B("f32", 4)):totable(), ","), "0.5,1.0,1.5,2.0", "f32_scale")
t.is(table.concat(K.f32_add(x, x, B("f32", 4)):totable(), ","), "2.0,4.0,6.0,8.0", "f32_add")
t.is(table.concat(K.f32_relu(B.from("f32", { -1, 0, 2 }), B("f32", 3)):totable(), ","),
  "0.0,0.0,2.0", "f32_relu")

local a = B.from("u8", { 0, 10, 200, 50 })
local b = B.from("u8", { 5, 10, 100, 90 })
local diff = B("u8", 4)
local n, frac = K.u8_motion(a, b, 20, diff)
t.is(n, 2, "u8_motion counts |a-b| > 20")
t.is(frac, 0.5, "and the changed fraction")
t.is(table.concat(diff:totable(), ","), "5,0,100,40", "and writes the difference image")
t.raises(function() K.u8_motion(a, b, 300) end, "threshold must be 0%.%.255", "threshold range")

local rgb = B.from("u8", { 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255 })
t.is(table.concat(K.u8_rgb2gray(rgb, B("u8", 4)):totable(), ","), "77,149,29,255",
  "u8_rgb2gray with BT.601 integer weights")
t.raises(function() K.u8_rgb2gray(rgb, B("u8", 5)) end, "length 12, 3 x the gray buffer's length needs 15",
  "rgb size checked")
t.is(table.concat(K.u8_yuyv2gray(B.from("u8", { 16, 128, 235, 128 }), B("u8", 2)):totable(), ","),
  "16,235", "u8_yuyv2gray keeps Y")
local img = B.from("u8", { 0, 4, 8, 8,
                           4, 8, 8, 8 })
t.is(table.concat(K.u8_down2x2(img, 4, 2, B("u8", 2)):totable(), ","), "4,8", "u8_down2x2 averages 2x2")
local bg = B.from("u8", { 0, 100 })
K.u8_bg_update(bg, B.from("u8", { 100, 0 }), 1)
t.is(table.concat(bg:totable(), ","), "50,50", "u8_bg_update moves half way at shift 1")

local sig = B.from("f32", { 1, 2, 3, 4, 5 })
t.is(table.concat(K.sig_fir(sig, B.from("f32", { 1, 1 }), B("f32", 4)):totable(), ","),
  "3.0,5.0,7.0,9.0", "sig_fir: valid correlation")
t.raises(function() K.sig_fir(sig, B.from("f32", { 1, 1 }), B("f32", 5)) end, "#x %- #taps %+ 1",
  "fir output size checked")
t.is(table.concat(K.sig_gain(sig, 2, B("f32", 5)):totable(), ","), "2.0,4.0,6.0,8.0,10.0", "sig_gain")
t.is(table.concat(K.sig_mix(sig, 1, sig, -1, B("f32", 5)):totable(), ","), "0.0,0.0,0.0,0.0,0.0", "sig_mix")
t.raises(function() K.f32_axpy("two", x, y) end, "number expected", "scalar argument checked")
t.raises(function() K.f32_add(x, B("f32", 3), y) end, "bad argument #2 to 'f32_add' %(length 3", "sizes checked")
t.raises(function() K.u8_motion(x, x, 1) end, "u8 buffer expected, got f32 buffer", "types checked")
local W = B.from("f32", { 1, 2, 3,
                          4, 5, 6 })
local v = B.from("f32", { 1, 1, 1 })
t.is(table.concat(K.f32_gemv_bias(W, v, B.from("f32", { 10, 20 }), B("f32", 2)):totable(), ","),
  "16.0,35.0", "f32_gemv_bias: W x + b")
t.raises(function() K.f32_gemv_bias(W, B("f32", 2), nil, B("f32", 2)) end, "#y x #x", "gemv shapes checked")
local sm = K.f32_softmax(B.from("f32", { 1000, 1000 }), B("f32", 2))
t.is(table.concat(sm:totable(), ","), "0.5,0.5", "f32_softmax is stable for large inputs")
t.ok(math.abs(K.f32_tanh(B.from("f32", { 0.5 }), B("f32", 1))[1] - 0.46211715) < 1e-6, "f32_tanh(0.5)")
local q, sc = B("i8", 6), B("f32", 2)
K.q8_quantize(W, 2, q, sc)
t.is(table.concat(q:totable(), ","), "42,85,127,85,106,127", "q8_quantize per row")
local y8 = K.q8_gemv(q, sc, B.from("i8", { 127, 127, 127 }), 1 / 127, nil, B("f32", 2))
t.ok(math.abs(y8[1] - 6) < 0.05 and math.abs(y8[2] - 15) < 0.1, "q8_gemv approximates W x")
-- ESN: 2 units, 1 input; W has one entry (row 1 reads unit 2)
local function tanh(z) local e = math.exp(2 * z) return (e - 1) / (e + 1) end
local ex, pre = B.from("f32", { 0.5, -0.5 }), B("f32", 2)
K.esn_update(ex, B.from("f32", { 1 }), B.from("f32", { 0.2, -0.4 }), B.from("i32", { 0, 1, 1 }),
  B.from("i32", { 1 }), B.from("f32", { 0.8 }), B.from("f32", { 0.1, 0 }), 0.5, pre)
t.ok(math.abs(ex[1] - (0.25 + 0.5 * tanh(0.2 - 0.4 + 0.1))) < 1e-5 and
     math.abs(ex[2] - (-0.25 + 0.5 * tanh(-0.4))) < 1e-5, "esn_update: one step by hand")
t.raises(function()
  K.esn_update(ex, B("f32", 1), B("f32", 2), B.from("i32", { 0, 1, 1 }), B.from("i32", { 2 }),
    B.from("f32", { 1 }), nil, 0.5, pre)
end, "bad argument #5 to 'esn_update' %(entry 1 is 2, must be in 0%.%.1%)", "a CSR column out of range is refused")
-- LIF: 2 neurons, 2 inputs, dense weights input-major
local v, refr, out = B.from("f32", { 0.9, 0 }), B("i32", 2), B("u8", 2)
local w = B.from("f32", { 0.5, 0.2,    -- input 1 onto neurons 1, 2
                          0.0, 0.3 })  -- input 2
local _, count = K.lif_step(v, refr, B.from("u8", { 1, 1 }), w, 0.5, 0.9, 0, 2, out)
t.is(table.concat(out:totable(), ",") .. " " .. count, "1,0 1", "lif_step: neuron 1 fires (0.45+0.5 >= 0.9)")
t.ok(v[1] == 0 and math.abs(v[2] - 0.5) < 1e-6 and refr[1] == 2, "lif_step: reset, potential, refractory")
K.lif_step(v, refr, nil, w, 0.5, 0.9, 0, 2, out)
t.ok(math.abs(v[2] - 0.25) < 1e-6 and refr[1] == 1, "lif_step without input decays and counts down")
local v2, r2, o2 = B.from("f32", { 0.9, 0 }), B("i32", 2), B("u8", 2)
K.lif_step_csr(v2, r2, B.from("u8", { 1, 1 }), B.from("i32", { 0, 2, 3 }), B.from("i32", { 0, 1, 1 }),
  B.from("f32", { 0.5, 0.2, 0.3 }), 0.5, 0.9, 0, 2, o2)
t.is(table.concat(o2:totable(), ","), "1,0", "lif_step_csr gives the dense result")
t.raises(function() K.lif_step(v, refr, nil, B("f32", 3), 0.5, 0.9, 0, 2, out) end,
  "multiple of #v", "lif_step weight size checked")
t.done()
