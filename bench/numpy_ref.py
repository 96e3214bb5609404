#!/usr/bin/python3
"""numpy_ref.py - the same work as perch's kernels, done by numpy from Python,
and each kernel figure as a fraction of the measured roofline,
timed in the same `make bench` run.  Appends one record per figure to
$BENCH_JSON (name "numpy.<work>", ns per call) and, where a perch figure
for the same work is already there (PAIRS), a "vs.numpy.<work>" record with
the ratio numpy / perch (above 1: perch is faster)."""
import json
import os
import sys
import timeit

try:
    import numpy as np
except ImportError:
    print("numpy_ref: python3-numpy is not installed; skipped")
    sys.exit(0)

rng = np.random.default_rng(1)
f32 = np.float32


def t_ns(fn, number=None):
    """Best of 5 of the mean time per call, in ns."""
    if number is None:
        n, _ = timeit.Timer(fn).autorange()
        number = max(n, 10)
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e9


a384, b384 = rng.standard_normal(384).astype(f32), rng.standard_normal(384).astype(f32)
a4k, b4k = rng.standard_normal(4096).astype(f32), rng.standard_normal(4096).astype(f32)
w = rng.standard_normal((100, 384)).astype(f32)
bias = rng.standard_normal(100).astype(f32)
x1k = rng.standard_normal(1000).astype(f32)
w1, b1 = rng.standard_normal((100, 384)).astype(f32), rng.standard_normal(100).astype(f32)
w2, b2 = rng.standard_normal((50, 100)).astype(f32), rng.standard_normal(50).astype(f32)
w3, b3 = rng.standard_normal((3, 50)).astype(f32), rng.standard_normal(3).astype(f32)
fa = rng.integers(0, 256, 640 * 480, dtype=np.uint8)
fb = rng.integers(0, 256, 640 * 480, dtype=np.uint8)
rgb = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
sig = rng.standard_normal(4096).astype(f32)
taps = rng.standard_normal(64).astype(f32)


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def mlp(x):
    h = np.maximum(w1 @ x + b1, 0)
    h = np.maximum(w2 @ h + b2, 0)
    return softmax(w3 @ h + b3)


def motion():
    return np.count_nonzero(np.abs(fa.astype(np.int16) - fb.astype(np.int16)) > 20)


def gray():
    return ((rgb[..., 0].astype(np.uint16) * 77 + rgb[..., 1].astype(np.uint16) * 150
             + rgb[..., 2].astype(np.uint16) * 29 + 128) >> 8).astype(np.uint8)


# int8 GEMV 100x384 (rows x cols) with per-row scales, as q8_gemv
q8w = rng.integers(-127, 128, (100, 384), dtype=np.int8)
q8x = rng.integers(-127, 128, 384, dtype=np.int8)
q8s = rng.random(100).astype(f32)
wq = rng.standard_normal((100, 384)).astype(f32)


def quantize():
    sc = np.abs(wq).max(axis=1) / f32(127)
    return np.clip(np.rint(wq / sc[:, None]), -127, 127).astype(np.int8)


# ESN 1000 units, 384 inputs, 10% recurrent density (dense matmul: numpy's
# best without scipy), leak 0.3
esn_win = rng.standard_normal((1000, 384)).astype(f32)
esn_w = (rng.standard_normal((1000, 1000)) * (rng.random((1000, 1000)) < 0.1)).astype(f32)
esn_b = rng.standard_normal(1000).astype(f32)
esn_x = np.zeros(1000, f32)
esn_u = rng.standard_normal(384).astype(f32)


def esn():
    return f32(0.7) * esn_x + f32(0.3) * np.tanh(esn_win @ esn_u + esn_w @ esn_x + esn_b)


# LIF 1024 neurons: decay, input rows of the spiking inputs, threshold
lif_v = rng.random(1024).astype(f32)
lif_r = np.zeros(1024, np.int32)
lif_w = rng.standard_normal((1024, 1024)).astype(f32)
lif_idx = np.flatnonzero(rng.random(1024) < 0.05)


def lif(inputs):
    v = lif_v * f32(0.9)
    if inputs:
        v += lif_w[lif_idx].sum(axis=0)
    fire = (v >= f32(1.0)) & (lif_r == 0)
    v[fire] = 0
    return fire


work = {
    "f32_dot.384": lambda: np.dot(a384, b384),
    "f32_dot.4096": lambda: np.dot(a4k, b4k),
    "f32_gemv_bias.100x384": lambda: w @ a384 + bias,
    "f32_tanh.1000": lambda: np.tanh(x1k),
    "f32_exp.1000": lambda: np.exp(x1k),
    "f32_softmax.1000": lambda: softmax(x1k),
    "mlp.384-100-50-3": lambda: mlp(a384),
    "u8_motion.640x480": motion,
    "u8_rgb2gray.640x480": gray,
    "sig_fir.4096x64": lambda: np.correlate(sig, taps, mode="valid"),
    "q8_gemv.100x384": lambda: (q8w.astype(np.int32) @ q8x.astype(np.int32)) * q8s,
    "q8_quantize.100x384": quantize,
    "esn_update.1000x384.d10": esn,
    "lif_step.1024.noinput": lambda: lif(False),
    "lif_step.1024x1024.spk5": lambda: lif(True),
}

# perch figure (ns per call, best variant) doing the same work.
PAIRS = {
    "f32_dot.384": "f32.dot.384.best",
    "f32_dot.4096": "f32.dot.4096.best",
    "f32_gemv_bias.100x384": "f32.gemv_bias.100x384.best",
    "f32_tanh.1000": "f32.tanh.1000.best",
    "f32_exp.1000": "f32.exp.1000.best",
    "f32_softmax.1000": "f32.softmax.1000.best",
    "mlp.384-100-50-3": "mlp.forward.f32",
    "u8_motion.640x480": "u8.motion.640x480.best",
    "u8_rgb2gray.640x480": "u8.rgb2gray.640x480.best",
    "sig_fir.4096x64": "sig.fir.4096x64.best",
    "q8_gemv.100x384": "q8.gemv.384x100.best",
    "q8_quantize.100x384": "q8.quantize.100x384.best",
    "esn_update.1000x384.d10": "nn.esn.1000x384.d10.best",
    "lif_step.1024.noinput": "nn.lif.1024.noinput.best",
    "lif_step.1024x1024.spk5": "nn.lif.1024x1024.spk5.best",
}

path = os.environ.get("BENCH_JSON")
have = {}
if path and os.path.exists(path):
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
                have[r["name"]] = r
            except ValueError:
                pass

records = []
for name, fn in work.items():
    ns = t_ns(fn)
    records.append({"name": "numpy." + name, "value": round(ns, 4), "unit": "ns"})
    print("%-44s %12.2f ns" % ("numpy." + name, ns))
    p = have.get(PAIRS.get(name, ""))
    if p and p.get("unit") == "ns" and p["value"] > 0:
        ratio = ns / p["value"]
        records.append({"name": "vs.numpy." + name, "value": round(ratio, 4), "unit": "x",
                        "vs": "numpy." + name, "ratio": round(ratio, 4)})
        print("%-44s %12.2f x faster than numpy (%s)" % ("vs.numpy." + name, ratio, PAIRS[name]))
# Fraction of this machine's roofline for each kernel figure measured above:
# compute-bound figures (GFLOP/s) against the single-core FMA peak, streaming
# ones (GB/s) against the L2 read bandwidth (every benchmark's working set
# fits L2; hot caches, as the goals are stated).
peak = have.get("roof.fma_peak.1core", {}).get("value")
l2 = have.get("roof.read.l2", {}).get("value")
for name, r in sorted(have.items()):
    if name.endswith(".best.gflops") and peak:
        ceiling, what = peak, "roof.fma_peak.1core"
    elif name.endswith(".best.gbps") and l2:
        ceiling, what = l2, "roof.read.l2"
    else:
        continue
    frac = r["value"] / ceiling
    records.append({"name": "roof.frac." + name, "value": round(frac, 4), "unit": "fraction",
                    "vs": what, "ratio": round(frac, 4)})
    print("%-44s %12.2f of %s" % ("roof.frac." + name, frac, what))

if path:
    with open(path, "a") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
