#!/bin/bash
# Interrupts spread over whole passes of a process tree (treetarget: three
# levels, a stopped member, two zombies): SIGINT, SIGTERM and SIGHUP at
# evenly spread moments of a pre-dump and of a dump -R of the tree. After
# each: exit 1 with one line "sdump: interrupted" (or, when the signal came
# after the commit, exit 0 and a tree image that shows), no directory, and
# every member as it was: running (the stopped one stopped, the zombies
# zombies), the same parents, groups and sessions, none traced.
# SIGKILL of sdump during pre-dumps of the tracked tree (no system call is
# injected then): every member as it was; the directory may stay, but never
# with a tree.img that is no image.
# A restore -d of the tree interrupted (SIGINT, SIGTERM, SIGHUP, SIGKILL) at
# moments spread over it: exit 1 with one line "sdump: interrupted" (or,
# killed, every member made went with sdump: PTRACE_O_EXITKILL) and no
# member left, the image unchanged; or the whole tree restored as it was
# dumped. Then a whole restore, and the tree checks itself.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
. "$(dirname "$0")/members.sh"
export SDUMP_STATE_DIR="$WORK/state"
points=10
[ -z "${SDUMP_QUICK:-}" ] || points=5

# duration_ms ARGS...: how long "sdump -q ARGS -D DIR" takes, in ms
duration_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$SDUMP" -q "$@" -D "$WORK/timed" || fail "timed run of '$*'"
	t1=$(date +%s%N)
	rm -rf "$WORK/timed"
	echo $(((t1 - t0) / 1000000))
}

# delays MS: $points moments spread over MS milliseconds, and two at the very start
delays() {
	local k
	echo 0 0.0005
	for ((k = 0; k < points; k++)); do
		awk -v ms="$1" -v k="$k" -v n="$points" 'BEGIN { printf "%.4f\n", ms * (k + 0.5) / n / 1000 }'
	done
}

# interrupt DELAY SIG ARGS...: "sdump -q ARGS", stderr to $WORK/err, sent
# SIG after DELAY seconds; its exit status in ST
interrupt() {
	local delay=$1 sig=$2 sp
	shift 2
	ST=0
	"$SDUMP" -q "$@" 2>"$WORK/err" &
	sp=$!
	sleep "$delay"
	kill -s "$sig" "$sp" 2>/dev/null || true
	wait "$sp" || ST=$?
}

# same WHAT: every member as before (a stopped one's SIGSTOP at detach takes a moment)
same() {
	local now i
	for ((i = 0; i < 50; i++)); do
		now=$(tree_snapshot "${PIDS[@]}")
		[ "$now" = "$before" ] && return 0
		sleep 0.05
	done
	fail "$1: the tree is not as it was: $(diff <(echo "$before") <(echo "$now"))"
}

start_target_quiet treetarget "$WORK"
root=$TPID
mapfile -t PIDS < <(tree_members "$root")
TARGET_PIDS+=("${PIDS[@]}")
[ "${#PIDS[@]}" = 9 ] || fail "treetarget: ${#PIDS[@]} members, not 9"
before=$(tree_snapshot "${PIDS[@]}")
"$SDUMP" -q pre-dump -t "$root" -D "$WORK/warm" || fail "first pass of the tree"
rm -rf "$WORK/warm"
same "the first pass"
sigs=(INT TERM HUP)
i=0
for kind in pre-dump dump; do
	args=(pre-dump -t "$root")
	[ "$kind" = dump ] && args=(dump -R -t "$root")
	ms=$(duration_ms "${args[@]}")
	ninterrupted=0 ncommitted=0
	for delay in $(delays "$ms"); do
		i=$((i + 1))
		sig=${sigs[$((i % 3))]}
		dir=$WORK/x$i
		interrupt "$delay" "$sig" "${args[@]}" -D "$dir"
		what="$kind of the tree, SIG$sig after ${delay}s of $ms ms"
		if [ "$ST" = 0 ]; then
			[ -f "$dir/tree.img" ] || fail "$what: exit 0 without a tree image"
			"$SDUMP" show -D "$dir" >/dev/null || fail "$what: exit 0, the tree image does not show"
			rm -rf "$dir"
			ncommitted=$((ncommitted + 1))
		elif [ "$ST" -gt 128 ]; then
			# killed before the handlers were installed: nothing begun
			[ ! -e "$dir" ] || fail "$what: killed at once, yet it made a directory"
		else
			check_failed "$what" "$ST" "$WORK/err" "$dir"
			grep -q "^sdump: interrupted" "$WORK/err" || fail "$what: $(cat "$WORK/err")"
			ninterrupted=$((ninterrupted + 1))
		fi
		same "$what"
	done
	[ "$ninterrupted" -gt 0 ] || fail "$kind of the tree: no signal interrupted it"
	echo "$kind of the tree ($ms ms): $ninterrupted interrupted cleanly, $ncommitted done before the signal"
done

# SIGKILL of sdump itself, during pre-dumps of the tracked tree
ms=$(duration_ms pre-dump -t "$root")
for delay in $(delays "$ms"); do
	i=$((i + 1))
	dir=$WORK/k$i
	interrupt "$delay" KILL pre-dump -t "$root" -D "$dir"
	what="pre-dump of the tree, SIGKILL after ${delay}s of $ms ms"
	[ -e "$dir/tree.img" ] && ! "$SDUMP" show -D "$dir" >/dev/null 2>&1 &&
		fail "$what: a tree.img in a directory that is no image"
	same "$what"
	rm -rf "$dir"
done
echo "SIGKILL of sdump at $((points + 2)) moments of a pre-dump of the tree: every member ran on as it was"
tcmd check
[ "$REPLY" = ok ] || fail "the tree after the interrupted passes: $REPLY"
echo quit >&7
wait_gone "$root"
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true

# --- interrupted restores of a new tree's dump (the FIFOs stay open here) ---
start_target_quiet treetarget "$WORK"
root=$TPID
mapfile -t PIDS < <(tree_members "$root")
TARGET_PIDS+=("${PIDS[@]}")
before=$(tree_snapshot "${PIDS[@]}")
"$SDUMP" -q dump -t "$root" -D "$WORK/rd" 2>"$WORK/err" || fail "dump of the tree: $(cat "$WORK/err")"
exec 7>&- 8<&-
wait "$root" 2>/dev/null || true
for p in "${PIDS[@]}"; do wait_pid_free "$p"; done
exec 7<>"$WORK/target.in" 8<>"$WORK/target.out"
sum=$(dir_sum "$WORK/rd")
t0=$(date +%s%N)
"$SDUMP" -q restore -D "$WORK/rd" -d 2>"$WORK/err" || fail "timed restore: $(cat "$WORK/err")"
ms=$((($(date +%s%N) - t0) / 1000000))
same "the timed restore"
tree_kill "${PIDS[@]}"
ninterrupted=0 ncommitted=0 nkilled=0
for delay in $(delays "$ms"); do
	i=$((i + 1))
	sig=${sigs[$((i % 4))]:-KILL}
	interrupt "$delay" "$sig" restore -D "$WORK/rd" -d
	what="restore of the tree, SIG$sig after ${delay}s of $ms ms"
	if [ "$ST" = 0 ]; then
		same "$what (exit 0)"
		ncommitted=$((ncommitted + 1))
	elif [ "$ST" -gt 128 ]; then
		# SIGKILL, or a signal before the handlers were installed
		[ ! -s "$WORK/err" ] || fail "$what: killed, yet it said: $(cat "$WORK/err")"
		for _ in $(seq 1 30); do
			[ -e "/proc/$root" ] || break
			sleep 0.1
		done
		if [ -e "/proc/$root" ]; then
			# killed only once the tree was restored and let go: all of it
			same "$what (killed after the detach)"
			ncommitted=$((ncommitted + 1))
		else
			tree_none_left "$what" "${PIDS[@]}"
			nkilled=$((nkilled + 1))
		fi
	else
		[ "$ST" = 1 ] || fail "$what: exit status $ST: $(cat "$WORK/err")"
		[ "$(wc -l <"$WORK/err")" = 1 ] || fail "$what: not one line: $(cat "$WORK/err")"
		grep -q "^sdump: interrupted" "$WORK/err" || fail "$what: $(cat "$WORK/err")"
		tree_none_left "$what" "${PIDS[@]}"
		ninterrupted=$((ninterrupted + 1))
	fi
	tree_kill "${PIDS[@]}"
	[ "$(dir_sum "$WORK/rd")" = "$sum" ] || fail "$what: the image changed"
done
[ "$ninterrupted" -gt 0 ] || fail "restore of the tree: no signal interrupted it"
"$SDUMP" -q restore -D "$WORK/rd" -d 2>"$WORK/err" || fail "restore after the interrupted ones: $(cat "$WORK/err")"
same "the last restore"
tcmd check
[ "$REPLY" = ok ] || fail "the restored tree checks itself: $REPLY"
echo quit >&7
wait_gone "$root"
echo "restore of the tree ($ms ms): $ninterrupted interrupted cleanly, $nkilled killed with sdump, $ncommitted done before the signal; then restored whole"
echo ok
