#!/bin/bash
# Fault injection over a whole pass of a process tree (treetarget): the
# N-th write, read of a process, ptrace request, injected system call or
# image file creation fails, N walked over a dump -R of the tree (at most
# 120 points per kind, SDUMP_QUICK 24, SDUMP_FAULT_ALL=1 every one). After
# a failed dump: one line, exit 1, no directory, every member as it was
# (running, the stopped one stopped, the zombies zombies), none traced; a
# dump the fault did not fail made a tree image; the tree still checks
# itself at the end.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
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
# snapshot: "pid ppid pgid sid state tracer" of every member
snapshot() {
	local p
	for p in "${PIDS[@]}"; do
		printf '%s %s %s\n' "$p" "$(cut -d' ' -f3-6 "/proc/$p/stat" 2>/dev/null | sed 's/^. //')" \
			"$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)"
	done
}

start_target_quiet treetarget "$WORK"
root=$TPID
mapfile -t PIDS < <(members "$root")
TARGET_PIDS+=("${PIDS[@]}")
before=$(snapshot)

# --- dump -R of the tree ---
dir=$WORK/w
for spec in write:ENOSPC procread:EIO ptrace:ESRCH inject:ENOMEM open:EIO; do
	kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
	count=$(fault_count "$kind" "$SDUMP" -q dump -R -t "$root" -D "$WORK/count")
	rm -rf "$WORK/count"
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q dump -R -t "$root" -D "$dir" >/dev/null 2>"$WORK/werr" || st=$?
		if [ "$st" = 0 ]; then
			[ -f "$dir/tree.img" ] || fail "dump $kind:$n: exit 0 without a tree image"
			rm -rf "$dir"
			nok=$((nok + 1))
		else
			check_failed "dump $kind:$n" "$st" "$WORK/werr" "$dir"
			nfail=$((nfail + 1))
		fi
		now=$(snapshot)
		[ "$now" = "$before" ] || fail "dump $kind:$n ($(cat "$WORK/werr")): the tree changed: $(diff <(echo "$before") <(echo "$now"))"
	done
	[ "$nfail" -gt 0 ] || fail "dump: no $kind fault failed the pass"
	echo "dump -R of the tree: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded"
done
tcmd check
[ "$REPLY" = ok ] || fail "the tree after the fault walk: $REPLY"

echo quit >&7
wait_gone "$root"
echo ok
