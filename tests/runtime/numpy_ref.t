#!/usr/bin/env bash
# Kernels against numpy (Debian's python3-numpy): numpy generates inputs and
# computes reference outputs, writes both as .npy, and perch, through its
# Lua bindings, computes the same and compares.
#   softmax: |perch - numpy| <= 1e-6 + 1e-5 * numpy, including inputs near 1e4
#   int8 quantize: the int8 codes equal numpy's exactly (round half to even)
#   int8 GEMV: y within 1e-5 relative of numpy's float32 result
. "$(dirname "$0")/lib.sh"
plan 6

/usr/bin/python3 - "$TMP" <<'PY' || { echo "Bail out! numpy could not write the test files"; exit 1; }
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(11)
f4 = '<f4'
# softmax: ordinary values and values that overflow a naive exp
for name, x in (("sm1", rng.standard_normal(1000) * 3), ("sm2", 1e4 + rng.standard_normal(257))):
    x = x.astype(f4)
    e = np.exp(x.astype(np.float64) - x.max())
    np.save(f"{d}/{name}_x.npy", x)
    np.save(f"{d}/{name}_y.npy", (e / e.sum()).astype(f4))
# int8: per-row symmetric quantization, then int32 GEMV with scales
w = rng.standard_normal((100, 384)).astype(f4)
x = rng.standard_normal(384).astype(f4)
b = rng.standard_normal(100).astype(f4)
def quant(m):
    s = (np.abs(m).max(axis=1) / np.float32(127)).astype(np.float32)
    q = np.clip(np.rint(m / s[:, None]), -127, 127).astype(np.int8)
    return q, s
q, s = quant(w)
xq, xs = quant(x[None, :])
acc = q.astype(np.int32) @ xq[0].astype(np.int32)
y = acc.astype(np.float32) * (s * xs[0]) + b
np.save(f"{d}/w.npy", w); np.save(f"{d}/x.npy", x); np.save(f"{d}/b.npy", b)
np.save(f"{d}/q.npy", q.astype(f4))         # codes as floats: .npy loads f32 only
np.save(f"{d}/xq.npy", xq[0].astype(f4))
np.save(f"{d}/y.npy", y.astype(f4))
PY

app=$(script ref <<LUA
local D, K, B = "$TMP/", perch.kernels, perch.buffer
local function load(n) return assert(perch.npy.load(D .. n .. ".npy")) end
for _, name in ipairs({ "sm1", "sm2" }) do
  local x, want = load(name .. "_x"), load(name .. "_y")
  local y = K.f32_softmax(x, B("f32", #x))
  local worst = 0
  for i = 1, #x do worst = math.max(worst, math.abs(y[i] - want[i]) - 1e-5 * want[i]) end
  print(("%s worst=%.3g"):format(name, worst))
end
local w, x, b = load("w"), load("x"), load("b")
local q, s = B("i8", #w), B("f32", 100)
K.q8_quantize(w, 100, q, s)
local qn, diff = load("q"), 0
for i = 1, #q do if q[i] ~= qn[i] then diff = diff + 1 end end
print("qdiff=" .. diff)
local xq, xs = B("i8", #x), B("f32", 1)
K.q8_quantize(x, 1, xq, xs)
local xqn, xdiff = load("xq"), 0
for i = 1, #xq do if xq[i] ~= xqn[i] then xdiff = xdiff + 1 end end
print("xqdiff=" .. xdiff)
local y, want, worst = K.q8_gemv(q, s, xq, xs[1], b, B("f32", 100)), load("y"), 0
for i = 1, 100 do worst = math.max(worst, math.abs(y[i] - want[i]) / math.max(1, math.abs(want[i]))) end
print(("gemv worst=%.3g"):format(worst))
LUA
)
perch run "$app" >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "exit 0"
check() {  # check NAME LIMIT DESCRIPTION
    local v
    v=$(sed -n "s/^$1 worst=\\(.*\\)$/\\1/p" "$TMP/out")
    /usr/bin/python3 -c "import sys; sys.exit(0 if '$v' and float('$v') <= $2 else 1)"
    ok $? "$3 (worst $v)"
}
check sm1 1e-6 "softmax matches numpy"
check sm2 1e-6 "softmax of inputs near 1e4 matches numpy (no overflow)"
like "$TMP/out" "^qdiff=0$" "int8 codes of a 100x384 matrix equal numpy's"
like "$TMP/out" "^xqdiff=0$" "int8 codes of the input vector equal numpy's"
check gemv 1e-5 "int8 GEMV matches numpy"
