#!/usr/bin/env bash
# With stderr connected to the journal (JOURNAL_STREAM = stderr's dev:ino),
# every line carries a syslog "<N>" priority prefix; otherwise none does.
. "$(dirname "$0")/lib.sh"
plan 6

app=$(script j <<'LUA'
perch.log.info("info line")
perch.log.warn("warn line")
perch.log.error("error line")
perch.log.debug("debug line")
LUA
)
log="$TMP/journal.log"
: >"$log"
js=$(stat -c '%d:%i' "$log")
JOURNAL_STREAM=$js perch run "$app" --log-level debug 2>>"$log" >/dev/null
like "$log" "^<6>INFO .*j\.lua:1: info line" "info has <6>"
like "$log" "^<4>WARN .*warn line" "warn has <4>"
like "$log" "^<3>ERROR .*error line" "error has <3>"
like "$log" "^<7>DEBUG .*debug line" "debug has <7>"

other="$TMP/plain.log"
JOURNAL_STREAM=$js perch run "$app" 2>"$other" >/dev/null
unlike "$other" "^<[0-9]>" "JOURNAL_STREAM naming another file: no prefixes"
like "$other" "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ INFO  .*j\.lua:1: info line" "terminal lines carry time, level, file:line"
