#!/bin/bash
# Interrupts spread over the whole of a pass of a large target (512 MiB,
# SDUMP_QUICK 256): SIGINT, SIGTERM and SIGHUP at evenly spread moments of a
# full pre-dump and of a dump -R (whose copy is frozen). After each: exit 1
# with one line "sdump: interrupted" (or, when the signal came after the
# commit, exit 0 and a whole image), no directory, the target running,
# untraced, with the same memory, map and fds, its threads ticking.
# SIGKILL of sdump during a pre-dump of a tracked target (no system call is
# injected then): the target is running and untraced and its memory is as
# it was; the directory may stay, but never with an inventory.
# The target killed at moments spread over a pass: sdump exits 1 with one
# line and leaves no directory.
# A restore -d interrupted (SIGINT, SIGTERM, SIGHUP, SIGKILL) at moments
# spread over it, its memory fill included: exit 1 with one line "sdump:
# interrupted" (or a process killed with sdump: PTRACE_O_EXITKILL), the PID
# free again, the image unchanged; or exit 0 and the process restored.
# Then a whole restore gives back every byte.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"
mib=512
points=12
if [ -n "${SDUMP_QUICK:-}" ]; then
	mib=256
	points=6
fi

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

start_target memtarget --mib "$mib" --threads 2 --ticker --dir "$WORK"
"$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/warm" || fail "first pass"
rm -rf "$WORK/warm"
sigs=(INT TERM HUP)
i=0
for kind in pre-dump dump; do
	args=(pre-dump -t "$TPID")
	[ "$kind" = dump ] && args=(dump -R -t "$TPID")
	ms=$(duration_ms "${args[@]}")
	ninterrupted=0
	ncommitted=0
	for delay in $(delays "$ms"); do
		i=$((i + 1))
		sig=${sigs[$((i % 3))]}
		dir=$WORK/x$i
		target_snapshot
		interrupt "$delay" "$sig" "${args[@]}" -D "$dir"
		st=$ST
		what="$kind, SIG$sig after ${delay}s of ${ms} ms"
		if [ "$st" = 0 ]; then
			[ -f "$dir/inventory.img" ] || fail "$what: exit 0 without an image"
			"$SDUMP" show -D "$dir" >/dev/null || fail "$what: exit 0, the image does not show"
			rm -rf "$dir"
			ncommitted=$((ncommitted + 1))
		elif [ "$st" -gt 128 ]; then
			# killed before the handlers were installed: nothing begun
			[ ! -e "$dir" ] || fail "$what: killed at once, yet it made a directory"
		else
			check_failed "$what" "$st" "$WORK/err" "$dir"
			grep -q "^sdump: interrupted" "$WORK/err" || fail "$what: $(cat "$WORK/err")"
			ninterrupted=$((ninterrupted + 1))
		fi
		check_target "$what"
	done
	[ "$ninterrupted" -gt 0 ] || fail "$kind: no signal interrupted it"
	echo "$kind of $mib MiB ($ms ms): $ninterrupted interrupted cleanly, $ncommitted done before the signal"
done

# SIGKILL of sdump itself, during pre-dumps of the tracked target
ms=$(duration_ms pre-dump -t "$TPID")
for delay in $(delays "$ms"); do
	i=$((i + 1))
	dir=$WORK/k$i
	target_snapshot
	interrupt "$delay" KILL pre-dump -t "$TPID" -D "$dir"
	what="pre-dump, SIGKILL after ${delay}s of $ms ms"
	[ -e "$dir/inventory.img" ] && ! "$SDUMP" show -D "$dir" >/dev/null 2>&1 &&
		fail "$what: an inventory in a directory that is no image"
	check_target "$what"
	rm -rf "$dir"
done
echo "SIGKILL of sdump at $((points + 2)) moments of a pre-dump: the target ran on unchanged"
stop_target

# the target killed during a pass
tmib=$((mib / 4))
for kind in pre-dump dump; do
	start_target memtarget --mib "$tmib" --threads 2 --dir "$WORK"
	args=(pre-dump -t @PID@)
	[ "$kind" = dump ] && args=(dump -R -t @PID@)
	ms=$(duration_ms "${args[@]//@PID@/$TPID}")
	stop_target
	n=0
	for delay in $(delays "$ms"); do
		i=$((i + 1))
		dir=$WORK/d$i
		start_target memtarget --mib "$tmib" --threads 2 --dir "$WORK"
		st=0
		timeout 120 "$SDUMP" -q "${args[@]//@PID@/$TPID}" -D "$dir" 2>"$WORK/err" &
		sp=$!
		sleep "$delay"
		kill -KILL "$TPID"
		wait "$sp" || st=$?
		wait "$TPID" 2>/dev/null || true
		exec 7>&- 8<&-
		what="$kind, the target killed after ${delay}s of $ms ms"
		if [ "$st" = 0 ]; then
			[ -f "$dir/inventory.img" ] || fail "$what: exit 0 without an image"
			rm -rf "$dir"
		else
			check_failed "$what" "$st" "$WORK/err" "$dir"
			echo "$what: $(cat "$WORK/err")"
			n=$((n + 1))
		fi
	done
	[ "$n" -gt 0 ] || fail "$kind: the target's death never failed it"
	echo "$kind of $tmib MiB ($ms ms), the target killed: $n failed with one line"
done

# interrupted restores (the FIFOs stay open: the restored target reopens them)
start_target memtarget --mib "$mib" --threads 2 --dir "$WORK"
pid=$TPID
tcmd "save anon $WORK/want.anon"
[ "$REPLY" = ok ] || fail "the target could not save its memory: $REPLY"
"$SDUMP" -q dump -t "$pid" -D "$WORK/rd" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait "$pid" 2>/dev/null || true
wait_pid_free "$pid"
sums=$(cd "$WORK/rd" && md5sum ./*)
t0=$(date +%s%N)
"$SDUMP" -q restore -D "$WORK/rd" --shell-job -d 2>"$WORK/err" || fail "timed restore: $(cat "$WORK/err")"
ms=$((($(date +%s%N) - t0) / 1000000))
kill -KILL "$pid"
wait_pid_free "$pid"
ninterrupted=0
ncommitted=0
for delay in $(delays "$ms"); do
	i=$((i + 1))
	sig=${sigs[$((i % 4))]:-KILL}
	interrupt "$delay" "$sig" restore -D "$WORK/rd" --shell-job -d
	st=$ST
	what="restore, SIG$sig after ${delay}s of $ms ms"
	if [ "$st" = 0 ]; then
		wait_restored "$pid" 3 memtarget
		kill -KILL "$pid"
		ncommitted=$((ncommitted + 1))
	elif [ "$st" -gt 128 ]; then
		# SIGKILL, or a signal before the handlers were installed
		[ ! -s "$WORK/err" ] || fail "$what: killed, yet it said: $(cat "$WORK/err")"
		for _ in $(seq 1 30); do
			[ -e "/proc/$pid" ] || break
			sleep 0.1
		done
		if [ -e "/proc/$pid" ]; then
			# killed only once the process was restored and let go
			wait_restored "$pid" 3 memtarget 5
			kill -KILL "$pid"
			ncommitted=$((ncommitted + 1))
		fi
	else
		[ "$st" = 1 ] || fail "$what: exit status $st"
		[ "$(wc -l <"$WORK/err")" = 1 ] || fail "$what: not one line: $(cat "$WORK/err")"
		grep -q "^sdump: interrupted" "$WORK/err" || fail "$what: $(cat "$WORK/err")"
		ninterrupted=$((ninterrupted + 1))
	fi
	# whatever was half restored went with sdump
	wait_pid_free "$pid" 10
	[ "$(cd "$WORK/rd" && md5sum ./*)" = "$sums" ] || fail "$what: the image changed"
done
[ "$ninterrupted" -gt 0 ] || fail "restore: no signal interrupted it"
"$SDUMP" -q restore -D "$WORK/rd" --shell-job -d 2>"$WORK/err" || fail "restore after the interrupted ones: $(cat "$WORK/err")"
wait_restored "$pid" 3 memtarget
tcmd "save anon $WORK/got.anon"
[ "$REPLY" = ok ] || fail "the restored target could not save its memory: $REPLY"
cmp -s "$WORK/want.anon" "$WORK/got.anon" || fail "the restored memory differs from the dumped one"
kill -KILL "$pid"
wait_pid_free "$pid"
exec 7>&- 8<&-
echo "restore of $mib MiB ($ms ms): $ninterrupted interrupted cleanly, $ncommitted done before the signal; then restored whole"
echo ok
