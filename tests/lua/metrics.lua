-- perch.metrics: counters, gauges and histograms from Lua, their labels
-- (declared or taken from the first use), misuse, and what the exposition
-- says about them.
local t = require "perch.test"
local perch = require "perch"
local m = perch.metrics

t.plan(24)

local hits = m.counter("lua_test_hits", "Hits by route", { "route" })
t.like(tostring(hits), "^perch%.metrics%.counter %(lua_test_hits_total%)$",
       "a counter's name gets _total")
hits:inc({ route = "/a" })
hits:inc({ route = "/a" }, 2)
hits:inc(4, { route = "/b" })
t.is(hits:get({ route = "/a" }), 3, "inc by 1, then by 2")
t.is(hits:get({ route = "/b" }), 4, "inc(n, labels) too")
t.raises(function() hits:inc({ route = "/a" }, -1) end, "a counter only goes up",
         "a negative increment raises")
t.raises(function() hits:inc({ oops = 1 }) end, "unknown label 'oops' %(its labels: route%)",
         "an unknown label raises, naming the known ones")
t.raises(function() hits:set(1) end, "is a counter: it has no :set%(%)", "set on a counter raises")
t.raises(function() hits:inc({ route = {} }) end, "label 'route' must be a string",
         "a table as label value raises")

-- The same definition again (a reloaded version does this) is the same family.
local again = m.counter("lua_test_hits_total", "Hits by route", { "route" })
t.is(again:get({ route = "/a" }), 3, "defining it again continues its counts")
t.raises(function() m.gauge("lua_test_hits_total", "x", { "route" }) end,
         "already defined as a counter", "another type under the name raises")
t.raises(function() m.counter("9lives", "x") end, "not a valid metric name", "bad name raises")
t.raises(function() m.counter("x_y", "x", { "__reserved" }) end, "not a valid label name",
         "reserved label name raises")

local q = m.gauge("lua_test_queue", "Queued jobs")
q:set(3)
q:add(-1)
t.is(q:get(), 2, "gauge set, add")
q:inc()
t.is(q:get(), 3, "gauge inc")

-- No label names given: the first use decides them (sorted keys).
local lat = m.histogram("lua_test_seconds", "Latency", { 0.01, 0.1, 1 })
lat:observe(0.05, { route = "/x", code = 200 })
lat:observe(2, { route = "/x", code = 200 })
t.raises(function() lat:observe(1, { route = "/x" , other = 1 }) end, "unknown label 'other'",
         "later uses must keep to the first use's labels")
t.raises(function() lat:observe(0 / 0) end, "NaN", "NaN raises")
t.raises(function() m.histogram("lua_test_h2", "x", { 1, 1 }) end, "strictly increasing",
         "bad buckets raise")
t.raises(function() m.histogram("lua_test_h3", "x", {}) end, "needs 1%.%.32 bucket bounds",
         "no buckets raise")

local odd = m.counter("lua_test_odd", "Label values that need escaping", { "v" })
odd:inc({ v = 'a "quoted" \\ and\nnewline' })

local text = m.expose()
t.like(text, '\nlua_test_hits_total{route="/a"} 3\n', "exposition: counter")
t.like(text, '\n# TYPE lua_test_seconds histogram\n', "exposition: histogram TYPE")
t.like(text, '\nlua_test_seconds_bucket{code="200",route="/x",le="0.1"} 1\n',
       "exposition: labels in sorted order, then le")
t.like(text, '\nlua_test_seconds_count{code="200",route="/x"} 2\n', "exposition: _count")
t.like(text, '\nlua_test_odd_total{v="a \\"quoted\\" \\\\ and\\nnewline"} 1\n',
       "exposition: label value escaped")
t.like(text, "\nperch_lua_memory_bytes %d+\n", "exposition: the host's figures are there")
t.like(text, "\nperch_safety_engaged [01]\n", "exposition: the safety floor is there")
t.done()
perch.stop()
