-- perch.json: decode and encode, integers and floats, null, arrays vs
-- objects, limits, errors with line:col, misuse.
local t = require "perch.test"
local J = perch.json

t.plan(49)

-- Decode: every JSON type.
local v = J.decode('{"i": 42, "f": 1.5, "e": 1E2, "neg": -7, "s": "a\\n\\"b\\" \\u00e9 \\ud83d\\ude00",'
  .. ' "t": true, "no": false, "n": null, "a": [1, "two", [3], {}], "o": {"k": "v"}}')
t.ok(type(v) == "table", "an object decodes to a table")
t.ok(v.i == 42 and math.type(v.i) == "integer", "a whole number is a Lua integer")
t.ok(v.f == 1.5 and math.type(v.f) == "float", "a fraction is a float")
t.ok(v.e == 100 and math.type(v.e) == "float", "an exponent makes a float (1E2 -> 100.0)")
t.is(v.neg, -7, "negative integer")
t.is(v.s, 'a\n"b" é 😀', "escapes, \\u and surrogate pairs to UTF-8")
t.ok(v.t == true and v.no == false, "booleans")
t.ok(v.n == J.null and J.null ~= nil, "null is perch.json.null, so the key stays")
t.ok(#v.a == 4 and v.a[2] == "two" and v.a[3][1] == 3, "arrays are sequences from 1")
t.is(v.o.k, "v", "nested object")
t.is(J.decode("9007199254740993"), 9007199254740993, "integers beyond 2^53 are exact")
t.is(J.decode("-9223372036854775808"), math.mininteger, "the smallest 64-bit integer")
t.is(math.type(J.decode("9223372036854775808")), "float", "past 64 bits: a float")
t.is(J.decode('  \n\t 12.5e-1 \n'), 1.25, "whitespace around a scalar")
t.is(J.decode('{"a": 1, "a": 2}').a, 2, "a repeated key: the last wins")

-- Decode errors: nil, "json: line:col: message".
local function derr(text, opts)
  local r, err = J.decode(text, opts)
  return r == nil and err or ("decoded: " .. tostring(r))
end
t.is(derr('{"a": 1,\n "b": tru}'), "json: 2:7: unexpected 't'", "a bad literal: line:col")
t.is(derr('{"a": 1,\n "b": [1, 2'), "json: 2:12: unexpected end of input", "truncated text")
t.is(derr('[1, 2] x'), "json: 1:8: unexpected 'x'", "trailing garbage")
t.is(derr('[1,]'), "json: 1:4: unexpected ']'", "a trailing comma")
t.is(derr('{"a" 1}'), "json: 1:6: unexpected '1'", "a missing colon")
t.is(derr('{"a":\n"abc'), "json: 2:1: unterminated string", "an unterminated string")
t.is(derr('[01]'), "json: 1:2: a number cannot start with 0", "leading zeros")
t.is(derr('[1e400]'), "json: 1:2: number out of range", "a number beyond a double")
t.is(derr(''), "json: 1:1: unexpected end of input", "empty text")
t.is(derr('"a\\u0000b"'), "json: 1:3: \\u0000 in a string is not supported", "\\u0000 is refused")
t.is(derr('[1]\0'), "json: 1:4: NUL byte in the text", "a NUL byte")

-- Limits.
t.is(derr('[[[1]]]', { max_depth = 2 }), "json: 1:3: nesting deeper than 2", "max_depth")
t.ok(J.decode('[[[1]]]', { max_depth = 3 })[1][1][1] == 1, "at max_depth: fine")
local deep = ("["):rep(129) .. ("]"):rep(129)
t.like(derr(deep), "nesting deeper than 128", "the default depth is 128")
t.ok(J.decode(("["):rep(1000) .. ("]"):rep(1000), { max_depth = 1000 }) ~= nil, "1000 levels when asked")
t.like(derr(("x"):rep(100), { max_bytes = 99 }), "^json: text of 100 bytes is over max_bytes %(99%)$",
       "max_bytes")

-- Encode.
t.is(J.encode({ z = 1, a = { 3, 2.5, "x" }, m = { y = true, b = J.null } }),
     '{"a":[3,2.5,"x"],"m":{"b":null,"y":true},"z":1}', "objects with sorted keys, arrays, null")
t.is(J.encode({ 1.0, 0.1, -0.0, 1e300, math.maxinteger, math.mininteger, 2^53 }),
     '[1.0,0.1,-0.0,1e+300,9223372036854775807,-9223372036854775808,9007199254740992.0]',
     "floats stay floats (1.0), integers are exact, the shortest round-trip form")
t.is(J.encode('a\0b"\\\1\t/é'), '"a\\u0000b\\"\\\\\\u0001\\t/é"', "string escapes; bytes >= 0x80 as they are")
t.ok(J.encode({}) == "{}" and J.encode(J.array{}) == "[]" and J.encode(J.decode("[]")) == "[]",
     "an empty table is {}; a marked or decoded array is []")
t.is(J.encode(nil), "null", "nil is null")
local round = J.decode(J.encode(v))
t.ok(round.i == 42 and math.type(round.e) == "float" and round.s == v.s and round.n == J.null
     and #round.a == 4, "decode(encode(v)) keeps values and number types")

-- Encode errors: nil, "json.encode: path: message".
local function eerr(value, opts)
  local s, err = J.encode(value, opts)
  return s == nil and err or ("encoded: " .. tostring(s))
end
t.is(eerr({ a = { b = { 1, print } } }), "json.encode: value.a.b[2]: a function has no JSON form",
     "a function, with its path")
t.like(eerr({ [1] = 1, [3] = 3 }), "^json%.encode: value: a table with keys other than strings",
       "a sparse array")
t.like(eerr({ 1, x = 2 }), "keys other than strings", "mixed keys")
t.is(eerr({ x = 0 / 0 }), "json.encode: value.x: NaN has no JSON form", "NaN")
t.is(eerr(math.huge), "json.encode: value: infinity has no JSON form", "infinity")
local cyc = {}
cyc.self = cyc
t.like(eerr(cyc), "^json%.encode: value%.self%.self.*%.%.%.: nesting too deep %(a cycle%?%)$",
       "a cycle stops at max_depth, the path cut short")
t.like(eerr({ { { 1 } } }, { max_depth = 2 }), "value%[1%]%[1%]: nesting too deep", "encode max_depth")
t.is(J.encode({ b = 1, a = 2 }, { sort_keys = false }):len(), 13, "sort_keys = false still encodes")

-- Misuse raises.
t.raises(function() J.decode({}) end, "string expected", "decode needs a string")
t.raises(function() J.decode("1", { max_depth = 0 }) end,
         "json.decode: option 'max_depth' must be a whole number in 1..1000, got 0", "bad max_depth")
t.raises(function() J.decode("1", { depth = 3 }) end, "json.decode: unknown option 'depth'",
         "unknown option")
t.raises(function() J.encode({}, { sort_keys = "yes" }) end, "'sort_keys' must be a boolean",
         "bad sort_keys")
t.done()
