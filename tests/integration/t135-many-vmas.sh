#!/bin/bash
# A process of tens of thousands of VMAs (zdtm's maps06 has 30720):
# vmatarget --many 15000, 30000 VMAs of one page each, every other one
# read-only. Reading their VmFlags from /proc/PID/smaps (about 30 MB of
# text) ran sscanf on the rest of the buffer at every line, which takes
# the length of all that follows each time: a pre-dump or dump took
# minutes, ten and more for maps06, and went on through a SIGTERM.
# - pre-dump, dump --parent, each within 60 s (a few here);
# - restore: the target reads every page it wrote, its VMAs as they were.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# timed SECONDS CMD...: CMD finishes, successfully, within SECONDS (killed
# at twice that)
timed() {
	local lim=$1 t0 t1 st=0
	shift
	t0=$(date +%s)
	timeout -k 5 $((2 * lim)) "$@" 2>"$WORK/err" || st=$?
	t1=$(date +%s)
	[ "$st" = 0 ] || fail "$* (status $st after $((t1 - t0)) s): $(cat "$WORK/err")"
	[ $((t1 - t0)) -le "$lim" ] || fail "$* took $((t1 - t0)) s, over $lim"
	echo "$2: $((t1 - t0)) s"
}

start_target_quiet vmatarget --many 15000
pid=$TPID
n=$(wc -l <"/proc/$pid/maps")
[ "$n" -gt 30000 ] || fail "the target has only $n VMAs"
maps_of "$pid" >"$WORK/maps.before"
timed 60 "$SDUMP" pre-dump -t "$pid" -D "$WORK/1"
timed 60 "$SDUMP" dump -t "$pid" -D "$WORK/2" --parent "$WORK/1"
wait_gone "$pid"
timed 60 "$SDUMP" restore -D "$WORK/2" --shell-job -d
assert_running "$pid"
maps_of "$pid" >"$WORK/maps.after"
diff "$WORK/maps.before" "$WORK/maps.after" >"$WORK/maps.diff" || fail "the VMAs differ: $(head -5 "$WORK/maps.diff")"
tcmd check
[ "$REPLY" = ok ] || fail "the restored target: $REPLY"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo "restored: $n VMAs as they were, every page"
