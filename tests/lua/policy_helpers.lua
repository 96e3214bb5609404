-- perch.hysteresis (through perch.policy): EWMA, levels with hysteresis,
-- dwell and headroom, rate limiting; all state travels in and out.
local t = require "perch.test"
local policy = require "perch.policy"

t.plan(27)

-- EWMA: time-aware weights.
local s = policy.ewma(nil, 10, 0, 5)
t.is(s.value, 10, "ewma starts at the first sample")
s = policy.ewma(s, 20, 5, 5)
t.ok(math.abs(s.value - (10 + 10 * (1 - math.exp(-1)))) < 1e-9, "one tau later: 63% of the way")
local a = policy.ewma(policy.ewma(nil, 0, 0, 10), 1, 1, 10)
local b = policy.ewma(nil, 0, 0, 10)
for i = 1, 10 do b = policy.ewma(b, 1, i * 0.1, 10) end
t.ok(math.abs(a.value - b.value) < 1e-9, "ten 0.1 s steps smooth like one 1 s step")
local u = policy.ewma(s, nil, 6, 5)
t.ok(u.value == s.value and u.unknown, "a nil sample keeps the average and flags it unknown")
t.is(policy.ewma(s, 99, 7, 0).value, 99, "tau 0: no smoothing")

-- Levels: higher is worse, per-level hysteresis, dwell.
local lv = policy.levels{
  thresholds = { light = 60, moderate = 70, severe = 80 },
  hysteresis = { light = 2, moderate = 3, severe = 3 }, dwell = 10,
}
local st = lv:step(nil, 50, 0)
t.is(st.level, "none", "50: none")
t.is(st.headroom, 1, "below the first threshold: headroom 1")
st = lv:step(st, 75, 1)
t.is(st.level, "moderate", "75: straight to moderate")
t.ok(st.changed and st.since == 1, "changed, entered at t=1")
t.ok(math.abs(st.headroom - 0.25) < 1e-9, "headroom 0.25 at 75 between 60 and 80")
st = lv:step(st, 85, 2)
t.is(st.level, "severe", "85: severe at once (getting worse is never delayed)")
t.is(st.headroom, 0, "at or past the last threshold: headroom 0")

-- Oscillating around 70 after moderate is reached: no flapping.
st = lv:step(nil, 71, 0)
local changes = 0
for i = 1, 100 do
  st = lv:step(st, (i % 2 == 0) and 71 or 68, i * 20)
  if st.changed then changes = changes + 1 end
end
t.is(st.level, "moderate", "71/68 around the moderate threshold stays moderate")
t.is(changes, 0, "no flapping (hysteresis 3)")
st = lv:step(st, 66, 3000)
t.is(st.level, "light", "66: 4 below, leaves moderate")

-- Dwell: leaving waits for the level's dwell time.
st = lv:step(nil, 72, 100)
st = lv:step(st, 50, 105)
t.is(st.level, "moderate", "5 s after entering: still moderate (dwell 10)")
st = lv:step(st, 50, 110)
t.is(st.level, "none", "10 s after entering: relaxes all the way")

-- Lower is worse (a battery), unknown values.
local bat = policy.levels{ names = { "ok", "low", "empty" }, higher_is_worse = false,
                           thresholds = { low = 30, empty = 10 }, unknown = "low" }
t.is(bat:step(nil, 50).level, "ok", "lower is worse: 50 ok")
t.is(bat:step(nil, 29).level, "low", "29: low")
t.ok(math.abs(bat:step(nil, 20).headroom - 0.5) < 1e-9, "headroom 0.5 halfway between 30 and 10")
local un = bat:step(bat:step(nil, 50), nil, 5)
t.ok(un.level == "low" and un.unknown, "nil value: the unknown level, flagged")
t.is(bat:step(bat:step(nil, 5), nil, 5).level, "empty", "unknown never relaxes a worse level")
t.raises(function() policy.levels{ unknown = "nope" } end, "unknown level 'nope'", "bad unknown level")

-- Rate limiting.
local r = policy.limit(nil, 10, 0, { interval = 5, max_up = 2 })
t.is(r.value, 10, "first value taken as is")
r = policy.limit(r, 15, 1, { interval = 5, max_up = 2 })
t.is(r.value, 10, "an increase waits for the interval")
r = policy.limit(r, 15, 6, { interval = 5, max_up = 2 })
t.is(r.value, 12, "then rises by at most max_up")
r = policy.limit(r, 1, 7, { interval = 5, max_up = 2 })
t.is(r.value, 1, "a decrease happens at once")
t.done()
