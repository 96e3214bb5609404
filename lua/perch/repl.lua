-- perch.repl - the Lua side of the live REPL (runtime/repl.c is the server).
--
-- The server calls these functions in the app's own state, through the host
-- (same budget and memory ceiling as callbacks), one request at a time:
--   line(id, text)        interactive input: a command or Lua, possibly one
--                         line of a multi-line chunk -> kind, text
--   eval(id, text)        a whole chunk at once (perch repl -e, :watch)
--   cancel(id)            drop a pending multi-line chunk
--   complete(id, word)    names for tab completion, one per line
--   open(id) / close(id)  session scope; open says whether it was new
-- kind is "ok" (text is the output), "error" (text is the message) or
-- "more" (the chunk is incomplete).  A third result, for :set, is the audit
-- line the server logs with the client's uid.
--
-- Each session has its own scope: a table whose __index is _G, so new names
-- stay in the session and `_G.x = 1` writes a global.  `local x = 1` at the
-- start of a chunk is kept as a session name (it would vanish otherwise).
--
-- Live policies (for :policies and :set) are found by one convention: the
-- table package.loaded["perch.policy"].live maps a policy's name to the
-- policy object (p.name, p.params, p:set(key, value) raising on schema
-- errors); p.last, when present, is the engine's last result for it:
-- { decision = {...}, why = "...", error = nil | "message" }.
local M = {}

local G = _G
local traceback = debug.traceback
local utf8len = utf8.len
local getinfo = debug.getinfo
local load, pcall, xpcall, select, type, next, tostring, rawget, rawlen, getmetatable,
      setmetatable = load, pcall, xpcall, select, type, next, tostring, rawget, rawlen,
                     getmetatable, setmetatable
local concat, sort, fmt, ipairs = table.concat, table.sort, string.format, ipairs

local sessions = {}

-- ------------------------------------------------------------- printing

local MAX_DEPTH = 5      -- nesting shown before a table is summarized
local MAX_ITEMS = 50     -- entries shown per table
local MAX_LINES = 400    -- lines of one printed value
local MAX_STRING = 2000  -- bytes of one string shown
local WIDTH = 72         -- a table that fits stays on one line

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r",
                  ["\t"] = "\\t", ["\0"] = "\\0" }

local function quote(s)
  local more = #s - MAX_STRING
  if more > 0 then s = s:sub(1, MAX_STRING) end
  -- Valid UTF-8 shows as text; other bytes >= 128 as escapes.
  local pat = utf8len(s) and '[%c"\\]' or '[%c"\\\128-\255]'
  s = '"' .. s:gsub(pat, function(c)
    return escapes[c] or fmt("\\%d", c:byte())
  end) .. '"'
  if more > 0 then s = s .. fmt("...(%d more bytes)", more) end
  return s
end

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in local
  nil not or repeat return then true until while]]):gmatch("%a+") do keywords[w] = true end

local function is_name(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not keywords[k]
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local function scalar(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "function" then
    local info = getinfo(v, "S")
    if info and info.what ~= "C" then
      return fmt("%s (%s:%d)", tostring(v), info.short_src, info.linedefined)
    end
    return tostring(v)
  end
  if t == "table" or t == "userdata" then
    if has_tostring(v) then
      local ok, s = pcall(tostring, v)
      return ok and tostring(s) or fmt("<%s: __tostring failed: %s>", t, tostring(s))
    end
  end
  return tostring(v)
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    if ta == "number" then return true end
    if tb == "number" then return false end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

-- pretty(v) -> string: nested tables indented, depth and size limited,
-- cycles (a table inside itself) marked.
local function pretty(v)
  local lines, nlines = {}, 0
  local path = {}

  local function render(x, indent)
    if type(x) ~= "table" or has_tostring(x) then return scalar(x) end
    if path[x] then return fmt("<cycle: %s>", tostring(x)) end
    local n = rawlen(x)
    if next(x) == nil then return "{}" end
    if indent >= MAX_DEPTH * 2 then
      return fmt("{...} -- %s", tostring(x))
    end
    path[x] = true
    local items, total = {}, 0
    local i = 1
    while i <= n and rawget(x, i) ~= nil do
      total = total + 1
      if #items < MAX_ITEMS then items[#items + 1] = render(rawget(x, i), indent + 2) end
      i = i + 1
    end
    local array_end = i - 1
    local keys = {}
    for k in next, x do
      if not (math.type(k) == "integer" and k >= 1 and k <= array_end) then
        keys[#keys + 1] = k
      end
    end
    sort(keys, key_order)
    for _, k in ipairs(keys) do
      total = total + 1
      if #items < MAX_ITEMS then
        local ks = is_name(k) and k or "[" .. render(k, indent + 2) .. "]"
        items[#items + 1] = ks .. " = " .. render(rawget(x, k), indent + 2)
      end
    end
    path[x] = nil
    if total > #items then items[#items + 1] = fmt("... (%d more)", total - #items) end
    local one = "{ " .. concat(items, ", ") .. " }"
    if #one + indent <= WIDTH and not one:find("\n", 1, true) then return one end
    local pad = string.rep(" ", indent + 2)
    return "{\n" .. pad .. concat(items, ",\n" .. pad) .. "\n" .. string.rep(" ", indent) .. "}"
  end

  local s = render(v, 0)
  -- Cap the whole value, whatever its shape.
  for line in s:gmatch("[^\n]*") do
    nlines = nlines + 1
    if nlines > MAX_LINES then
      lines[#lines + 1] = fmt("... (output cut at %d lines)", MAX_LINES)
      break
    end
    lines[#lines + 1] = line
  end
  return concat(lines, "\n")
end
M.pretty = pretty

-- ------------------------------------------------------------ sessions

local function new_session()
  local s = { out = {} }
  s.env = setmetatable({}, { __index = G })
  -- print() in REPL input goes to the client, not to the app's stdout.
  s.env.print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    s.out[#s.out + 1] = concat(parts, "\t")
  end
  return s
end

function M.open(id)
  if sessions[id] then return false end
  sessions[id] = new_session()
  return true
end

function M.close(id) sessions[id] = nil end

local function session(id)
  local s = sessions[id]
  if not s then s = new_session(); sessions[id] = s end
  return s
end

function M.cancel(id)
  session(id).pending = nil
  return "ok", ""
end

-- -------------------------------------------------------------- running

-- A top-level `local` would die with the chunk: keep it as a session name.
local function keep_locals(src)
  local pre, rest = src:match("^(%s*)local%s+(function%s.*)$")
  if pre then return pre .. rest end
  pre, rest = src:match("^(%s*)local%s+([%a_][%w_]*%s*[,=].*)$")
  if pre and not rest:match("^[^=]*<") then return pre .. rest end
  return src
end

local function compile(src, env)
  local f = load("return " .. src, "=repl", "t", env)
  if f then return f end
  return load(keep_locals(src), "=repl", "t", env)
end

local function incomplete(err)
  return err:sub(-5) == "<eof>"
end

-- The traceback down to the REPL's own frames (the user's part only).
local function handler(e)
  local msg = type(e) == "string" and e or scalar(e)
  local tb = traceback(msg, 2)
  local cut = tb:find("\n%s*%[C%]: in function 'xpcall'")
  return cut and tb:sub(1, cut - 1) or tb
end

local function run(s, f)
  local out = s.out
  local r = table.pack(xpcall(f, handler))
  s.out = {}
  if not r[1] then
    out[#out + 1] = r[2]
    return "error", concat(out, "\n")
  end
  local vals = {}
  for i = 2, r.n do vals[#vals + 1] = pretty(r[i]) end
  if #vals > 0 then out[#out + 1] = concat(vals, "\t") end
  return "ok", concat(out, "\n")
end

-- ------------------------------------------------------------- policies

local function live_policies()
  local mod = package.loaded["perch.policy"]
  local live = type(mod) == "table" and mod.live or nil
  if type(live) ~= "table" then return nil end
  local names = {}
  for name in next, live do
    if type(name) == "string" then names[#names + 1] = name end
  end
  sort(names)
  return live, names
end

local function one_line(v)
  return (pretty(v):gsub("\n%s*", " "))
end

local function cmd_policies()
  local live, names = live_policies()
  if not live or #names == 0 then
    return "ok", 'no live policies (package.loaded["perch.policy"].live is empty)'
  end
  local out = {}
  for _, name in ipairs(names) do
    local p = live[name]
    local last = type(p) == "table" and p.last or nil
    if type(last) ~= "table" then
      out[#out + 1] = name .. ": no decision yet"
    elseif last.error then
      out[#out + 1] = fmt("%s: error: %s", name, tostring(last.error))
    else
      out[#out + 1] = fmt("%s: %s", name, one_line(last.decision))
      if last.why then out[#out + 1] = "  why: " .. tostring(last.why) end
    end
    -- perch.policy's p.params is a checked proxy; its values are p.values
    local params = type(p) == "table" and (rawget(p, "values") or p.params) or nil
    if type(params) == "table" then out[#out + 1] = "  params: " .. one_line(params) end
  end
  return "ok", concat(out, "\n")
end

local function cmd_set(s, args)
  local spec, src = args:match("^%s*(%S+)%s+(.-)%s*$")
  local name, key = (spec or ""):match("^([^.]+)%.(.+)$")
  if not name or src == "" then
    return "error", "usage: :set POLICY.PARAM VALUE   (VALUE is a Lua value: 25, true, \"eco\")"
  end
  local live, names = live_policies()
  local p = live and live[name]
  if type(p) ~= "table" then
    return "error", fmt("no live policy '%s' (live: %s)", name,
                        names and #names > 0 and concat(names, ", ") or "none")
  end
  local f, err = load("return " .. src, "=value", "t", s.env)
  if not f then
    return "error", fmt("bad value '%s': %s (quote strings: \"%s\")", src, err, src)
  end
  local ok, value = pcall(f)
  if not ok then return "error", fmt("bad value '%s': %s", src, tostring(value)) end
  local old
  if type(p.params) == "table" then old = p.params[key] end
  local done, serr = pcall(p.set, p, key, value)
  if not done then return "error", fmt("%s: %s", name, tostring(serr)) end
  local now = value
  if type(p.params) == "table" and p.params[key] ~= nil then now = p.params[key] end
  local msg = fmt("%s.%s = %s (was %s)", name, key, one_line(now), one_line(old))
  return "ok", msg, "set " .. msg
end

-- ------------------------------------------------------------ commands

local function command(s, text)
  local cmd, args = text:match("^:(%S*)%s*(.-)%s*$")
  if cmd == "policies" then return cmd_policies() end
  if cmd == "set" then return cmd_set(s, args) end
  return "error", fmt("unknown command ':%s' (:help lists them)", cmd or "")
end

function M.eval(id, text)
  local s = session(id)
  if text:match("^:") then return command(s, text) end
  local f, err = compile(text, s.env)
  if not f then
    if incomplete(err) then return "error", err .. " (incomplete input)" end
    return "error", err
  end
  return run(s, f)
end

function M.line(id, text)
  local s = session(id)
  if not s.pending and text:match("^:") then return command(s, text) end
  local src = s.pending and s.pending .. "\n" .. text or text
  local f, err = compile(src, s.env)
  if not f then
    if incomplete(err) then
      s.pending = src
      return "more", ""
    end
    s.pending = nil
    return "error", err
  end
  s.pending = nil
  return run(s, f)
end

-- ----------------------------------------------------------- completion

local function fields(v, want_methods, into)
  -- Follow __index tables (classes, handle methods) a few levels.
  for _ = 1, 5 do
    if type(v) == "table" then
      for k, x in next, v do
        if is_name(k) and (not want_methods or type(x) == "function") then into[k] = true end
      end
    end
    local mt = getmetatable(v)
    local idx = type(mt) == "table" and rawget(mt, "__index") or nil
    if type(idx) ~= "table" then break end
    v = idx
  end
end

function M.complete(id, word)
  local s = session(id)
  local found, prefix, partial = {}, "", word
  local base, sep, last = word:match("^(.-)([.:])([%w_]*)$")
  if base then
    if not base:match("^[%a_][%w_]*$") and not base:match("^[%a_][%w_]*[%.%w_]*[%w_]$") then
      return "ok", ""
    end
    local v = s.env
    for part in base:gmatch("[^.]+") do
      local ok, x = pcall(function() return v[part] end)
      if not ok or x == nil then return "ok", "" end
      v = x
    end
    fields(v, sep == ":", found)
    prefix, partial = base .. sep, last
  else
    if not word:match("^[%a_]?[%w_]*$") then return "ok", "" end
    fields(s.env, false, found)
    for k in next, keywords do found[k] = true end
  end
  local out = {}
  for k in next, found do
    if k:sub(1, #partial) == partial then out[#out + 1] = prefix .. k end
  end
  sort(out)
  return "ok", concat(out, "\n", 1, math.min(#out, 500))
end

return M
