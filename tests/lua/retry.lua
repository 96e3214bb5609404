-- perch.retry without a network: policy validation (errors name the
-- script's line), the backoff of each mode through the policy's seeded
-- generator, the attempt clamp, Retry-After parsing, upstream keys, and the
-- C run that counts attempts and the deadline.  Requests against a real
-- upstream are in tests/runtime/retry.t.
local t = require "perch.test"
local R = perch.retry

t.plan(27)

t.raises(function() R.policy{ attempt = 3 } end, "retry%.lua:%d+: retry policy: unknown key 'attempt'",
         "unknown key, at the caller's line")
t.raises(function() R.policy{ backoff = "linear" } end, "unknown backoff 'linear'", "unknown backoff mode")
t.raises(function() R.policy{ retry_on = { "timeout", "4xx" } } end, "unknown retry_on '4xx'", "unknown retry_on")
t.raises(function() R.policy{ attempts = 0 } end, "'attempts' must be a whole number >= 1", "0 attempts")
t.raises(function() R.policy{ attempts = 2.5 } end, "'attempts' must be a whole number", "fractional attempts")
t.raises(function() R.policy{ base_ms = 100, cap_ms = 50 } end, "'cap_ms' must be a number in 100..",
         "cap below base")
t.raises(function() R.policy{ budget = { ratio = 0.2, window = 5 } } end, "unknown budget key 'window'",
         "unknown budget key")
t.raises(function() R.policy{ breaker = { failures = 0 } } end, "breaker failures must be an integer >= 1",
         "bad breaker")
t.raises(function() R.policy{ honor_retry_after = "yes" } end, "'honor_retry_after' must be a boolean",
         "bad honor_retry_after")

-- Defaults.
local d = R.policy{}
t.ok(d.attempts == 3 and d.backoff == "full" and d.base_ms == 100 and d.cap_ms == 10000,
     "defaults: 3 attempts, full jitter, 100 ms base, 10 s cap")
t.ok(d.breaker.failures == 5 and d.breaker.open_ms == 30000 and d.honor_retry_after,
     "defaults: breaker 5 failures / 30 s, Retry-After honoured")

-- Backoff through the policy: bounds per mode, seeded.
local function draws(mode, n, count)
  local p = R.policy{ backoff = mode, base_ms = 100, cap_ms = 1000, seed = 5 }
  local lo, hi, list = math.huge, -math.huge, {}
  for i = 1, count do
    local w = p:delay(n, 200)
    lo, hi = math.min(lo, w), math.max(hi, w)
    list[i] = w
  end
  return lo, hi, list
end
local lo, hi = draws("full", 3, 500)
t.ok(lo >= 0 and hi <= 400 and hi > 350, ("full, retry 3: [0, 400] (%.1f..%.1f)"):format(lo, hi))
lo, hi = draws("equal", 3, 500)
t.ok(lo >= 200 and hi <= 400, ("equal, retry 3: [200, 400] (%.1f..%.1f)"):format(lo, hi))
lo, hi = draws("decorrelated", 3, 500)
t.ok(lo >= 100 and hi <= 600, ("decorrelated after 200: [100, 600] (%.1f..%.1f)"):format(lo, hi))
lo, hi = draws("exponential", 3, 10)
t.ok(lo == 400 and hi == 400, "exponential, retry 3: 400")
lo, hi = draws("exponential", 9, 10)
t.ok(lo == 1000 and hi == 1000, "exponential, retry 9: the 1000 cap")
local _, _, a = draws("full", 2, 20)
local _, _, b = draws("full", 2, 20)
t.is(table.concat(a, ","), table.concat(b, ","), "the same seed draws the same waits")

-- The clamp (the log line is checked in tests/runtime/retry.t).
local big = R.policy{ attempts = 1000 }
t.ok(big.attempts == R.max_attempts and R.max_attempts == 10, "attempts = 1000 -> 10")

-- Retry-After.
t.is(R.retry_after("3"), 3000, "Retry-After: 3 -> 3000 ms")
t.is(R.retry_after("Thu, 01 Jan 1970 00:00:00 GMT"), 0, "a date in the past -> 0")
t.is(R.retry_after("later"), nil, "garbage -> nil")

t.is(R.upstream_of("http://Example.com/x?y"), "http://example.com:80", "upstream key: default port")
t.is(R.upstream_of("https://u:p@h:8443/"), "https://h:8443", "upstream key: no userinfo")

-- The C run: attempts and deadline held in C.
local core = require "perch.retry.core"
local pc = core.policy{ attempts = 2, base_ms = 10, cap_ms = 10, backoff = "exponential", deadline_ms = 50 }
local run = pc:start()
local n1, to1 = run:next(1000)
t.ok(n1 == 1 and to1 <= 50, "first attempt; its timeout cut to the 50 ms deadline")
t.is(run:wait(), 10, "the wait before the second")
local n2 = run:next()
local n3, why3 = run:next()
t.ok(n2 == 2 and n3 == nil and why3 == "attempts", "a third attempt is refused: 'attempts'")
local run2 = pc:start()
run2:next()
local deadline = perch.now() + 0.06
local spin = ("x"):rep(65536)   -- wait on a C call: few instructions of the budget
while perch.now() < deadline do spin:find("y", 1, true) end
local n4, why4 = run2:next()
t.ok(n4 == nil and why4 == "deadline", "past the deadline: 'deadline'")
t.done()
