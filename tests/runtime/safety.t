#!/usr/bin/env bash
# The safety floor holds even when every Lua policy is broken: with a fake
# sysfs tree over its critical trip point, a policy that asks for 30 fps and
# full CPU speed and then raises on every call gets neither; the app keeps
# running; cooling below critical - 5 °C brings the last requests back.
# --dry-run writes nothing; bad safety config is refused at the command line.
. "$(dirname "$0")/lib.sh"
plan 19

sys="$TMP/sys"
tz="$sys/class/thermal/thermal_zone0"
cf="$sys/devices/system/cpu/cpufreq/policy0"
make_tree() {
    rm -rf "$sys"
    mkdir -p "$tz" "$cf"
    echo cpu-thermal >"$tz/type"
    echo 95000 >"$tz/temp"
    echo critical >"$tz/trip_point_0_type"
    echo 90000 >"$tz/trip_point_0_temp"
    echo 600000 >"$cf/cpuinfo_min_freq"
    echo 1800000 >"$cf/cpuinfo_max_freq"
    echo 1500000 >"$cf/scaling_max_freq"
    echo schedutil >"$cf/scaling_governor"
    echo "performance schedutil" >"$cf/scaling_available_governors"
}

app=$(script broken <<'LUA'
local root = perch.config.sysfs.root
local function read(path)
  local f = assert(io.open(root .. path))
  local s = f:read("l")
  f:close()
  return s
end
local function policy()
  perch.actuators.set{ fps = 30, cpu_max_khz = 1800000 }
  error("policy is broken")        -- line 10
end
local ticks = 0
perch.every(20, function() ticks = ticks + 1; policy() end)

perch.after(300, function()
  local a = perch.actuators.get()
  print(("hot: engaged=%s temp=%s crit=%s fps=%s/%s by=%s cpu=%s file=%s mode=%s"):format(
    a.safety.engaged, a.safety.temp, a.safety.crit, a.fps.requested, a.fps.effective,
    a.fps.clamped_by, a.cpu_max_khz.effective,
    read("/devices/system/cpu/cpufreq/policy0/scaling_max_freq"), a.cpu_max_khz.mode))
  io.stdout:flush()
  local f = assert(io.open(root .. "/class/thermal/thermal_zone0/temp", "w"))
  f:write("84000\n")
  f:close()
  perch.after(300, function()
    local b = perch.actuators.get()
    print(("cool: engaged=%s fps=%s by=%s ticks>10=%s"):format(b.safety.engaged,
      b.fps.effective, b.fps.clamped_by, ticks > 10))
    perch.stop()
  end)
end)
LUA
)

make_tree
start hot run "$app" --set sysfs.root="$sys" --set sensors.period_ms=50 \
    --set lua.max_failures=0 --duration 60
wait_exit "$PID" 60
is "$STATUS" 0 "perch exits 0: the broken policy did not stop the app"
like "$TMP/hot.err" "broken\.lua:10: policy is broken" "the policy's error is logged with file:line"
like "$TMP/hot.out" "^hot: engaged=true temp=95(\.0)? crit=90(\.0)? " "floor engaged at the zone's critical trip"
like "$TMP/hot.out" "^hot: .* fps=30/1 by=safety " "fps: requested 30, effective 1 (safety.min_fps)"
like "$TMP/hot.out" "^hot: .* cpu=600000 file=600000 mode=write" "scaling_max_freq held cpuinfo_min"
like "$TMP/hot.err" "WARN .*safety: floor engaged: thermal_zone0 \(cpu-thermal\) at 95\.0 °C >= critical 90\.0 °C" "engaging logged as a warning with the temperature"
like "$TMP/hot.out" "^cool: engaged=false fps=30 by=nil ticks>10=true" "84 °C: released, fps back to 30, timer kept running"
like "$TMP/hot.err" "INFO .*floor released: thermal_zone0 at 84\.0 °C < 85\.0 °C" "release logged with the temperature"
is "$(cat "$cf/scaling_max_freq")" 1800000 "the last requested frequency came back"
is "$(count "$TMP/hot.err" "floor engaged")" 1 "engaged once"

# Dry-run: the same hot tree, nothing written.
make_tree
start dry run "$app" --set sysfs.root="$sys" --set sensors.period_ms=50 --dry-run --duration 60
wait_exit "$PID" 60
is "$STATUS" 0 "--dry-run: exits 0"
like "$TMP/dry.out" "^hot: engaged=true .* fps=30/1 by=safety cpu=600000 file=1500000 mode=dry-run" "effective values computed, file untouched, mode dry-run"
like "$TMP/dry.err" "cpu_max_khz \(dry-run\): would write 600000 to .*/policy0/scaling_max_freq" "the write it would do is logged"
is "$(cat "$cf/scaling_max_freq")" 1500000 "nothing was written"

# An unwritable scaling_max_freq (a directory: no write even as root).
make_tree
rm "$cf/scaling_max_freq"
mkdir "$cf/scaling_max_freq"
start ro run "$app" --set sysfs.root="$sys" --set sensors.period_ms=50 --duration 60
wait_exit "$PID" 60
is "$STATUS" 0 "unwritable attribute: exits 0"
like "$TMP/ro.out" "^hot: engaged=true .* mode=dry-run" "cpu_max_khz reports dry-run"
is "$(count "$TMP/ro.err" "reporting dry-run from now on")" 1 "logged once"

# Bad values are refused before anything runs.
perch run "$app" --set safety.crit_c=hot >"$TMP/bad.out" 2>"$TMP/bad.err"
is "$?" 2 "bad safety.crit_c: exit 2"
like "$TMP/bad.err" "safety.crit_c=hot: safety.crit_c must be a temperature in °C" "the message names the key"
