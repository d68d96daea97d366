#!/bin/bash
# Without tracking, every pass saves everything and the chain still reads right.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
start_target memtarget --mib 8 --dir "$WORK"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/1" --track none || fail "pass 1"
tcmd "dirty anon 100 1"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/2" --track none --compress-level 19 --parent "$WORK/1" 2>"$WORK/err" || fail "pass 2"
[ ! -s "$WORK/err" ] || fail "a chain without tracking warned: $(cat "$WORK/err")"
"$SDUMP" show -D "$WORK/1" --json >"$WORK/1.json"
"$SDUMP" show -D "$WORK/2" --json >"$WORK/2.json"
[ "$(json_int "$WORK/2.json" pages_in_parent)" = 0 ] || fail "pages in parent without tracking"
[ "$(json_int "$WORK/2.json" pages_written)" -ge "$(json_int "$WORK/1.json" pages_written)" ] || fail "pass 2 saved less"
grep -q '"tracker":"none"' "$WORK/2.json" || fail "tracker not recorded"
load_regions
verify_extract "$WORK/2"
# the fastest level reads back the same, and a level out of range is a usage error
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/3" --track none --compress-level -7 || fail "pass 3"
verify_extract "$WORK/3"
st=0; "$SDUMP" pre-dump -t "$TPID" -D "$WORK/4" --compress-level 20 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "--compress-level 20: exit $st"
stop_target
echo ok
