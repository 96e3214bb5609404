-- perch.buffer typed arrays and the first kernel binding.
local t = require "perch.test"
t.plan(27)

local f = perch.buffer("f32", 10)
t.is(#f, 10, "# gives the length")
t.is(f[1], 0.0, "new buffers are zeroed")
f[3] = 1.5
t.is(f[3], 1.5, "store and load an f32")
t.is(f:type(), "f32", ":type()")
t.like(tostring(f), "perch%.buffer %(f32, 10 elements%)", "__tostring")
t.raises(function() return f[0] end, "index 0 out of range %(1%.%.10%)", "index 0 is out of range")
t.raises(function() return f[11] end, "index 11 out of range", "index n+1 is out of range")
t.raises(function() f[11] = 1 end, "out of range", "store out of range raises")
t.raises(function() return f[1.5] end, "index must be an integer", "fractional index raises")
t.raises(function() f[1] = "x" end, "number expected, got string", "f32 store of a string raises")
t.raises(function() perch.buffer("f64", 3) end, "invalid option 'f64'", "unknown type raises")
t.raises(function() perch.buffer("u8", -1) end, "size must be >= 0", "negative size raises")

local u = perch.buffer.from("u8", "hello")
t.is(#u, 5, "from a string: length")
t.is(u[1], 104, "from a string: bytes")
t.is(u:tostring(), "hello", "u8 :tostring() round-trips")
t.raises(function() u[1] = 256 end, "integer in 0%.%.255 expected, got 256", "u8 range checked")
t.raises(function() u[1] = -1 end, "0%.%.255", "u8 rejects negatives")
local i8 = perch.buffer.from("i8", { -128, 0, 127 })
t.is(table.concat(i8:totable(), ","), "-128,0,127", "i8 from a table, :totable()")
t.raises(function() perch.buffer.from("i8", { 128 }) end, "%-128%.%.127", "i8 range checked")
local i32 = perch.buffer.from("i32", { 2147483647, -2147483648 })
t.is(i32[1], 2147483647, "i32 max")
t.raises(function() f:tostring() end, "for u8 buffers", ":tostring() on f32 raises")

local a = perch.buffer.from("f32", { 1, 2, 3, 4, 5 })
local b = perch.buffer("f32", 5):fill(2)
t.is(b[5], 2.0, ":fill()")
t.is(perch.kernels.f32_dot(a, b), 30.0, "kernels.f32_dot")
t.raises(function() perch.kernels.f32_dot(a, perch.buffer("f32", 4)) end,
  "bad argument #2 to 'f32_dot' %(length 4, the first buffer's length needs 5%)", "length mismatch named")
t.raises(function() perch.kernels.f32_dot(a, u) end,
  "bad argument #2 to 'f32_dot' %(f32 buffer expected, got u8 buffer%)", "type mismatch named")
t.raises(function() perch.kernels.f32_dot(a, {1, 2}) end, "f32 buffer expected, got table", "plain tables rejected")

-- Big buffers count against the memory ceiling (storage is in the state).
collectgarbage(); collectgarbage()
local before = collectgarbage("count")
local big = perch.buffer("f32", 1 << 20)
local grew = collectgarbage("count") - before
t.ok(grew >= 4096 and #big == 1 << 20, ("a 4 MiB buffer is visible to the collector (+%.0f KiB)"):format(grew))
t.done()
