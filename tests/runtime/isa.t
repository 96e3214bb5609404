#!/usr/bin/env bash
# Kernel dispatch: perch.kernels.isa() names the variant set; PERCH_ISA
# forces one, and naming one this CPU or build cannot run is an error.
. "$(dirname "$0")/lib.sh"
plan 7

app=$(script isa <<'LUA'
print("isa=" .. perch.kernels.isa())
LUA
)
perch run "$app" >"$TMP/best.out" 2>&1
is "$?" 0 "default run: exit 0"
like "$TMP/best.out" "^isa=(avx512|avx2|sse4|neon|scalar)$" "an ISA is picked"

PERCH_ISA=scalar perch run "$app" >"$TMP/scalar.out" 2>&1
like "$TMP/scalar.out" "^isa=scalar$" "PERCH_ISA=scalar forces the reference"

PERCH_ISA=mmx perch run "$app" >"$TMP/bad.out" 2>&1
is "$?" 1 "unknown PERCH_ISA: exit 1"
like "$TMP/bad.out" "PERCH_ISA=mmx: unknown" "and the error names it"

case "$(uname -m)" in aarch64) other=avx2 ;; *) other=neon ;; esac
# Under qemu-user uname -m is the host's: ask the binary's own answer.
grep -q "isa=neon" "$TMP/best.out" && other=avx2
PERCH_ISA=$other perch run "$app" >"$TMP/other.out" 2>&1
is "$?" 1 "PERCH_ISA=$other on this machine: exit 1, no silent fallback"
like "$TMP/other.out" "PERCH_ISA=$other: not supported .*supported: scalar" "the error lists what is supported"
