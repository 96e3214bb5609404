-- perch.runner - policies live on the device: every period, read the
-- sensors, add what the app knows (motion, user activity, link health), run
-- the engine, and hand the winning votes to the actuators (C applies them,
-- under the safety floor).  The same policy objects run in `perch sim` and
-- in tests; only this glue is live.
--
--   local run = perch.policy.run{
--     policies = { require "power", require "framerate", ... },
--     every_ms = 1000,                     -- default 1000
--     inputs = function(i) i.motion = motion_level; return i end,  -- optional
--     apply = true,                        -- default: set perch.actuators
--     on_decision = function(r) end,       -- optional, after each step
--   }
--   run:step()   run:last()   run:stop()
--
-- The running policies are listed in package.loaded["perch.policy"].live
-- (name -> policy), where the REPL's :policies and :set find them; each
-- policy's last result is p.last = { decision, why, error }.  A change of
-- an actuator's winning value is logged once with the policy and its why.
local policy = require "perch.policy"

local M = {}

local Runner = {}
Runner.__index = Runner

-- Hand each winning vote to the actuators separately: a value one actuator
-- refuses (a frequency this board cannot do) must not hold back the others.
-- A refusal is logged once per distinct message.
local function apply(self, r)
  for _, act in ipairs(policy.ACTUATORS) do
    local v = r[act]
    if v ~= nil and self.applied[act] ~= v.value then
      local ok, err = perch.actuators.set{ [act] = v.value }
      if ok then
        local was = self.applied[act]
        perch.log.info("policy: %s %s -> %s (%s: %s)", act, was == nil and "(unset)" or tostring(was),
                       tostring(v.value), v.by, v.why or "")
        self.applied[act] = v.value
      elseif self.refused[act] ~= err then
        self.refused[act] = err
        perch.log.warn("policy: %s = %s from %s not applied: %s", act, tostring(v.value),
                       v.by, tostring(err))
      end
    end
  end
end

function Runner:step()
  local i = perch.sensors and perch.sensors.inputs() or { time = perch.now(), stale = {} }
  if self.inputs then i = self.inputs(i) or i end
  local r = self.engine:step(i)
  for _, p in ipairs(self.engine.policies) do p.last = r.policies[p.name] end
  for name, pr in pairs(r.policies) do
    if pr.error and self.errors[name] ~= pr.error then
      self.errors[name] = pr.error
      perch.log.error("policy %s failed: %s", name, pr.error)
    elseif not pr.error then
      self.errors[name] = nil
    end
  end
  if self.apply then apply(self, r) end
  if self.on_decision then self.on_decision(r) end
  return r
end

function Runner:last() return self.engine.last end

function Runner:stop()
  if self.timer then self.timer:close(); self.timer = nil end
  for _, p in ipairs(self.engine.policies) do
    if policy.live[p.name] == p then policy.live[p.name] = nil end
  end
end

function Runner:__tostring()
  local names = {}
  for _, p in ipairs(self.engine.policies) do names[#names + 1] = p.name end
  return ("perch.policy.run (%s)%s"):format(table.concat(names, ", "),
                                            self.timer and "" or ", stopped")
end

function M.run(opts)
  if type(opts) ~= "table" or type(opts.policies) ~= "table" then
    error("perch.policy.run: expected { policies = { p, ... }, every_ms = N }", 2)
  end
  local every = opts.every_ms or 1000
  if type(every) ~= "number" or every < 10 then
    error("perch.policy.run: every_ms must be a number >= 10", 2)
  end
  for k in pairs(opts) do
    if not (k == "policies" or k == "every_ms" or k == "inputs" or k == "apply" or
            k == "on_decision") then
      error(("perch.policy.run: unknown option '%s'"):format(tostring(k)), 2)
    end
  end
  local self = setmetatable({
    engine = policy.engine{ policies = opts.policies },
    inputs = opts.inputs, on_decision = opts.on_decision,
    apply = opts.apply ~= false and perch.actuators ~= nil,
    applied = {}, refused = {}, errors = {},
  }, Runner)
  for _, p in ipairs(self.engine.policies) do policy.live[p.name] = p end
  self:step()   -- decide once now: the device starts in a decided state
  self.timer = perch.every(every, function() self:step() end)
  return self
end

return M
