#!/bin/bash
# Pre-dumps of process trees and chains of them: treetarget pre-dumped
# (the whole tree frozen at once, every member's pass in pid-PID/, each
# with its own tracker), pre-dumped again on top (incremental per member),
# then dumped on top and restored: the tree checks itself. A bash loop
# whose child changes between passes: the new child gets a full first pass
# (no parent), the one gone is dropped from the chain; the tree restored
# from the chain goes on.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

members() {
	local q=("$1") i=0 p t c
	while [ "$i" -lt "${#q[@]}" ]; do
		p=${q[$i]}
		echo "$p"
		for t in /proc/"$p"/task/*; do
			for c in $(cat "$t/children" 2>/dev/null); do q+=("$c"); done
		done
		i=$((i + 1))
	done
}

# --- treetarget: pre-dump, pre-dump, dump, restore ---
start_target treetarget "$WORK"
root=$TPID
mapfile -t pids < <(members "$root")
TARGET_PIDS+=("${pids[@]}")
"$SDUMP" pre-dump -t "$root" -D "$WORK/1" 2>"$WORK/err" || fail "pre-dump of the tree: $(cat "$WORK/err")"
[ -f "$WORK/1/tree.img" ] || fail "the pre-dump wrote no tree.img"
for p in "${pids[@]}"; do
	st=$(proc_state "$p")
	case "$st" in Z | T) continue ;; esac
	assert_running "$p"
	[ -f "$WORK/1/pid-$p/inventory.img" ] || fail "no pre-dump pass of member $p"
done
"$SDUMP" -v pre-dump -t "$root" -D "$WORK/2" --parent "$WORK/1" 2>"$WORK/err" || fail "second pre-dump: $(cat "$WORK/err")"
grep -q "incremental" "$WORK/err" || fail "the second pre-dump of the tree is not incremental: $(cat "$WORK/err")"
[ "$(readlink "$WORK/2/pid-$root/parent")" = "../../1/pid-$root" ] || fail "the root's pass has parent $(readlink "$WORK/2/pid-$root/parent")"
"$SDUMP" dump -t "$root" -D "$WORK/3" --parent "$WORK/2" 2>"$WORK/err" || fail "dump on the chain: $(cat "$WORK/err")"
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true
for p in "${pids[@]}"; do wait_pid_free "$p"; done
exec 7<>"$WORK/target.in" 8<>"$WORK/target.out"
"$SDUMP" restore -D "$WORK/3" -d 2>"$WORK/err" || fail "restore of the chain: $(cat "$WORK/err")"
tcmd check
[ "$REPLY" = ok ] || fail "the tree restored from a chain checks itself: $REPLY"
echo quit >&7
wait_gone "$root"
echo "treetarget: pre-dump, pre-dump, dump, restore: ok"

# --- a member new since the parent, one gone ---
bash -c 'while :; do /bin/date +%s%N >>"$1"; /bin/sleep 1; done' loop "$WORK/date.log" </dev/null >/dev/null 2>&1 &
root=$!
TARGET_PIDS+=("$root")
# sleep_kid: the loop's child when it is the sleep (the date is gone at once), else nothing
sleep_kid() {
	local k
	k=$(cat "/proc/$root/task/$root/children" 2>/dev/null)
	k=${k% }
	[ -n "$k" ] && [ "$(cat "/proc/$k/comm" 2>/dev/null)" = sleep ] && echo "$k"
	return 0
}
for ((i = 0; i < 100; i++)); do [ -n "$(sleep_kid)" ] && break; sleep 0.05; done
"$SDUMP" pre-dump -t "$root" -D "$WORK/l1" 2>"$WORK/err" || fail "pre-dump of the loop: $(cat "$WORK/err")"
old=$(ls -d "$WORK"/l1/pid-* | grep -v "pid-$root$")
old=${old##*pid-}
for ((i = 0; i < 100; i++)); do
	kid=$(sleep_kid)
	[ -n "$kid" ] && [ "$kid" != "$old" ] && break
	sleep 0.05
done
"$SDUMP" -v dump -t "$root" -D "$WORK/l2" --parent "$WORK/l1" 2>"$WORK/err" || fail "dump of the loop: $(cat "$WORK/err")"
new=$(ls -d "$WORK"/l2/pid-* | grep -v "pid-$root$")
new=${new##*pid-}
[ "$new" != "$old" ] || fail "the loop's child did not change between the passes ($old)"
grep -q "pid $new is new in the tree" "$WORK/err" || fail "the new member was not said to get a full pass: $(cat "$WORK/err")"
[ ! -e "$WORK/l2/pid-$new/parent" ] || fail "the new member's pass has a parent"
[ -e "$WORK/l2/pid-$root/parent" ] || fail "the root's pass has no parent"
[ ! -e "$WORK/l2/pid-$old" ] || fail "the member gone is still in the tree"
wait "$root" 2>/dev/null || true
wait_pid_free "$root"
wait_pid_free "$new"
n=$(wc -l <"$WORK/date.log")
"$SDUMP" restore -D "$WORK/l2" -d 2>"$WORK/err" || fail "restore of the loop: $(cat "$WORK/err")"
TARGET_PIDS+=("$new")
for ((i = 0; i < 100; i++)); do [ "$(wc -l <"$WORK/date.log")" -ge $((n + 2)) ] && break; sleep 0.1; done
[ "$(wc -l <"$WORK/date.log")" -ge $((n + 2)) ] || fail "the restored loop does not go on"
kill "$root"
wait_gone "$root"
echo "bash loop: a new member got a full pass, the one gone was dropped; restored"
