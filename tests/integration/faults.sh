# Helpers of the fault and interrupt tests (t06x): what a pass that failed,
# whatever failed, must have left. Source after lib.sh. The target is a
# memtarget started with --ticker (it answers "sum" and "ticks").

# fds_of PID: its fds and what they are, one per line, its tracking
# userfaultfd left out (a pass that failed after creating it leaves it: the
# next pass takes it again, see sdump(1)).
fds_of() {
	local f
	for f in /proc/"$1"/fd/*; do
		printf '%s %s\n' "${f##*/}" "$(readlink "$f" 2>/dev/null || echo gone)"
	done | grep -v 'anon_inode:\[userfaultfd\]' | sort
}

# uffds_of PID: how many userfaultfds PID holds.
uffds_of() {
	local f n=0
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[userfaultfd]" ] && n=$((n + 1))
	done
	echo "$n"
}

# masks_of PID: each thread's blocked signals (sdump blocks them while it
# runs its calls in a thread, and puts them back).
masks_of() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s\n' "${t##*/}" "$(awk '/^SigBlk:/ {print $2}' "$t/status" 2>/dev/null)"
	done
}

# target_snapshot: what must not change in the target: its memory (the
# target's own checksum of every region), its memory map, its fds and its
# threads' signal masks.
target_snapshot() {
	tcmd sum
	case "$REPLY" in "ok "*) ;; *) fail "sum: '$REPLY'" ;; esac
	SNAP_SUM=$REPLY
	SNAP_MAPS=$(cat "/proc/$TPID/maps")
	SNAP_FDS=$(fds_of "$TPID")
	SNAP_MASKS=$(masks_of "$TPID")
}

# check_target WHAT: after a failed or interrupted pass: every thread runs,
# untraced; memory, map and fds as in the snapshot; at most one
# userfaultfd; it answers, and its ticker thread goes on ticking.
check_target() {
	local what=$1 got
	assert_running "$TPID"
	assert_threads_running "$TPID"
	got=$(cat "/proc/$TPID/maps")
	[ "$got" = "$SNAP_MAPS" ] || fail "$what: the memory map of the target changed: $(diff <(echo "$SNAP_MAPS") <(echo "$got") | head -n 6)"
	got=$(fds_of "$TPID")
	[ "$got" = "$SNAP_FDS" ] || fail "$what: the fds of the target changed: $(diff <(echo "$SNAP_FDS") <(echo "$got") | head -n 6)"
	got=$(masks_of "$TPID")
	[ "$got" = "$SNAP_MASKS" ] || fail "$what: the signal masks of the target changed: $(diff <(echo "$SNAP_MASKS") <(echo "$got") | head -n 6)"
	[ "$(uffds_of "$TPID")" -le 1 ] || fail "$what: the target holds $(uffds_of "$TPID") userfaultfds"
	tcmd sum
	[ "$REPLY" = "$SNAP_SUM" ] || fail "$what: the target's memory changed ($REPLY, was $SNAP_SUM)"
	counter_grows ticks 100 0.01 ||
		fail "$what: the target's ticker thread stopped ($COUNTER_FROM ticks, then $COUNTER_TO)"
}

# dir_sum DIR: a checksum of every file of an image directory (names too).
dir_sum() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum
}

# check_failed WHAT ST ERRFILE DIR: a pass that failed (ST) said one line
# "sdump: ..." on ERRFILE, exited 1 and left no directory DIR at all.
check_failed() {
	local what=$1 st=$2 err=$3 dir=$4
	[ "$st" = 1 ] || fail "$what: exit status $st, expected 1; stderr: $(cat "$err")"
	[ "$(wc -l <"$err")" = 1 ] || fail "$what: not one line on stderr: $(cat "$err")"
	grep -q '^sdump: ' "$err" || fail "$what: '$(cat "$err")' is not an sdump error line"
	[ ! -e "$dir/inventory.img" ] || fail "$what: a failed pass left '$dir/inventory.img'"
	[ ! -e "$dir" ] || fail "$what: a failed pass left its directory: $(ls -A "$dir" | tr '\n' ' ')"
}

# fault_count KIND CMD...: how many calls of KIND CMD makes (it must succeed).
fault_count() {
	local kind=$1 n
	shift
	SDUMP_FAULT_COUNT=1 "$@" 2>"$WORK/count.err" >/dev/null || fail "counting run of '$*': $(cat "$WORK/count.err")"
	n=$(grep -o "$kind=[0-9]*" "$WORK/count.err" | cut -d= -f2)
	[ -n "$n" ] || fail "no fault counts from '$*': $(cat "$WORK/count.err")"
	echo "$n"
}

# fault_points COUNT: the values of N to walk, spread over 1..COUNT, first
# and last included: every one with SDUMP_FAULT_ALL=1, else at most
# FAULT_MAX_POINTS (120 unless the test sets it; SDUMP_QUICK:
# FAULT_QUICK_POINTS, 24 unless the test sets it).
fault_points() {
	local count=$1 max=${FAULT_MAX_POINTS:-120} stride n
	[ -n "${SDUMP_QUICK:-}" ] && max=${FAULT_QUICK_POINTS:-24}
	[ "${SDUMP_FAULT_ALL:-}" = 1 ] && max=$count
	stride=$(((count + max - 1) / max))
	[ "$stride" -ge 1 ] || stride=1
	for ((n = 1; n <= count; n += stride)); do echo "$n"; done
	[ $(((count - 1) % stride)) = 0 ] || echo "$count"
}

# walk_pass LABEL SETUP KIND ERRNO ARGS...: the pass "sdump -q ARGS -D DIR"
# (@PID@ in ARGS: the target's pid at the time of the run)
# with its N-th call of KIND failing with ERRNO, for every N of the whole
# pass (fault_points). SETUP runs before each run (it may set PARENT, the
# parent image, which must come out untouched). A run that fails must leave
# what check_failed and check_target want; a run the fault did not fail (an
# optional read) must have made a right image.
walk_pass() {
	local label=$1 setup=$2 kind=$3 errno=$4 count n st psum dir=$WORK/w nfail=0 nok=0
	shift 4
	PARENT=
	$setup
	count=$(fault_count "$kind" "$SDUMP" -q "${@//@PID@/$TPID}" -D "$WORK/count")
	rm -rf "$WORK/count"
	[ "$count" -gt 0 ] || fail "$label: no $kind calls to fail"
	for n in $(fault_points "$count"); do
		$setup
		target_snapshot
		[ -z "$PARENT" ] || psum=$(dir_sum "$PARENT")
		st=0
		SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q "${@//@PID@/$TPID}" -D "$dir" >/dev/null 2>"$WORK/werr" || st=$?
		if [ "$st" = 0 ]; then
			[ -f "$dir/inventory.img" ] || fail "$label $kind:$n: exit 0 without an image"
			[ ! -s "$WORK/werr" ] || fail "$label $kind:$n: exit 0, yet: $(cat "$WORK/werr")"
			load_regions
			verify_extract "$dir"
			rm -rf "$dir"
			nok=$((nok + 1))
		else
			check_failed "$label $kind:$n" "$st" "$WORK/werr" "$dir"
			nfail=$((nfail + 1))
		fi
		check_target "$label $kind:$n ($(cat "$WORK/werr"))"
		if [ -n "$PARENT" ]; then
			[ "$(dir_sum "$PARENT")" = "$psum" ] || fail "$label $kind:$n: the parent image changed"
			"$SDUMP" show -D "$PARENT" >/dev/null || fail "$label $kind:$n: the parent no longer shows"
		fi
	done
	[ "$nfail" -gt 0 ] || fail "$label: no $kind fault failed the pass"
	echo "$label: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded (an optional call) with a right image"
}

# fault_walk_target NAME ARGS...: the fault walks of t099 over target NAME
# (started with ARGS; it answers "check"), with $FILES (set by the caller)
# the directory where the restore makes deleted files again. Dump -R: the
# N-th read of the process, ptrace request, system call injected, image
# write or file creation fails (N: fault_points): one line and exit 1, no
# directory, the process running, untraced, what statecheck sees of it as
# before; a dump the fault did not fail made an image that restores.
# Restore: the N-th write into the new process, ptrace request, injected
# call or read fails: one line, exit 1, no process and nothing in $FILES
# left, the image unchanged; then it restores and the target checks itself.
fault_walk_target() {
	local name=$1 pid kind errno nfail nok count st sum spec
	shift
	start_target_quiet "$name" "$@"
	pid=$TPID
	# the first dump -R arms sdump's tracking (its userfaultfd, the uw VmFlag): left out of the records
	"$SDUMP" -q dump -R -t "$pid" -D "$WORK/first" || fail "$name: dump -R"
	rm -rf "$WORK/first"
	state_record "$pid" "$WORK/before.state"
	for spec in procread:EIO ptrace:ESRCH inject:ENOMEM write:ENOSPC open:EIO; do
		kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
		count=$(fault_count "$kind" "$SDUMP" -q dump -R -t "$pid" -D "$WORK/count")
		rm -rf "$WORK/count"
		[ "$count" -gt 0 ] || fail "$name: dump -R: no $kind calls to fail"
		for n in $(fault_points "$count"); do
			st=0
			SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q dump -R -t "$pid" -D "$WORK/w" 2>"$WORK/werr" || st=$?
			if [ "$st" = 0 ]; then
				"$SDUMP" show -D "$WORK/w" >/dev/null || fail "$name: dump -R $kind:$n: exit 0 with an image show refuses"
				rm -rf "$WORK/w"
				nok=$((nok + 1))
			else
				check_failed "$name: dump -R $kind:$n" "$st" "$WORK/werr" "$WORK/w"
				nfail=$((nfail + 1))
			fi
			assert_running "$pid"
			assert_threads_running "$pid"
			state_record "$pid" "$WORK/after.state"
			python3 "$STATECHECK" compare "$WORK/before.state" "$WORK/after.state" >"$WORK/sc" 2>&1 ||
				fail "$name: dump -R $kind:$n ($(cat "$WORK/werr")): the process changed: $(cat "$WORK/sc")"
		done
		[ "$nfail" -gt 0 ] || fail "$name: dump -R: no $kind fault failed it"
		echo "$name: dump -R: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded; the process as it was"
	done

	"$SDUMP" -q dump -t "$pid" -D "$WORK/d" || fail "$name: dump"
	wait_gone "$pid"
	wait_pid_free "$pid"
	sum=$(dir_sum "$WORK/d")
	for spec in write:EIO ptrace:EIO inject:ENOMEM procread:EIO; do
		kind=${spec%:*} errno=${spec#*:} nfail=0 nok=0
		SDUMP_FAULT_COUNT=1 "$SDUMP" -q restore -D "$WORK/d" -d 2>"$WORK/count.err" ||
			fail "$name: restore: $(cat "$WORK/count.err")"
		wait_restored "$pid" 1 "$name"
		kill -KILL "$pid"
		wait_pid_free "$pid"
		count=$(grep -o "$kind=[0-9]*" "$WORK/count.err" | cut -d= -f2)
		[ "${count:-0}" -gt 0 ] || { echo "$name: restore: no $kind calls"; continue; }
		for n in $(fault_points "$count"); do
			st=0
			SDUMP_FAULT="$kind:$n:$errno" "$SDUMP" -q restore -D "$WORK/d" -d 2>"$WORK/err" || st=$?
			if [ "$st" = 0 ]; then
				wait_restored "$pid" 1 "$name"
				kill -KILL "$pid"
				nok=$((nok + 1))
			else
				[ "$st" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && grep -q '^sdump: ' "$WORK/err" ||
					fail "$name: restore $kind:$n: exit $st: $(cat "$WORK/err")"
				nfail=$((nfail + 1))
			fi
			wait_pid_free "$pid"
			[ "$(dir_sum "$WORK/d")" = "$sum" ] || fail "$name: restore $kind:$n: the image changed"
			[ -z "$(ls -A "$FILES")" ] || fail "$name: restore $kind:$n: files left in $FILES: $(ls -A "$FILES")"
		done
		[ "$nfail" -gt 0 ] || fail "$name: restore: no $kind fault failed it"
		echo "$name: restore: $kind 1..$count ($errno): $nfail failed cleanly, $nok succeeded; nothing left behind"
	done
	"$SDUMP" -q restore -D "$WORK/d" -d || fail "$name: the last restore"
	assert_threads_running "$pid"
	tcmd check
	[ "$REPLY" = ok ] || fail "$name: inside the last restored target: $REPLY"
	echo exit >&7
	wait_gone "$pid"
	exec 7>&- 8<&-
	rm -rf "$WORK/d"
}
