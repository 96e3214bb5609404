-- perch.http.serve from Lua: routes, what a handler gets and may return,
-- handlers that wait, timeouts, errors, built-ins, close; requests come
-- from perch.http.request in tasks of the same app, over loopback.
local t = require "perch.test"
local perch = require "perch"

t.plan(46)

-- Misuse raises, naming the problem.
t.raises(function() perch.http.serve{ lisen = "x" } end, "unknown option 'lisen' %(known: listen, ",
         "an unknown option raises")
t.raises(function() perch.http.serve{ listen = "nowhere" } end, "bad listen address 'nowhere'",
         "a bad address raises")
t.raises(function() perch.http.serve{ listen = "127.0.0.1:0", max_connections = 0 } end,
         "max_connections must be a whole number", "a bad limit raises")

local srv = assert(perch.http.serve{ listen = "127.0.0.1:0", timeout_ms = 2000, max_body = 1000 })
local addr = srv:address()
t.like(addr, "^127%.0%.0%.1:%d+$", "address() gives the bound port")
t.like(tostring(srv), "^perch%.http%.server %(127%.0%.0%.1:%d+, 0 routes%)$", "__tostring")
t.raises(function() srv:route("get", "/x", print) end, "method must be an upper%-case word",
         "lower-case method raises")
t.raises(function() srv:route("GET", "x", print) end, "path must start with '/'", "bad path raises")
t.raises(function() srv:route("GET", "/metrics", print) end, "/metrics is built in",
         "built-in paths are taken")
t.raises(function() srv:route("GET", "/x", 42) end, "function expected", "handler must be a function")
t.raises(function() perch.http.serve{ listen = addr } end, "this app already serves",
         "serving one address twice in one app raises")

local seen
srv:route("GET", "/hello", function(req) seen = req; return { body = "hello" } end)
srv:route("POST", "/echo", function(req)
  return { status = 201, headers = { ["x-len"] = #req.body, ["content-type"] = "application/octet-stream",
                                     ["Content-Length"] = "999", connection = "close" },
           body = req.body }
end)
srv:route("GET", "/wait", function(req)
  perch.sleep(req.query == "slow" and 1000 or 10)
  return "waited " .. req.query
end)
srv:route("GET", "/forever", function() perch.sleep(10000); return "never" end)
srv:route("GET", "/boom", function() error("kaboom") end)
srv:route("GET", "/bad", function() return 42 end)
srv:route("GET", "/files/*", function(req) return req.path end)
srv:route("GET", "/route", function() return { headers = { ["X-Perch-Route"] = "named" } } end)
t.like(tostring(srv), "8 routes", "routes counted")

local function get(path, opts)
  opts = opts or {}
  opts.url = "http://" .. addr .. path
  local res, err, code, res5 = perch.http.request(opts)
  return res or res5, err, code
end

perch.spawn(function()
  local r = get("/hello?a=1&b=%20", { headers = { ["X-Two"] = "1", ["x-two"] = "2" } })
  t.is(r and r.status, 200, "GET /hello: 200")
  t.is(r and r.body, "hello", "... its body")
  t.is(r and r.headers["content-type"], "text/plain; charset=utf-8", "... a default content type")
  t.is(seen and seen.method, "GET", "req.method")
  t.is(seen and seen.path, "/hello", "req.path")
  t.is(seen and seen.query, "a=1&b=%20", "req.query as sent")
  t.like(seen and seen.headers["x-two"] or "", "^[12], [12]$", "repeated headers joined, names lower-case")
  t.like(seen and seen.remote or "", "^127%.0%.0%.1:%d+$", "req.remote")
  t.ok(seen and math.type(seen.id) == "integer", "req.id")

  local bin = "a\0b\255c"
  r = get("/echo", { method = "POST", body = bin })
  t.is(r and r.status, 201, "POST /echo: the handler's status")
  t.is(r and r.body, bin, "... a binary body both ways")
  t.is(r and r.headers["x-len"], "5", "... a number header value")
  t.is(r and r.headers["content-length"], "5", "... framing headers are the server's")

  r = get("/wait?x")
  t.is(r and r.body, "waited x", "a handler that sleeps answers when it is done")

  -- Handlers that wait do not hold up the others.
  local slow = perch.spawn(function() return get("/wait?slow") end)
  r = get("/hello")
  t.is(slow:status(), "waiting", "a fast request is answered while a slow one waits")
  local okj, rs = slow:join()
  t.is(okj and rs and rs.body, "waited slow", "and the slow one is answered too")

  local res, err, code = get("/forever")
  t.is(res and res.status, 504, "a handler over timeout_ms: 504")
  t.like(res and res.body or "", '"error":"handler did not answer within 2000 ms"', "... JSON body says why")

  r = get("/boom")
  t.is(r and r.status, 500, "a handler that raises: 500")
  t.like(r and r.body or "", '^{"error":"handler failed","status":500,"request":%d+}', "... JSON body")
  r = get("/bad")
  t.is(r and r.status, 500, "a handler returning a number: 500")

  r = get("/nothing")
  t.is(r and r.status, 404, "unknown path: 404")
  r = get("/hello", { method = "POST", body = "x" })
  t.is(r and r.status, 405, "wrong method: 405")
  t.is(r and r.headers.allow, "GET", "... with Allow")
  r = get("/echo", { method = "POST", body = string.rep("x", 1001) })
  t.is(r and r.status, 413, "a body over max_body: 413")
  r = get("/files/a/b.txt")
  t.is(r and r.body, "/files/a/b.txt", "a prefix route")
  r = get("/hello", { method = "HEAD" })
  t.is(r and r.status, 200, "HEAD runs the GET route")

  r = get("/health")
  t.like(r and r.body or "", '^{"status":"ok"', "GET /health: ok")
  get("/route")
  r = get("/metrics")
  t.like(r and r.body or "", '\nperch_http_requests_total{route="/hello",method="GET",status="200"} %d+\n',
         "GET /metrics counts requests by route")
  t.like(r and r.body or "", '\nperch_http_requests_total{route="named",method="GET",status="200"} 1\n',
         "X-Perch-Route names the route")
  t.like(r and r.body or "", '\nperch_http_requests_total{route="/forever",method="GET",status="504"} 1\n',
         "timeouts counted")
  t.like(r and r.body or "", '\nperch_http_client_requests_total %d+\n', "the HTTP client's stats are there")

  srv:close()
  t.like(tostring(srv), "closed", "closed")
  t.raises(function() srv:route("GET", "/y", print) end, "http server is closed", "a closed server raises")
  res, err, code = get("/hello")
  t.is(code, "connect", "after close: nothing listens")
  t.done()
  perch.stop()
end)
