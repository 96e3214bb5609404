-- quality.lua - JPEG quality from the battery charge and the link quality.
--
-- Battery: 85 above medium_pct (60%), 75 from low_pct (30%) up to it, 60
-- from emergency_pct (15%), 40 below; the band rises only hysteresis_pct
-- past its edge.  A poor link (link_quality < link_poor) caps quality at
-- q_link_poor, a fair one (< link_fair) at q_link_fair: smaller frames get
-- through a weak uplink.  The link is smoothed (EWMA, link_tau_s) and counts as better again only link_hysteresis
-- past the edge.  Quality rises only after dwell_s in a band.  Unknown battery counts as low (60; full on
-- mains), unknown link as fair; the why says so.
local policy = require "perch.policy"

local BANDS = { "full", "medium", "low", "emergency" }
local LINKS = { "good", "fair", "poor" }

local num = policy.num
local function q(default, doc) return policy.int(1, 100, default, doc) end
local function pct(default, doc) return num(0, 100, default, doc) end

return policy.new{
  name = "quality",
  doc = "JPEG quality from battery and link quality",
  params = {
    medium_pct = pct(60, "at or below this charge (%): q_medium"),
    low_pct = pct(30, "below this charge (%): q_low"),
    emergency_pct = pct(15, "below this charge (%): q_emergency"),
    hysteresis_pct = num(0, 20, 2, "how far (%) past an edge the charge must climb to move up a band"),
    q_default = q(85, "quality with a good battery"),
    q_medium = q(75, "quality on a medium battery"),
    q_low = q(60, "quality on a low battery"),
    q_emergency = q(40, "quality below emergency_pct"),
    link_poor = num(0, 1, 0.3, "link_quality below this is poor"),
    link_fair = num(0, 1, 0.7, "link_quality below this is fair"),
    dwell_s = num(0, 3600, 300, "least time (s) in a battery or link band before quality may rise"),
    link_tau_s = num(0, 600, 10, "EWMA time constant (s) of link_quality; 0 = raw"),
    link_hysteresis = num(0, 0.5, 0.1, "how far past an edge link_quality must climb to count as better"),
    q_link_poor = q(50, "cap on a poor link"),
    q_link_fair = q(70, "cap on a fair (or unknown) link"),
  },
  check = function(p)
    if not (p.medium_pct > p.low_pct and p.low_pct > p.emergency_pct) then
      return "medium_pct > low_pct > emergency_pct must hold"
    end
    if p.link_poor > p.link_fair then return "link_poor must not be above link_fair" end
  end,
  decide = function(inputs, params, prev)
    local st, note = policy.charge_band(prev and prev.band_state, inputs,
      { params.medium_pct, params.low_pct, params.emergency_pct },
      { names = BANDS, hysteresis = params.hysteresis_pct, dwell = params.dwell_s })
    local notes = { note }
    local value = ({ params.q_default, params.q_medium, params.q_low, params.q_emergency })[st.index]
    local why = ("battery %s (%s): %d"):format(
      inputs.battery and ("%.0f%%"):format(inputs.battery) or "?", st.level, value)

    local links = policy.levels{
      names = LINKS, higher_is_worse = false, hysteresis = params.link_hysteresis, dwell = params.dwell_s,
      thresholds = { fair = params.link_fair, poor = params.link_poor }, unknown = "fair",
    }
    local avg = policy.ewma(prev and prev.link_avg, inputs.link_quality, inputs.time, params.link_tau_s)
    local smoothed = inputs.link_quality ~= nil and avg.value or nil
    local link = links:step(prev and prev.link_state, smoothed, inputs.time)
    local cap, what
    if inputs.link_quality == nil then
      cap, what = params.q_link_fair, policy.unknown(inputs, "link_quality") .. ": as fair"
    elseif link.level ~= "good" then
      cap = link.level == "poor" and params.q_link_poor or params.q_link_fair
      what = ("%s link %.2f"):format(link.level, smoothed)
    end
    if cap and cap < value then
      value = cap
      why = ("%s; %s: %d"):format(why, what, cap)
    elseif what then
      notes[#notes + 1] = what
    end
    if #notes > 0 then why = why .. "; " .. table.concat(notes, "; ") end
    return { jpeg_quality = value, band = st.level, band_state = st, link_state = link, link_avg = avg }, why
  end,
}
