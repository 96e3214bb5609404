#!/usr/bin/env bash
# perch.mlp against numpy: weights and inputs generated and saved by numpy,
# the forward pass computed by both, compared within a stated tolerance
# (|perch - numpy| <= 1e-4 * max(1, |numpy|) per output; the float32 sums
# are reassociated by the SIMD kernels).  Also: bad specs give nil + reason.
. "$(dirname "$0")/lib.sh"
plan 11

/usr/bin/python3 - "$TMP" <<'PY' || { echo "Bail out! numpy could not write the test files"; exit 1; }
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(42)
sizes = [384, 100, 50, 3]
acts = ["relu", "tanh", "softmax"]
x = rng.standard_normal(sizes[0]).astype('<f4')
np.save(f"{d}/x.npy", x)
h = x.astype(np.float64)
for i in range(3):
    w = (rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i])).astype('<f4')
    b = (0.1 * rng.standard_normal(sizes[i + 1])).astype('<f4')
    np.save(f"{d}/w{i}.npy", w)
    np.save(f"{d}/b{i}.npy", b)
    h = w.astype(np.float64) @ h + b
    if acts[i] == "relu": h = np.maximum(h, 0)
    elif acts[i] == "tanh": h = np.tanh(h)
    else:
        e = np.exp(h - h.max()); h = e / e.sum()
np.save(f"{d}/want.npy", h.astype('<f4'))
np.save(f"{d}/bad_w.npy", np.zeros((7, 99), dtype='<f4'))
np.save(f"{d}/w3d.npy", np.zeros((2, 2, 2), dtype='<f4'))
PY

app=$(script mlp <<LUA
local D = "$TMP/"
local spec = {
  { weights = D .. "w0.npy", bias = D .. "b0.npy", activation = "relu" },
  { weights = D .. "w1.npy", bias = D .. "b1.npy", activation = "tanh" },
  { weights = D .. "w2.npy", bias = D .. "b2.npy", activation = "softmax" },
}
local m = assert(perch.mlp.load(spec))
collectgarbage("collect")  -- the model must keep its weight buffers alive
print(tostring(m))
local x = assert(perch.npy.load(D .. "x.npy"))
local want = assert(perch.npy.load(D .. "want.npy"))
local y = perch.buffer("f32", 3)
m:forward(x, y)
local worst, sum = 0, 0
for i = 1, 3 do
  worst = math.max(worst, math.abs(y[i] - want[i]) / math.max(1, math.abs(want[i])))
  sum = sum + y[i]
end
print(("worst=%.3g sum=%.6f"):format(worst, sum))
print("y=" .. table.concat(y:totable(), ","))
-- int8: quantized weights and inputs, looser tolerance
m:quantize()
collectgarbage("collect")
local yq = perch.buffer("f32", 3)
m:forward(x, yq)
local qworst = 0
for i = 1, 3 do qworst = math.max(qworst, math.abs(yq[i] - want[i])) end
print(("qworst=%.3g int8=%s"):format(qworst, tostring(m:info()[1].int8)))
-- bad specs
local _, e1 = perch.mlp.load({ { weights = D .. "w0.npy" }, { weights = D .. "bad_w.npy" } })
print("mismatch: " .. tostring(e1))
local _, e2 = perch.mlp.load({ { weights = D .. "w3d.npy" } })
print("3d: " .. tostring(e2))
local _, e3 = perch.mlp.load({ { weights = D .. "nope.npy" } })
print("missing: " .. tostring(e3))
print("badsize: " .. tostring(select(2, pcall(m.forward, m, perch.buffer("f32", 10), y))))
LUA
)
perch run "$app" >"$TMP/out" 2>"$TMP/err"
is "$?" 0 "exit 0"
like "$TMP/out" "^perch\.mlp \(384->100->50->3\)$" "the model's shape"
worst=$(sed -n 's/^worst=\([^ ]*\) .*/\1/p' "$TMP/out")
/usr/bin/python3 -c "import sys; sys.exit(0 if float('$worst') <= 1e-4 else 1)"
ok $? "forward matches numpy within 1e-4 (worst relative error $worst)"
like "$TMP/out" "sum=1\.0000" "softmax output sums to 1"
like "$TMP/out" "^mismatch: .*bad_w\.npy: layer 2 takes 99 inputs but layer 1 gives 100" "layer width mismatch explained"
like "$TMP/out" "^3d: .*must be 2-d" "3-d weights refused"
like "$TMP/out" "^missing: .*nope\.npy: cannot open" "missing file named"
like "$TMP/out" "^badsize: .*input has 10 values, the model takes 384" "wrong input size raises a clear error"
qworst=$(sed -n 's/^qworst=\([^ ]*\) .*/\1/p' "$TMP/out")
/usr/bin/python3 -c "import sys; sys.exit(0 if float('$qworst') <= 0.02 else 1)"
ok $? "int8 forward within 0.02 of numpy's float64 result (worst $qworst)"
like "$TMP/out" "int8=true" "info() reports the int8 weights"
unlike "$TMP/err" "ERROR" "nothing logged as an error"
