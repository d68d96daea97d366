#!/bin/bash
# Fault walks over a migration (the destination in new network, PID and
# mount namespaces, a veth pair): the connection cut at calls spread over
# the whole stream, on the sender's side and on the receiver's
# (SDUMP_FAULT=net:N), the receiver killed and the sender killed (SIGKILL)
# at moments spread over it. After each, exactly one copy of the process
# runs, untraced (or, cut right after the sender told the destination to
# run its copy, that copy runs and the source is left stopped: never two
# running); the destination keeps no pass of a migration that did not end,
# or, for a receiver killed, marks them and the next receive removes them.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
# the sender's work directories (a sender killed leaves its own behind)
export TMPDIR=$WORK
MIB=32
POINTS=8
[ "${SDUMP_QUICK:-}" = 1 ] && POINTS=5
mig_netns
PORT=$((8000 + $$ % 1000))
ST=$WORK/t.st
# the receiver under a shell that stays PID 1 of the destination's PID
# namespace, so that a receiver killed does not take the namespace with it
DEST_INIT='"$@" & while :; do wait; set -- /proc/[0-9]*; [ $# -le 1 ] && exit 0; sleep 0.1; done'

start_t() {
	local i
	rm -f "$ST"
	setsid "$TARGETS_DIR/migtarget" --mib "$MIB" --dirty 10 --status "$ST" </dev/null >/dev/null 2>"$WORK/t.err" &
	TPID=$!
	TARGET_PIDS+=("$TPID")
	for ((i = 0; i < 600; i++)); do
		mig_status "$ST" && [ "${MS[state]}" = ok ] && return 0
		sleep 0.1
	done
	fail "migtarget did not start: $(cat "$WORK/t.err")"
}

# start_recv [ENV...]: a receiver with --restore in the namespace; RPID (the unshare)
start_recv() {
	local i
	rm -rf "$WORK/dst.new"
	ip netns exec "$MIG_NS" env "$@" unshare -p -f -m --mount-proc sh -c "$DEST_INIT" sh \
		"$SDUMP" receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/recv.err" &
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
	local what=$1 i n running=0 stopped=0 src_state src_runs=0 p
	# the receiver ends by itself (its process ended, or it failed)
	for ((i = 0; i < 300; i++)); do
		recv_pid >/dev/null || break
		# a receiver whose process runs stays its parent: that is an outcome too
		mig_copies "$ST"
		n=0
		for p in "${MIG_PIDS[@]}"; do
			case $(proc_state "$p") in T | t) ;; *) [ "$p" != "$TPID" ] && n=$((n + 1)) ;; esac
		done
		[ "$n" = 1 ] && break
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
	if [ "$running" = 0 ] && [ "$stopped" = 1 ] && [ "$(proc_state "$TPID")" = T ]; then
		grep -q "left stopped here (SIGSTOP): kill -CONT $TPID if it does not" "$WORK/send.err" ||
			fail "$what: the source is left stopped without a word: $(cat "$WORK/send.err")"
		for ((i = 0; i < 300; i++)); do recv_pid >/dev/null || break; sleep 0.1; done
		[ ! -e "$WORK/dst" ] || [ -z "$(ls -A "$WORK/dst")" ] ||
			{ [ "$KILLED" = receiver ] && [ -f "$WORK/dst/.receiving" ]; } ||
			fail "$what: the destination keeps $(ls -A "$WORK/dst")"
		kill -CONT "$TPID"
		sleep 0.5
		assert_running "$TPID"
		mig_status "$ST"
		[ "${MS[state]}" = ok ] || fail "$what: the source continued finds its memory wrong: $(cat "$ST")"
		running=1 stopped=0
		UNSURE=1
	fi
	[ "$running" = 1 ] || fail "$what: $running copies run (${MIG_PIDS[*]}); sender: $(cat "$WORK/send.err"); receiver: $(cat "$WORK/recv.err")"
	src_state=$(proc_state "$TPID")
	case $src_state in
	"" | Z | X) ;;
	T | t) [ "$stopped" = 1 ] || fail "$what: the source is stopped but counted so" ;;
	*) src_runs=1 ;;
	esac
	[ "${UNSURE:-}" = 1 ] && src_runs=1
	if [ "$src_runs" = 1 ]; then
		assert_running "$TPID"
		ls -l "/proc/$TPID/fd/" 2>/dev/null | grep -q userfaultfd && [ "$KILLED" != sender ] && [ -z "${UNSURE:-}" ] &&
			fail "$what: the source keeps sdump's tracking userfaultfd"
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
		[ "$stopped" = 1 ] && RESULT="destination (source left stopped)"
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

# --- the walk's length: net calls on each side of a whole migration ---
start_t
start_recv SDUMP_FAULT_COUNT=1
SDUMP_FAULT_COUNT=1 "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" ||
	fail "migrate: $(cat "$WORK/send.err")"
NS=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/send.err")
KILLED=
outcome "no fault"
[ "$RESULT" = destination ] || fail "a migration without a fault did not move"
[ -n "$NS" ] && [ "$NS" -gt 4 ] || fail "no count of the sender's net calls: $(cat "$WORK/send.err")"
echo "a whole migration: $NS net calls on the sender's side"

# spread POINTS calls over 1..N, the last ones (the handover) always in
spread() {
	local n=$1 i
	for ((i = 0; i < POINTS - 3; i++)); do echo $((1 + i * (n - 4) / (POINTS - 3))); done
	echo $((n - 2)) $((n - 1)) "$n"
}

# --- the connection cut on the sender's side ---
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv
	SDUMP_FAULT=net:$k:ECONNRESET "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || true
	outcome "sender's net call $k/$NS cut"
done

# --- the connection cut on the receiver's side (its calls: about as many) ---
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv SDUMP_FAULT=net:$k:ECONNRESET
	"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || true
	outcome "receiver's net call $k cut"
done

# --- the receiver killed, the sender killed, at moments over the migration ---
for ms in 100 300 600 900 1300 1800 2500; do
	[ "${SDUMP_QUICK:-}" = 1 ] && [ "$ms" -gt 1300 ] && continue
	for who in receiver sender; do
		KILLED=$who
		start_t
		start_recv
		"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" &
		SPID=$!
		sleep "$(printf '0.%03d' "$ms" | sed 's/^0\.\([0-9]\)\([0-9][0-9][0-9]\)$/\1.\2/')"
		if [ "$who" = receiver ]; then
			r=$(recv_pid) && kill -KILL "$r" 2>/dev/null || true
		else
			kill -KILL "$SPID" 2>/dev/null || true
		fi
		while kill -0 "$SPID" 2>/dev/null; do sleep 0.1; done
		outcome "$who killed at $ms ms"
	done
done
echo ok
