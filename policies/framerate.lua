-- framerate.lua - frames per second from battery, user activity and motion.
--
--   battery   user active  motion  fps
--   > 60%     yes          high    15   fps_active_motion
--   > 60%     yes          low     10   fps_active
--   > 60%     no           high    10   fps_idle_motion (not in the original
--                                       table: motion alone is worth more
--                                       frames than nothing happening)
--   > 60%     no           low      5   fps_idle
--   30-60%    any          any     10 if user active or motion high
--                                     (fps_mid_busy), else 5 (fps_mid)
--   15-30%    any          any      5   fps_low
--   < 15%     any          any      1   fps_critical
--
-- 60% itself is in 30-60, 30 in 30-60, 15 in 15-30.  Motion is high when
-- inputs.motion >= motion_high, and stays high for motion_hold_s after the
-- last such frame (so fps does not drop between two bursts).  The band
-- falls at once as the battery drains but rises only hysteresis_pct past
-- its edge and after dwell_s in the band.  Unknown inputs: battery counts as 15-30% (or > 60% on mains),
-- user as not active, motion as low; the why says so.
local policy = require "perch.policy"

local BANDS = { "high", "mid", "low", "critical" }

local num = policy.num
local function pct(default, doc) return num(0, 100, default, doc) end
local function fps(default, doc) return num(0, 120, default, doc) end

return policy.new{
  name = "framerate",
  doc = "fps from battery, user activity and motion",
  params = {
    high_pct = pct(60, "above this charge (%): the full table"),
    mid_pct = pct(30, "from this charge up to high_pct: 5-10 fps"),
    low_pct = pct(15, "from this charge up to mid_pct: fps_low; below: fps_critical"),
    hysteresis_pct = num(0, 20, 2, "how far (%) past an edge the charge must climb to move up a band"),
    dwell_s = num(0, 3600, 60, "least time (s) in a battery band before moving up"),
    motion_high = num(0, 1, 0.05, "fraction of the frame changed that counts as high motion"),
    motion_hold_s = num(0, 600, 10, "motion stays high this long (s) after the last high frame"),
    fps_active_motion = fps(15, "> high_pct, user active, high motion"),
    fps_active = fps(10, "> high_pct, user active, low motion"),
    fps_idle_motion = fps(10, "> high_pct, user not active, high motion"),
    fps_idle = fps(5, "> high_pct, user not active, low motion"),
    fps_mid_busy = fps(10, "mid band, user active or high motion"),
    fps_mid = fps(5, "mid band otherwise"),
    fps_low = fps(5, "low band"),
    fps_critical = fps(1, "below low_pct"),
  },
  check = function(p)
    if not (p.high_pct > p.mid_pct and p.mid_pct > p.low_pct) then
      return "high_pct > mid_pct > low_pct must hold"
    end
  end,
  decide = function(inputs, params, prev)
    local t = inputs.time
    local st, note = policy.charge_band(prev and prev.band_state, inputs,
      { params.high_pct, params.mid_pct, params.low_pct },
      { names = BANDS, hysteresis = params.hysteresis_pct, dwell = params.dwell_s })
    local notes = { note }

    local active = inputs.user_active
    if active == nil then
      active = false
      notes[#notes + 1] = policy.unknown(inputs, "user_active") .. ": as not active"
    end
    local motion_at = prev and prev.motion_at
    local motion = inputs.motion
    if motion == nil then
      notes[#notes + 1] = policy.unknown(inputs, "motion") .. ": as low"
    elseif motion >= params.motion_high then
      motion_at = t
    end
    local high = motion ~= nil and motion >= params.motion_high
    if not high and motion_at and t and t - motion_at < params.motion_hold_s then
      high = true
      notes[#notes + 1] = "motion held high"
    end

    local band, value = st.level, nil
    if band == "high" then
      if active then value = high and params.fps_active_motion or params.fps_active
      else value = high and params.fps_idle_motion or params.fps_idle end
    elseif band == "mid" then
      value = (active or high) and params.fps_mid_busy or params.fps_mid
    elseif band == "low" then
      value = params.fps_low
    else
      value = params.fps_critical
    end
    local why = ("battery %s (%s), user %s, motion %s: %g fps"):format(
      inputs.battery and ("%.0f%%"):format(inputs.battery) or "?", band, active and "active" or "idle", high and "high" or "low", value)
    if #notes > 0 then why = why .. "; " .. table.concat(notes, "; ") end
    return { fps = value, band = band, band_state = st, motion_at = motion_at }, why
  end,
}
