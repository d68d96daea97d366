#!/bin/bash
# A CRIU user's habits work: -v0 .. -v4 and --verbosity=N beside -v/-vv/-q,
# --prev-images-dir relative to -D beside --parent, --display-stats; restore
# -j, --pidfile, and --file-changed (a log that grew: refused with what
# changed, or allowed).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target memtarget --mib 8 --dir "$WORK"
load_regions
mkdir "$WORK/img"

# -v4 is debug, -v3 info (the phase lines), -v2 the default, -v0 and -v1 errors only
"$SDUMP" -v3 pre-dump -t "$TPID" -D "$WORK/img/1" 2>"$WORK/v3" || fail "pre-dump -v3: $(cat "$WORK/v3")"
grep -q "^pre-dump $TPID: collect" "$WORK/v3" || fail "-v3 shows no phase lines: $(cat "$WORK/v3")"
grep -qi "debug" "$WORK/v3" && fail "-v3 shows debug lines"
"$SDUMP" pre-dump -v4 -t "$TPID" -D "$WORK/img/x4" 2>"$WORK/v4" || fail "pre-dump -v4"
[ "$(wc -l <"$WORK/v4")" -gt "$(wc -l <"$WORK/v3")" ] || fail "-v4 says no more than -v3"
"$SDUMP" --verbosity=4 pre-dump -t "$TPID" -D "$WORK/img/x5" 2>"$WORK/v4b" || fail "--verbosity=4"
[ "$(wc -l <"$WORK/v4b")" -gt "$(wc -l <"$WORK/v3")" ] || fail "--verbosity=4 says no more than -v3"
"$SDUMP" -vv pre-dump -t "$TPID" -D "$WORK/img/x6" 2>"$WORK/vv" || fail "-vv"
[ "$(wc -l <"$WORK/vv")" -gt "$(wc -l <"$WORK/v3")" ] || fail "-vv is no longer debug"
for lvl in 0 1; do
	# a pass that warns (tracking was re-armed since its parent): -v0 and -v1 say nothing
	"$SDUMP" -v$lvl pre-dump -t "$TPID" -D "$WORK/img/q$lvl" --parent "$WORK/img/1" 2>"$WORK/q" ||
		fail "pre-dump -v$lvl"
	[ ! -s "$WORK/q" ] || fail "-v$lvl printed: $(cat "$WORK/q")"
done
"$SDUMP" -v2 pre-dump -t "$TPID" -D "$WORK/img/q2" --parent "$WORK/img/1" 2>"$WORK/q" || fail "-v2"
grep -q "warning" "$WORK/q" || fail "-v2 does not show the warning: $(cat "$WORK/q")"
st=0; "$SDUMP" -v7 show -D "$WORK/img/1" 2>"$WORK/err" || st=$?
[ "$st" = 2 ] && grep -q "unknown option '-v7'" "$WORK/err" || fail "-v7: exit $st, $(cat "$WORK/err")"

# --prev-images-dir: relative to -D, as CRIU's
tcmd "dirty anon 100 1" >/dev/null
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/img/2" --prev-images-dir ../q2 --display-stats >"$WORK/stats" ||
	fail "pre-dump --prev-images-dir"
[ "$(readlink -f "$WORK/img/2/parent")" = "$(readlink -f "$WORK/img/q2")" ] || fail "parent link: $(readlink "$WORK/img/2/parent")"
"$SDUMP" show --json -D "$WORK/img/2" >"$WORK/s2.json"
[ "$(json_int "$WORK/s2.json" pages_in_parent)" -gt 0 ] || fail "--prev-images-dir: nothing left to the parent"
# --display-stats: the lines of show's statistics, the same numbers
for k in frozen pages "on disk"; do
	want=$("$SDUMP" show -D "$WORK/img/2" | grep "^$k ")
	grep -qxF "$want" "$WORK/stats" || fail "--display-stats lacks '$want': $(cat "$WORK/stats")"
done
tcmd "dirty anon 100 2" >/dev/null
( cd "$WORK/img" && "$SDUMP" dump -R -t "$TPID" -D 3 --prev-images-dir ../2 >/dev/null ) || fail "dump --prev-images-dir, relative -D"
[ "$(readlink -f "$WORK/img/3/parent")" = "$(readlink -f "$WORK/img/2")" ] || fail "dump's parent link"
verify_extract "$WORK/img/3" anon
st=0; "$SDUMP" pre-dump -t "$TPID" -D "$WORK/img/4" --parent "$WORK/img/3" --prev-images-dir ../3 2>"$WORK/err" || st=$?
[ "$st" = 2 ] && grep -q "give one" "$WORK/err" || fail "--parent with --prev-images-dir: exit $st, $(cat "$WORK/err")"
expect_error "parent image .* is missing" "$SDUMP" pre-dump -t "$TPID" -D "$WORK/img/5" --prev-images-dir ../nothing
stop_target

# a process appending to a log: the log grows after the dump
echo "line 1" >"$WORK/app.log"
start_target_quiet memtarget --mib 4 --dir "$WORK" 9>>"$WORK/app.log"
lpid=$TPID
"$SDUMP" dump -t "$lpid" -D "$WORK/log" 2>"$WORK/err" || fail "dump of the log writer: $(cat "$WORK/err")"
wait_gone "$lpid"
exec 7>&- 8<&-
wait_pid_free "$lpid"
echo "line 2, written after the dump" >>"$WORK/app.log"
expect_error "file '.*app.log' \(fd 9\) changed since the dump: size 7 bytes then, 38 now; modified .* then, .* now; --file-changed=allow opens it as it is now" \
	"$SDUMP" restore -j -d -D "$WORK/log"
[ ! -e "/proc/$lpid" ] || fail "a refused restore left pid $lpid"
st=0; "$SDUMP" restore -d -D "$WORK/log" --file-changed=maybe 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "--file-changed=maybe: exit $st, not 2"
"$SDUMP" restore -j -d -D "$WORK/log" --file-changed=allow --pidfile "$WORK/pid" 2>"$WORK/err" ||
	fail "restore --file-changed=allow: $(cat "$WORK/err")"
grep -q "warning: .*app.log' (fd 9) changed since the dump (size 7 bytes then, 38 now" "$WORK/err" ||
	fail "no warning of the changed file: $(cat "$WORK/err")"
[ "$(cat "$WORK/pid")" = "$lpid" ] || fail "pidfile holds '$(cat "$WORK/pid")', not $lpid"
assert_running "$lpid"
kill -KILL "$lpid"
echo ok
