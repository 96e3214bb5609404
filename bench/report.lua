-- report.lua - what the Lua benchmarks share (require "report" from a
-- script in bench/, which require finds next to it):
--   report(name, value, unit): print the figure and, when $BENCH_JSON is
--     set, append its record there, as bench_report() does for C;
--   best_ns(n, fn): fn() n times a round, best of 5 rounds, in ns per call
--     (the machine may be shared: the best round is the least disturbed).
local M = {}

function M.report(name, value, unit)
  print(("%-44s %12.2f %s"):format(name, value, unit))
  local path = os.getenv("BENCH_JSON")
  if path and path ~= "" then
    local f = assert(io.open(path, "a"))
    f:write(('{"name":"%s","value":%.4f,"unit":"%s"}\n'):format(name, value, unit))
    f:close()
  end
end

function M.best_ns(n, fn)
  local best = math.huge
  for _ = 1, 5 do
    local t0 = perch.now()
    for _ = 1, n do fn() end
    best = math.min(best, (perch.now() - t0) / n)
  end
  return best * 1e9
end

return M
