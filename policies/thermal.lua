-- thermal.lua - throttling levels from the hottest zone's temperature.
--
-- Levels start a set number of °C below the zone's critical trip point
-- (inputs.temp_crit, else crit_c): light at crit-20, moderate crit-15,
-- severe crit-10, critical crit-5, emergency crit-2, shutdown at crit.  The
-- temperature is smoothed (EWMA, tau_s) so sensor noise does not escalate;
-- leaving a level takes hysteresis_c below its start and dwell_s in it.
-- inputs.throttled (the firmware already throttles) means at least
-- moderate; an unknown temperature means at least unknown_level.
-- Votes from moderate up: cpu_max_khz (a falling fraction of cpu_max_khz,
-- never below cpu_min_khz), fps and jpeg_quality caps, and no uploads from
-- emergency up.  The C safety floor still clamps if this policy breaks.
local policy = require "perch.policy"

-- level -> { share of cpu_max_khz, fps cap, jpeg_quality cap }
local CAPS = {
  moderate  = { 0.8, 10, nil },
  severe    = { 0.6, 5, 70 },
  critical  = { 0.4, 2, 50 },
  emergency = { 0.0, 1, 40 },
  shutdown  = { 0.0, 1, 40 },
}

return policy.new{
  name = "thermal",
  doc = "throttling levels from temperature and the critical trip point",
  params = {
    crit_c = { type = "number", min = 30, max = 150, default = 85,
               doc = "critical temperature (°C) when the zone reports none" },
    light_c = { type = "number", min = 0, max = 100, default = 20, doc = "light starts this far (°C) below critical" },
    moderate_c = { type = "number", min = 0, max = 100, default = 15, doc = "moderate starts this far below critical" },
    severe_c = { type = "number", min = 0, max = 100, default = 10, doc = "severe starts this far below critical" },
    critical_c = { type = "number", min = 0, max = 100, default = 5, doc = "critical starts this far below critical" },
    emergency_c = { type = "number", min = 0, max = 100, default = 2, doc = "emergency starts this far below critical" },
    hysteresis_c = { type = "number", min = 0, max = 30, default = 3,
                     doc = "how far (°C) below a level's start the temperature must fall to leave it" },
    dwell_s = { type = "number", min = 0, max = 3600, default = 30,
                doc = "least time (s) in a level before it relaxes" },
    tau_s = { type = "number", min = 0, max = 600, default = 5,
              doc = "EWMA time constant (s) of the temperature; 0 = raw" },
    unknown_level = { enum = policy.LEVELS, default = "moderate",
                      doc = "level assumed at least while the temperature is unknown" },
    cpu_max_khz = { type = "number", min = 0, max = 10e6, default = 1800000,
                    doc = "the CPU's full speed (kHz) the caps are a share of; 0 = no cpu votes" },
    cpu_min_khz = { type = "number", min = 0, max = 10e6, default = 600000,
                    doc = "lowest cpu_max_khz voted" },
  },
  check = function(p)
    if not (p.light_c >= p.moderate_c and p.moderate_c >= p.severe_c and p.severe_c >= p.critical_c
            and p.critical_c >= p.emergency_c) then
      return "light_c >= moderate_c >= severe_c >= critical_c >= emergency_c must hold"
    end
  end,
  decide = function(inputs, params, prev)
    local crit = inputs.temp_crit or params.crit_c
    local levels = policy.levels{
      thresholds = { light = crit - params.light_c, moderate = crit - params.moderate_c,
                     severe = crit - params.severe_c, critical = crit - params.critical_c,
                     emergency = crit - params.emergency_c, shutdown = crit },
      hysteresis = params.hysteresis_c, dwell = params.dwell_s,
      unknown = params.unknown_level,
    }
    local avg = policy.ewma(prev and prev.temp_avg, inputs.temp, inputs.time, params.tau_s)
    local temp = inputs.temp ~= nil and avg.value or nil
    local st = levels:step(prev and prev.level_state, temp, inputs.time)
    local level, why = st.level, nil
    if temp == nil then
      why = ("%s: %s (at least %s)"):format(policy.unknown(inputs, "temp"), level, params.unknown_level)
    else
      why = ("%.1f°C (crit %.0f%s): %s"):format(temp, crit, inputs.temp_crit and "" or " assumed", level)
    end
    if inputs.throttled and policy.rank(level) < policy.rank("moderate") then
      level = "moderate"
      why = why .. "; firmware throttling: moderate"
    end
    local d = { temp_avg = avg, level_state = st, level = level, headroom = st.headroom }
    local caps = CAPS[level]
    if caps then
      if params.cpu_max_khz > 0 then
        d.cpu_max_khz = math.floor(math.max(params.cpu_min_khz, params.cpu_max_khz * caps[1]))
      end
      d.fps, d.jpeg_quality = caps[2], caps[3]
      if policy.rank(level) >= policy.rank("emergency") then d.upstream_allowed = false end
    end
    return d, why
  end,
}
