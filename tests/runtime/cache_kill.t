#!/usr/bin/env bash
# perch.cache survives kill -9: 50 times, a writer (`perch run`) puts
# numbered entries and prints each key to a pipe only after its put
# returned; it is killed at a random moment once it has started writing.
# Then the file must open, mdb_stat (lmdb-utils) must read it cleanly, and
# every printed key must be readable with the value it was given.  The
# writers run the default commit policy (commit per put, fdatasync every
# 1 s from the sync thread) and die within 0.2 s of their first put, so
# what is checked is mostly committed but never synced: a process crash
# must not lose it.
. "$(dirname "$0")/lib.sh"
plan 7

KILLS=${PERCH_CACHE_KILLS:-50}
db="$TMP/cache.mdb"
keys="$TMP/keys"
: >"$keys"

# The value of a key is a function of the key, so the checker can tell a
# wrong or torn value from the right one.  Every 8th is large enough to
# need LMDB overflow pages.
common=$(cat <<'LUA'
local function value(key, n)
  local reps = n % 8 == 0 and 1500 or (n * 37) % 200 + 1
  return (key .. ";"):rep(reps)
end
LUA
)

writer=$(script writer <<LUA
$common
local run = perch.config.run
local c = assert(perch.cache.open{ path = "$db", max_mb = 256, default_ttl_s = 86400 })
io.stdout:setvbuf("no")
local n = 0
perch.every(1, function()
  for _ = 1, 5 do
    n = n + 1
    local key = ("r%d-%d"):format(run, n)
    assert(c:put(key, value(key, n)))
    -- One string, so one write(2): a pipe never shows half a line.
    io.write(key .. " ok\n")
  end
end)
LUA
)

mkfifo "$TMP/fifo"
started=0
for run in $(seq 1 "$KILLS"); do
    before=$(wc -l <"$keys")
    cat "$TMP/fifo" >>"$keys" &
    catpid=$!
    # shellcheck disable=SC2086
    $PERCH_RUNNER "$PERCH_BIN" run "$writer" --set run="$run" --duration 60 \
        >"$TMP/fifo" 2>>"$TMP/writer.err" &
    pid=$!
    # Kill only once this run has written something, then at a random
    # point of the stream: before the first sync, often inside a put.
    i=0
    while [ "$(wc -l <"$keys")" -le "$before" ] && [ $i -lt 1000 ] && kill -0 "$pid" 2>/dev/null; do
        sleep 0.02
        i=$((i + 1))
    done
    [ "$(wc -l <"$keys")" -gt "$before" ] && started=$((started + 1))
    sleep "0.$(printf '%03d' $((RANDOM % 200)))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    wait "$catpid"
done

total=$(grep -cE '^r[0-9]+-[0-9]+ ok$' "$keys")
is "$started" "$KILLS" "every one of the $KILLS writers got to write before its kill -9"
diag "$total entries reported written across $KILLS kills"
unlike "$TMP/writer.err" "ERROR|assertion|AddressSanitizer" "the writers logged no error before they were killed"

# LMDB's own tool reads the file and every database in it, free list too.
mdb_stat -n -e -f -a "$db" >"$TMP/stat.out" 2>&1
ok $? "mdb_stat -n -e -f -a exits 0 on the killed-and-reopened file"
like "$TMP/stat.out" "Status of entries" "mdb_stat sees the entries database"
unlike "$TMP/stat.out" "error|MDB_" "mdb_stat reports no error"

checker=$(script checker <<LUA
$common
local c, err = perch.cache.open{ path = "$db", max_mb = 256 }
if not c then print("open failed: " .. tostring(err)); os.exit(1) end
local checked, bad = 0, 0
for line in io.lines("$keys") do
  local key, n = line:match("^(r%d+%-(%d+)) ok$")
  if key then
    checked = checked + 1
    local v, state = c:get(key)
    if v ~= value(key, tonumber(n)) or state ~= "fresh" then
      bad = bad + 1
      if bad <= 5 then print(("bad: %s -> %s, %d bytes"):format(key, tostring(state), #(v or ""))) end
    end
  end
end
print(("checked=%d bad=%d"):format(checked, bad))
print("put after the kills: " .. tostring(c:put("after", "x")))
LUA
)
perch run "$checker" >"$TMP/check.out" 2>&1
like "$TMP/check.out" "^checked=$total bad=0$" "all $total entries whose put returned are there, with their values"
like "$TMP/check.out" "^put after the kills: true$" "the file takes new puts after the kills"
