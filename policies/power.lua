-- power.lua - the power mode from the supply and the battery charge.
--
-- Modes: full (on mains or charging), then on battery normal, saver and
-- critical as the charge falls, with hysteresis (the charge must climb
-- hysteresis_pct above a threshold before the mode relaxes) and a dwell time
-- (a mode holds at least dwell_s before relaxing), so a charge hovering at a
-- threshold does not flap.  Votes: mode; cpu_governor in saver and critical;
-- upstream_allowed = false in critical unless critical_upstream.
-- An unknown supply counts as battery; an unknown charge on battery gives
-- unknown_mode.  The engine reports this policy's mode as the system's.
local policy = require "perch.policy"

local MODES = { "normal", "saver", "critical" }

return policy.new{
  name = "power",
  doc = "power mode from AC/battery and the charge level",
  params = {
    saver_pct = { type = "number", min = 0, max = 100, default = 30,
                  doc = "on battery below this charge (%): saver" },
    critical_pct = { type = "number", min = 0, max = 100, default = 10,
                     doc = "on battery below this charge (%): critical" },
    hysteresis_pct = { type = "number", min = 0, max = 50, default = 3,
                       doc = "how far (%) above a threshold the charge must climb to leave its mode" },
    dwell_s = { type = "number", min = 0, max = 86400, default = 60,
                doc = "least time (s) in a mode before it relaxes" },
    unknown_mode = { enum = MODES, default = "saver",
                     doc = "mode on battery when the charge is unknown" },
    saver_governor = { type = "string", default = "powersave",
                       doc = "cpu_governor voted in saver and critical" },
    critical_upstream = { type = "boolean", default = false,
                          doc = "allow uploads in critical mode" },
  },
  check = function(p)
    if p.critical_pct >= p.saver_pct then
      return ("critical_pct (%s) must be below saver_pct (%s)"):format(p.critical_pct, p.saver_pct)
    end
  end,
  decide = function(inputs, params, prev)
    local levels = policy.levels{
      names = MODES, higher_is_worse = false,
      thresholds = { saver = params.saver_pct, critical = params.critical_pct },
      hysteresis = params.hysteresis_pct, dwell = params.dwell_s,
      unknown = params.unknown_mode, lo = 100, hi = params.critical_pct,
    }
    -- The battery state is tracked on mains too, so unplugging lands in
    -- the right mode at once.
    local st = levels:step(prev and prev.battery_state, inputs.battery, inputs.time)
    local d = { battery_state = st }
    local why
    local pct = inputs.battery and ("%.0f%%"):format(inputs.battery) or policy.unknown(inputs, "battery")
    if inputs.on_ac or inputs.charging then
      d.mode = "full"
      d.upstream_allowed = true
      why = ("on mains (%s)"):format(pct)
      return d, why
    end
    d.mode = st.level
    local supply = inputs.on_ac == nil and policy.unknown(inputs, "on_ac") .. ", taken as battery"
                   or "on battery"
    if inputs.battery == nil then
      why = ("%s, %s: assuming %s"):format(supply, pct, st.level)
    else
      why = ("%s %s: %s"):format(supply, pct, st.level)
      if prev and prev.mode == st.level and st.level ~= levels:step(nil, inputs.battery).level then
        why = why .. " (held: hysteresis/dwell)"
      end
    end
    if st.level ~= "normal" then d.cpu_governor = params.saver_governor end
    d.upstream_allowed = st.level ~= "critical" or params.critical_upstream
    return d, why
  end,
}
