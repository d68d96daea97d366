#!/bin/bash
# SIGKILL of the helper of a lazy restore -d of a process tree: the helper
# (sdump-lazy, one for every member) is stopped while pages are missing,
# with each member in the middle of "churn" (a child forked: a process the
# tree did not have at the restore), then killed: every member and every
# process below them is killed, none left running with memory missing,
# and the failure is said once, on the restore's stderr, naming the tree.
# Then the same with the fill of one member failing (its N-th UFFDIO_COPY,
# without -d): the whole tree goes, one error line, exit 1.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lazy.sh"
. "$(dirname "$0")/faults.sh"
MIB=64
KIDS=3

lazy_start_target --mib "$MIB" --kids "$KIDS"
root=$TPID
mapfile -t members < <(lazy_members "$root")
TARGET_PIDS+=("${members[@]}")
"$SDUMP" dump -t "$root" -D "$WORK/img" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
for m in "${members[@]}"; do wait_pid_free "$m"; done
sum=$(dir_sum "$WORK/img")

# all_gone WHAT PID...: none of them exists (or each a zombie) within 10 s
all_gone() {
	local what=$1 p i st
	shift
	for p in "$@"; do
		for ((i = 0; i < 100; i++)); do
			st=$(proc_state "$p")
			case "$st" in "" | Z | X) break ;; esac
			sleep 0.1
		done
		case "$st" in "" | Z | X) ;; *) fail "$what: pid $p is left ($st)" ;; esac
	done
}

stopped=
for try in 1 2 3 4 5; do
	lazy_queue churn
	"$SDUMP" -v restore -D "$WORK/img" --lazy --shell-job -d 2>"$WORK/h.err" ||
		fail "restore --lazy -d: $(cat "$WORK/h.err")"
	helper=$(lazy_helper "$WORK/h.err")
	[ -n "$helper" ] || fail "no helper named: $(cat "$WORK/h.err")"
	if kill -STOP "$helper" 2>/dev/null && ! grep -q "processes complete after" "$WORK/h.err"; then
		[ "$(cat "/proc/$helper/comm")" = sdump-lazy ] || fail "the helper is '$(cat "/proc/$helper/comm")'"
		stopped=1
		break
	fi
	echo "the fill was done before the helper could be stopped; again"
	lazy_reply
	echo exit >&7
	for m in "${members[@]}"; do wait_pid_free "$m"; done
done
[ -n "$stopped" ] || fail "the fill always ended before the helper could be stopped"
sleep 0.5
mapfile -t all < <(tree_all "$root")
kill -KILL "$helper"
all_gone "SIGKILL of the helper" "${all[@]}"
wait_pid_free "$helper"
for ((i = 0; i < 100; i++)); do grep -q "ended before" "$WORK/h.err" && break; sleep 0.1; done
grep -q "^sdump: the lazy fill of the tree of pid $root ended before the memory of pid [0-9]* was in: its $((KIDS + 1)) processes are killed" "$WORK/h.err" ||
	fail "SIGKILL of the helper: not said: $(cat "$WORK/h.err")"
[ "$(grep -c "ended before" "$WORK/h.err")" = 1 ] || fail "said more than once: $(cat "$WORK/h.err")"
for m in "${members[@]}"; do wait_pid_free "$m"; done
echo "SIGKILL of the helper: the ${#all[@]} processes of the tree killed, said once"
exec 7>&- 8<&- 9<&-

# --- one member's fill fails: its write (UFFDIO_COPY) N fails ---
start_target_quiet lazytarget --mib 4 --kids 2
exec 9<>"$WORK/target.in"
root=$TPID
mapfile -t members < <(lazy_members "$root")
TARGET_PIDS+=("${members[@]}")
rm -rf "$WORK/img"
"$SDUMP" dump -t "$root" -D "$WORK/img" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
for m in "${members[@]}"; do wait_pid_free "$m"; done
sum=$(dir_sum "$WORK/img")
lazy_queue check
SDUMP_FAULT_COUNT=1 "$SDUMP" -q restore -D "$WORK/img" --lazy --shell-job 2>"$WORK/count.err" &
rpid=$!
lazy_reply
echo exit >&7
wait "$rpid" || fail "counting run: $(cat "$WORK/count.err")"
count=$(grep -o "write=[0-9]*" "$WORK/count.err" | cut -d= -f2)
[ "${count:-0}" -gt 4 ] || fail "no writes counted: $(cat "$WORK/count.err")"
for m in "${members[@]}"; do wait_pid_free "$m"; done
failed=
# the last writes are the lazy fill's (the eager ones, of what is not lazy, come first)
for n in $((count - 1)) $((count - 2)) $((count * 9 / 10)) $((count * 3 / 4)) $((count / 2)); do
	lazy_queue check
	SDUMP_FAULT="write:$n:EIO" "$SDUMP" -v restore -D "$WORK/img" --lazy --shell-job 2>"$WORK/f.err" &
	rpid=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$rpid" 2>/dev/null || break
		grep -q "memory complete" "$WORK/f.err" 2>/dev/null && break
		sleep 0.1
	done
	if grep -q "memory complete" "$WORK/f.err"; then
		echo exit >&7
		wait "$rpid" || fail "write:$n: the restore that succeeded exited $?: $(cat "$WORK/f.err")"
		for m in "${members[@]}"; do wait_pid_free "$m"; done
		continue
	fi
	st=0
	wait "$rpid" || st=$?
	[ "$st" = 1 ] || fail "write:$n: exit $st: $(cat "$WORK/f.err")"
	[ "$(grep -c '^sdump: ' "$WORK/f.err")" = 1 ] && tail -n 1 "$WORK/f.err" | grep -q '^sdump: ' ||
		fail "write:$n: not one error line: $(cat "$WORK/f.err")"
	all_gone "write:$n" "${members[@]}"
	for m in "${members[@]}"; do wait_pid_free "$m"; done
	[ "$(dir_sum "$WORK/img")" = "$sum" ] || fail "write:$n: the image changed"
	# a failure before the tree ran is t082's; here, one in the fill of a member's memory
	grep -q "^sdump: the restored tree of pid $root was killed, its memory incomplete: " "$WORK/f.err" || continue
	failed="write:$n of $count: $(tail -n 1 "$WORK/f.err")"
	break
done
[ -n "$failed" ] || fail "no write fault failed the lazy restore of the tree"
echo "$failed"
echo ok
