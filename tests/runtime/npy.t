#!/usr/bin/env bash
# perch.npy.load on files written by numpy itself (Debian's python3-numpy):
# values and shapes match; files perch cannot use give nil and a reason.
. "$(dirname "$0")/lib.sh"
plan 7

/usr/bin/python3 - "$TMP" <<'PY' || { echo "Bail out! numpy could not write the test files"; exit 1; }
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
a = rng.standard_normal((100, 384)).astype('<f4')
np.save(f"{d}/w.npy", a)
np.save(f"{d}/v.npy", np.arange(5, dtype='<f4'))
np.save(f"{d}/f8.npy", np.zeros(3))
np.save(f"{d}/fortran.npy", np.asfortranarray(a))
np.save(f"{d}/i8.npy", np.zeros(4, dtype=np.int8))
with open(f"{d}/sum.txt", "w") as f:
    f.write("%.6e %.6e\n" % (a.astype(np.float64).sum(), a[99, 383]))
PY

app=$(script load <<LUA
local w, shape = perch.npy.load("$TMP/w.npy")
local s = 0
for i = 1, #w do s = s + w[i] end
print(("shape=%d,%d sum=%.6e last=%.6e"):format(shape[1], shape[2], s, w[#w]))
local v = perch.npy.load("$TMP/v.npy")
print("v=" .. table.concat(v:totable(), ","))
for _, name in ipairs({ "f8", "fortran", "i8", "missing" }) do
  local b, err = perch.npy.load("$TMP/" .. name .. ".npy")
  print(name .. ": " .. tostring(b) .. " " .. tostring(err))
end
LUA
)
perch run "$app" >"$TMP/out" 2>"$TMP/err"
read -r want_sum want_last <"$TMP/sum.txt"
like "$TMP/out" "^shape=100,384 " "2-d shape from numpy"
got_sum=$(sed -n 's/.* sum=\([^ ]*\) .*/\1/p' "$TMP/out")
/usr/bin/python3 -c "import sys; g, w = float('$got_sum'), float('$want_sum'); sys.exit(0 if abs(g - w) <= 1e-3 * max(1, abs(w)) else 1)"
ok $? "sum of 38400 values matches numpy ($got_sum vs $want_sum)"
is "$(sed -n 's/.* last=\([^ ]*\)$/\1/p' "$TMP/out")" "$want_last" "row-major order: the last element matches"
like "$TMP/out" "^v=0.0,1.0,2.0,3.0,4.0$" "1-d array"
like "$TMP/out" "^f8: nil .*f8\.npy: dtype '<f8' is not supported" "float64 refused with a reason"
like "$TMP/out" "^fortran: nil .*Fortran order is not supported" "Fortran order refused"
like "$TMP/out" "^i8: nil .*dtype '\|i1'" "int8 refused"
