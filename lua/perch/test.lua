-- perch.test - TAP output for Lua tests that perch itself runs.
--
--   local t = require "perch.test"
--   t.plan(3)            -- or no plan and t.done() at the end
--   t.ok(x == 1, "x is one")
--   t.is(got, want, "name")
--   t.done()             -- prints the plan if none was given, stops perch
--
-- prove judges the result from the TAP lines, so a test that dies before
-- printing all planned results fails.

local perch = require "perch"

local M = {}
local count, failed, planned = 0, 0, nil

function M.plan(n)
  planned = n
  io.write("1..", n, "\n")
  io.flush()
end

function M.diag(msg)
  for line in tostring(msg):gmatch("[^\n]+") do
    io.write("# ", line, "\n")
  end
  io.flush()
end

function M.ok(cond, name)
  count = count + 1
  if not cond then failed = failed + 1 end
  io.write(cond and "ok " or "not ok ", count, " - ", name or "", "\n")
  io.flush()
  if not cond then
    local info = debug.getinfo(2, "Sl")
    if info and info.source ~= "@lua/perch/test.lua" then
      M.diag(("  failed at %s:%d"):format(info.short_src, info.currentline))
    end
  end
  return cond
end

function M.is(got, want, name)
  local pass = got == want
  M.ok(pass, name)
  if not pass then
    M.diag(("  got:  %s\n  want: %s"):format(tostring(got), tostring(want)))
  end
  return pass
end

function M.like(got, pattern, name)
  local pass = type(got) == "string" and got:find(pattern) ~= nil
  M.ok(pass, name)
  if not pass then
    M.diag(("  got:     %s\n  pattern: %s"):format(tostring(got), pattern))
  end
  return pass
end

-- fn must raise an error whose message matches pattern.
function M.raises(fn, pattern, name)
  local ok, err = pcall(fn)
  if ok then
    M.ok(false, name)
    M.diag("  no error raised")
    return false
  end
  return M.like(tostring(err), pattern, name)
end

function M.failed() return failed end

function M.done()
  if not planned then
    io.write("1..", count, "\n")
    io.flush()
  end
  perch.stop()
end

return M
