#!/bin/bash
# The helpers of the migration fault walks (t101 pre-copy, t127 post-copy),
# sourced after lib.sh and mig_netns, with MIB, PORT and ST set:
# start_t starts the self-checking target (TPID), start_recv a receiver
# with --restore (and RECV_ARGS) in the namespace, recv_pid finds it, and
# outcome checks what a walk's step left: exactly one copy running,
# untraced, no half image, and cleans up for the next step. With KIDS
# set the target is a tree (migtarget --children KIDS): a copy is the
# whole tree, every member counted, the source's members each checked.

# the receiver under a shell that stays PID 1 of the destination's PID
# namespace, so that a receiver killed does not take the namespace with it
DEST_INIT='"$@" & while :; do wait; set -- /proc/[0-9]*; [ $# -le 1 ] && exit 0; sleep 0.1; done'

# count_walk: one whole migration of a new target with the fault points
# of both sides counted (SDUMP_FAULT_COUNT=1): the sender's counts in
# $WORK/send.err, the receiver's where start_recv leaves its stderr
count_walk() {
	start_t
	start_recv SDUMP_FAULT_COUNT=1
	SDUMP_FAULT_COUNT=1 "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" ||
		fail "migrate: $(cat "$WORK/send.err")"
}

start_t() {
	local i
	rm -f "$ST"
	setsid "$TARGETS_DIR/migtarget" --mib "$MIB" --dirty 10 --children "${KIDS:-0}" --status "$ST" </dev/null >/dev/null 2>"$WORK/t.err" &
	TPID=$!
	TARGET_PIDS+=("$TPID")
	for ((i = 0; i < 600; i++)); do
		if mig_status "$ST" && [ "${MS[state]}" = ok ] && { [ "${KIDS:-0}" = 0 ] || mig_status "$ST.${KIDS}"; }; then
			SRC=("$TPID" $(pgrep -P "$TPID" || true))
			TARGET_PIDS+=("${SRC[@]}")
			return 0
		fi
		sleep 0.1
	done
	fail "migtarget did not start: $(cat "$WORK/t.err")"
}

# start_recv [ENV...]: a receiver with --restore (and RECV_ARGS) in the namespace, under
# RECV_WRAP (a command that runs it, if any); RPID (the unshare)
RECV_ARGS=()
RECV_WRAP=()
start_recv() {
	local i
	rm -rf "$WORK/dst.new"
	ip netns exec "$MIG_NS" env "$@" unshare -p -f -m --mount-proc sh -c "$DEST_INIT" sh "${RECV_WRAP[@]}" \
		"$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore "${RECV_ARGS[@]}" 2>"$WORK/recv.err" &
	RPID=$!
	for ((i = 0; i < 100; i++)); do
		# the shell that is PID 1 there: killed at exit with the targets, if still there
		TARGET_PIDS+=($(pgrep -P "$RPID" || true))
		ip netns exec "$MIG_NS" ss -Hltn "sport = :$PORT" | grep -q . && return 0
		sleep 0.1
	done
	fail "the receiver does not listen: $(cat "$WORK/recv.err")"
}

# recv_pid: the host pid of sdump receive inside the namespace
recv_pid() {
	local p
	for p in $(pgrep -x sdump); do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "receive -D $WORK/dst " && {
			echo "$p"
			return 0
		}
	done
	return 1
}

# outcome WHAT: exactly one copy runs, untraced; no half image; everything stopped for the next walk
outcome() {
	local what=$1 i n running=0 stopped=0 src_state src_runs=0 p one=$((1 + ${KIDS:-0}))
	# the receiver ends by itself (its process ended, or it failed)
	for ((i = 0; i < 300; i++)); do
		recv_pid >/dev/null || break
		# a receiver whose process runs stays its parent: that is an outcome too
		mig_copies "$ST"
		n=0
		for p in "${MIG_PIDS[@]}"; do
			case $(proc_state "$p") in T | t) ;; *) [[ " ${SRC[*]} " == *" $p "* ]] || n=$((n + 1)) ;; esac
		done
		[ "$n" = "$one" ] && break
		sleep 0.1
	done
	mig_copies "$ST"
	for p in "${MIG_PIDS[@]}"; do
		case $(proc_state "$p") in
		T | t) stopped=$((stopped + 1)) ;;
		*) running=$((running + 1)); assert_running "$p" ;;
		esac
	done
	# cut while the go to run the destination's copy was under way: the
	# sender cannot tell whether it runs there, and leaves its own stopped
	# (never running two), saying so; here the destination had not got it
	if [ "$running" = 0 ] && [ "$stopped" = "$one" ] && [ "$(proc_state "$TPID")" = T ]; then
		grep -q "left stopped here (SIGSTOP): kill -CONT $TPID if it does not" "$WORK/send.err" ||
			fail "$what: the source is left stopped without a word: $(cat "$WORK/send.err")"
		for ((i = 0; i < 300; i++)); do recv_pid >/dev/null || break; sleep 0.1; done
		[ ! -e "$WORK/dst" ] || [ -z "$(ls -A "$WORK/dst")" ] ||
			{ [ "$KILLED" = receiver ] && [ -f "$WORK/dst/.receiving" ]; } ||
			fail "$what: the destination keeps $(ls -A "$WORK/dst")"
		kill -CONT "${SRC[@]}"
		sleep 0.5
		for p in "${SRC[@]}"; do assert_running "$p"; done
		mig_status "$ST"
		[ "${MS[state]}" = ok ] || fail "$what: the source continued finds its memory wrong: $(cat "$ST")"
		running=$one stopped=0
		UNSURE=1
	fi
	[ "$running" = "$one" ] || fail "$what: $running processes of copies run (${MIG_PIDS[*]}), not $one; sender: $(cat "$WORK/send.err"); receiver: $(cat "$WORK/recv.err"); the target's status: $(cat "$ST"* 2>/dev/null)"
	src_state=$(proc_state "$TPID")
	case $src_state in
	"" | Z | X) ;;
	T | t) [ "$stopped" = "$one" ] || fail "$what: the source is stopped but not counted so" ;;
	*) src_runs=1 ;;
	esac
	[ "${UNSURE:-}" = 1 ] && src_runs=1
	if [ "$src_runs" = 1 ]; then
		for p in "${SRC[@]}"; do
			assert_running "$p"
			ls -l "/proc/$p/fd/" 2>/dev/null | grep -q userfaultfd && [ "$KILLED" != sender ] && [ -z "${UNSURE:-}" ] &&
				fail "$what: pid $p of the source keeps sdump's tracking userfaultfd"
		done
		# nothing of it at the destination once the receiver is done
		for ((i = 0; i < 300; i++)); do recv_pid >/dev/null || break; sleep 0.1; done
		recv_pid >/dev/null && fail "$what: the receiver is still there while the source runs on"
		if [ -e "$WORK/dst" ]; then
			if [ "$KILLED" = receiver ]; then
				[ -f "$WORK/dst/.receiving" ] || fail "$what: a killed receiver left unmarked passes: $(ls -A "$WORK/dst")"
			else
				[ -z "$(ls -A "$WORK/dst")" ] || fail "$what: the destination keeps $(ls -A "$WORK/dst")"
			fi
		fi
		RESULT=source
		[ "${UNSURE:-}" = 1 ] && RESULT="source (left stopped, the line saying so; continued here)"
	else
		[ -f "$WORK/dst/.receiving" ] && fail "$what: the destination runs it but its directory is marked unfinished"
		RESULT=destination
		[ "$stopped" = "$one" ] && RESULT="destination (source left stopped)"
	fi
	UNSURE=
	# clean up for the next walk
	for ((i = 0; i < 100; i++)); do
		mig_copies "$ST"
		for p in "${MIG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$RPID" 2>/dev/null && fail "$what: the destination does not end once its process is killed"
	wait "$RPID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do recv_pid >/dev/null || break; sleep 0.1; done
	if [ -f "$WORK/dst/.receiving" ]; then
		# the next receive removes a killed receiver's leftovers, and says so
		start_recv
		kill -TERM "$(recv_pid)"
		wait "$RPID" 2>/dev/null || true
		grep -q "removed what a receiver killed before its end" "$WORK/recv.err" ||
			fail "$what: the next receive did not remove the leftovers: $(cat "$WORK/recv.err")"
		[ ! -e "$WORK/dst" ] || [ -z "$(ls -A "$WORK/dst")" ] || fail "$what: leftovers stay: $(ls -A "$WORK/dst")"
	fi
	rm -rf "$WORK/dst"
	echo "$what: $RESULT runs"
}
