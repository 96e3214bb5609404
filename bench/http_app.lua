-- bench/http_app.lua: the app bench/http.sh loads with wrk: a trivial Lua
-- route next to the built-in /health.  The port comes from --set http.listen.
local srv = assert(perch.http.serve{ max_connections = 1024 })
srv:route("GET", "/hello", function() return "hello\n" end)
print("serving " .. srv:address()); io.stdout:flush()
