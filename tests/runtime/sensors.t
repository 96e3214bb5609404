#!/usr/bin/env bash
# perch.sensors from a running app on a fake sysfs tree (--set sysfs.root):
# what read() and inputs() return, a value the test changes while the app
# runs, files the test removes going stale, an empty tree and malformed
# files said explicitly, and bad sensor options refused naming the key.
. "$(dirname "$0")/lib.sh"
plan 29

SYS=$TMP/sys
PS=$SYS/class/power_supply
TZ=$SYS/class/thermal
put() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" >"$1"; }

put "$PS/BAT0/type" Battery
put "$PS/BAT0/scope" System
put "$PS/BAT0/status" Discharging
put "$PS/BAT0/capacity" 57
put "$PS/BAT0/voltage_now" 3850000
put "$PS/BAT0/current_now" 1200000
put "$PS/AC/type" Mains
put "$PS/AC/online" 0
put "$TZ/thermal_zone0/type" cpu-thermal
put "$TZ/thermal_zone0/temp" 48312
put "$TZ/thermal_zone0/trip_point_0_type" passive
put "$TZ/thermal_zone0/trip_point_0_temp" 75000
put "$TZ/thermal_zone0/trip_point_1_type" critical
put "$TZ/thermal_zone0/trip_point_1_temp" 90000
put "$TZ/thermal_zone1/type" gpu-thermal
put "$TZ/thermal_zone1/temp" 41000
put "$SYS/devices/system/cpu/cpufreq/policy0/scaling_governor" ondemand
put "$SYS/devices/system/cpu/cpufreq/policy0/scaling_available_governors" "powersave ondemand performance "
put "$SYS/devices/system/cpu/cpufreq/policy0/scaling_cur_freq" 1200000
put "$SYS/devices/system/cpu/cpufreq/policy0/cpuinfo_min_freq" 600000
put "$SYS/devices/platform/soc/soc:firmware/get_throttled" 50005

# Prints "key=value" lines the test greps; phases are driven from outside.
app=$(script sensors <<'LUA'
local S = perch.sensors
local function inputs_line(tag)
  local i = S.inputs()
  local st = {}
  for k, v in pairs(i.stale) do st[#st + 1] = k .. ":" .. v end
  table.sort(st)
  print(("%s battery=%s on_ac=%s charging=%s power_w=%s temp=%s temp_crit=%s throttled=%s stale=%s time=%s")
    :format(tag, i.battery, i.on_ac, i.charging, i.power_w and ("%.3f"):format(i.power_w),
            i.temp, i.temp_crit, i.throttled, table.concat(st, ","), type(i.time)))
end
local r = S.read()
local bat, ac = r.supplies[2], r.supplies[1]
print(("read supplies=%d %s:%s:%s capacity=%s age_ok=%s stale=%s stuck=%s %s:online=%s")
  :format(#r.supplies, bat.name, bat.type, bat.status, bat.capacity.value,
          tostring(bat.capacity.age >= 0 and bat.capacity.age < 5), bat.capacity.stale,
          bat.capacity.stuck, ac.name, ac.online))
print(("zones=%d %s temp=%s trips=%d crit=%s"):format(#r.zones, r.zones[1].type,
  r.zones[1].temp.value, #r.zones[1].trips, r.zones[1].crit))
local c = r.cpufreq[1]
print(("cpufreq %s governor=%s governors=%s cur=%s cpuinfo_min=%s"):format(c.name, c.governor,
  table.concat(c.governors, "+"), c.cur.value, c.cpuinfo_min))
local t = r.throttled
print(("throttled present=%s raw=%s under_voltage=%s throttled=%s capped=%s occurred=%s,%s")
  :format(t.present, t.raw, t.under_voltage, t.throttled, t.freq_capped,
          t.occurred.under_voltage, t.occurred.soft_temp_limit))
print(("summary no_battery=%s no_thermal=%s battery=%s discharging=%s temp=%s hot=%s")
  :format(r.summary.no_battery, r.summary.no_thermal, r.summary.battery,
          r.summary.discharging, r.summary.temp, r.summary.hot_zone))
inputs_line("start")

local samples = 0
local sub = S.on_sample(function() samples = samples + 1 end)
print("sub " .. tostring(sub))

local phase = "change"
perch.every(10, function(h)
  local i = S.inputs()
  if phase == "change" and i.battery == 42 then
    inputs_line("changed")
    phase = "stale"
    print("removing")
  elseif phase == "stale" and i.stale.battery == "stale" then
    inputs_line("stale")
    local z = S.read().zones[1].temp
    print(("zone0 stale=%s value=%s age_ok=%s"):format(z.stale, z.value, tostring(z.age > 0.5)))
    print(("samples_ok=%s"):format(tostring(samples > 3)))
    sub:close()
    h:stop()
    perch.stop()
  end
end)
LUA
)

start live run "$app" --set sysfs.root="$SYS" --set sensors.period_ms=20 --set sensors.stale_s=0.5 \
    --duration 20
wait_for "$TMP/live.out" '^start ' 10
like "$TMP/live.out" '^read supplies=2 BAT0:Battery:Discharging capacity=57 age_ok=true stale=false stuck=false AC:online=false$' \
    "read(): supplies with tracked capacity {value, age, stale, stuck}"
like "$TMP/live.out" '^zones=2 cpu-thermal temp=48.312 trips=2 crit=90.0$' "read(): zones with trips and critical"
like "$TMP/live.out" '^cpufreq policy0 governor=ondemand governors=powersave\+ondemand\+performance cur=1200000 cpuinfo_min=600000$' \
    "read(): cpufreq with the governors list"
like "$TMP/live.out" '^throttled present=true raw=327685 under_voltage=true throttled=true capped=false occurred=true,false$' \
    "read(): throttled 50005 decoded (now and since boot)"
like "$TMP/live.out" '^summary no_battery=false no_thermal=false battery=57.0 discharging=true temp=48.312 hot=thermal_zone0$' \
    "read(): summary"
like "$TMP/live.out" '^start battery=57.0 on_ac=false charging=false power_w=-4.620 temp=48.312 temp_crit=90.0 throttled=true stale= time=number$' \
    "inputs(): the flat table of the contract"
like "$TMP/live.out" '^sub perch.sensors.sub \(.*sensors.lua:[0-9]+\)$' "on_sample returns a handle"

# Change a value while it runs.
put "$PS/BAT0/capacity" 42
wait_for "$TMP/live.out" '^removing' 10
ok $? "the app saw the capacity the test wrote"
like "$TMP/live.out" '^changed battery=42.0 on_ac=false' "inputs().battery follows the file"

# Remove files: stale after sensors.stale_s, the other zone takes over.
# The zone first: it must be stale by the time the battery is.
rm "$TZ/thermal_zone0/temp" "$PS/BAT0/capacity"
wait_exit "$PID" 20
is "$STATUS" 0 "the app stopped itself" || sed 's/^/#   /' "$TMP/live.err" | tail -5
like "$TMP/live.out" '^stale battery=nil .*temp=41.0 temp_crit=nil .*stale=battery:stale,temp_crit:missing' \
    "removed capacity: battery nil, stale.battery = stale; temp from the other zone"
like "$TMP/live.out" '^zone0 stale=true value=48.312 age_ok=true$' \
    "read(): the removed zone temp keeps its last value, marked stale"
like "$TMP/live.out" '^samples_ok=true$' "on_sample ran after each snapshot"
unlike "$TMP/live.err" 'ERROR|WARN' "no errors or warnings"

# An empty tree: no battery, no thermal, no firmware node, said explicitly.
mkdir -p "$TMP/empty"
app2=$(script empty <<'LUA'
local r = perch.sensors.read()
local i = perch.sensors.inputs()
print(("empty supplies=%d zones=%d cpufreq=%d throttled=%s no_battery=%s no_thermal=%s has_battery=%s on_ac=%s")
  :format(#r.supplies, #r.zones, #r.cpufreq, r.throttled.present, r.summary.no_battery,
          r.summary.no_thermal, r.summary.has_battery, i.on_ac))
print(("missing battery=%s temp=%s throttled=%s power_w=%s"):format(i.stale.battery, i.stale.temp,
  i.stale.throttled, i.stale.power_w))
LUA
)
perch run "$app2" --set sysfs.root="$TMP/empty" >"$TMP/empty.out" 2>"$TMP/empty.err"
is "$?" 0 "empty tree: runs"
like "$TMP/empty.out" '^empty supplies=0 zones=0 cpufreq=0 throttled=false no_battery=true no_thermal=true has_battery=false on_ac=true$' \
    "empty tree: no battery, no thermal, no throttled node"
like "$TMP/empty.out" '^missing battery=missing temp=missing throttled=missing power_w=missing$' \
    "empty tree: inputs.stale says missing"

# Malformed files: no crash, the values are simply missing.
BAD=$TMP/bad
put "$BAD/class/power_supply/BAT0/type" Battery
put "$BAD/class/power_supply/BAT0/capacity" abc
printf '' >"$BAD/class/power_supply/BAT0/voltage_now"
put "$BAD/class/thermal/thermal_zone0/temp" "12x"
put "$BAD/devices/platform/soc/soc:firmware/get_throttled" "not hex"
app3=$(script bad <<'LUA'
local r = perch.sensors.read()
local i = perch.sensors.inputs()
print(("bad capacity=%s voltage=%s zone_temp=%s throttled=%s stale=%s,%s,%s has_battery=%s")
  :format(r.supplies[1].capacity, r.supplies[1].voltage, r.zones[1].temp, r.throttled.present,
          i.stale.battery, i.stale.temp, i.stale.throttled, r.summary.has_battery))
LUA
)
perch run "$app3" --set sysfs.root="$BAD" >"$TMP/bad.out" 2>"$TMP/bad.err"
is "$?" 0 "malformed files: runs"
like "$TMP/bad.out" '^bad capacity=nil voltage=nil zone_temp=nil throttled=false stale=missing,missing,missing has_battery=true$' \
    "malformed files: readings absent, inputs missing"

# Bad options: refused before starting, naming the key.
perch run "$app2" --set sensors.period_ms=fast >"$TMP/o1.out" 2>"$TMP/o1.err"
is "$?" 2 "sensors.period_ms=fast: usage error"
like "$TMP/o1.err" 'sensors.period_ms=fast: sensors.period_ms must be a number of milliseconds' \
    "the message names sensors.period_ms"
perch run "$app2" --set sensors.stuck_s=-1 >"$TMP/o2.out" 2>"$TMP/o2.err"
is "$?" 2 "sensors.stuck_s=-1: usage error"
like "$TMP/o2.err" 'sensors.stuck_s must be a number of seconds >= 0' "the message names sensors.stuck_s"
perch run "$app2" --set sensors.period_ms=500 --set sensors.stale_s=0.1 >"$TMP/o3.out" 2>"$TMP/o3.err"
is "$?" 2 "stale_s shorter than the period: usage error"
like "$TMP/o3.err" 'sensors.stale_s \(0.1 s\) must be longer than sensors.period_ms \(500 ms\)' \
    "the message names both keys"
perch run "$app2" --set sysfs.root="$TMP/nowhere" >"$TMP/o4.out" 2>"$TMP/o4.err"
is "$?" 1 "a missing sysfs.root: not started"
like "$TMP/o4.err" "sysfs.root $TMP/nowhere: No such file or directory" "the message names sysfs.root"
perch run "$app2" --set sysfs.root="$TMP/empty" --set sensors.period_ms=20 --set sensors.stale_s=0.1 \
    --set sensors.stuck_s=0 >"$TMP/o5.out" 2>"$TMP/o5.err"
is "$?" 0 "good options run"
like "$TMP/o5.out" '^empty ' "and the app ran"
