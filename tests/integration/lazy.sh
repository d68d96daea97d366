# Helpers of the lazy restore tests (t12x), sourced after lib.sh.

# lazy_start_target ARGS...: lazytarget, with a reader of its input held
# open (fd 9) so that a command can be queued while no process reads it.
lazy_start_target() {
	start_target_quiet lazytarget "$@"
	exec 9<>"$WORK/target.in"
}

# lazy_chain NAME: pre-dump, dirty, pre-dump --parent, dirty, dump --parent
# into $WORK/NAME.{1,2,3}; the state recorded in $WORK/NAME.state.
lazy_chain() {
	local n=$1
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/$n.1" 2>"$WORK/err" || fail "$n: pre-dump: $(cat "$WORK/err")"
	tcmd "dirty 300"
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/$n.2" --parent "$WORK/$n.1" 2>"$WORK/err" ||
		fail "$n: pre-dump --parent: $(cat "$WORK/err")"
	tcmd "dirty 100"
	state_record "$TPID" "$WORK/$n.state"
	"$SDUMP" dump -t "$TPID" -D "$WORK/$n.3" --parent "$WORK/$n.2" 2>"$WORK/err" ||
		fail "$n: dump --parent: $(cat "$WORK/err")"
	wait_gone "$TPID"
	wait "$TPID" 2>/dev/null || true
}

# lazy_queue CMD: a command for the restored target, read as soon as it runs.
lazy_queue() {
	echo "$1" >&7
}

# lazy_reply: the target's next line in REPLY (its output FIFO gives EOF
# until the restored process has opened it again).
lazy_reply() {
	local i
	for ((i = 0; i < 600; i++)); do
		if read -r -t 120 REPLY <&8; then
			return 0
		fi
		sleep 0.05
	done
	fail "the restored target gave no answer"
}

# lazy_wait_complete FILE: the "memory complete" line of restore -v (or of
# its helper, with -d) is in FILE, within a minute.
lazy_wait_complete() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q "memory complete after" "$1" && return 0
		sleep 0.1
	done
	fail "the lazy fill did not say its memory was complete: $(cat "$1")"
}

# lazy_helper FILE: the pid of the helper process that restore -v -d names in FILE.
lazy_helper() {
	sed -nE 's/.*the memory follows \(helper process ([0-9]+),.*/\1/p' "$1"
}

# lazy_stats FILE: the numbers of the "lazy" line of restore -v (or of its helper) in FILE.
lazy_stats() {
	local line
	lazy_wait_complete "$1"
	line=$(grep -Eo 'lazy( \(helper [0-9]+\))?: running after .*memory complete.*' "$1") ||
		fail "no lazy statistics in: $(cat "$1")"
	LAZY_FAULTS=$(sed -E 's/.*: ([0-9]+) faults served.*/\1/' <<<"$line")
	LAZY_PUSHED=$(sed -E 's/.* ([0-9]+) pages pushed.*/\1/' <<<"$line")
	LAZY_EVENTS=$(sed -E 's/.* ([0-9]+) events.*/\1/' <<<"$line")
	LAZY_FORKS=$(sed -E 's/.*\(([0-9]+) forks\).*/\1/' <<<"$line")
}

# lazy_check_detached PID: no VMA of PID is registered with a userfaultfd
# any more (VmFlags "um"), and it runs untraced.
lazy_check_detached() {
	if grep -E '^VmFlags:.* um( |$)' "/proc/$1/smaps" >/dev/null; then
		fail "pid $1 still has VMAs registered with a userfaultfd once the memory is in"
	fi
	assert_running "$1"
	assert_threads_running "$1"
}

# lazy_tree_pages MIB KIDS THREADS: what "check" of lazytarget --kids
# answers: every thread of every member checks every page of its regions.
lazy_tree_pages() {
	echo $((($1 + 24) * 256 * $3 * ($2 + 1)))
}

# lazy_members ROOT: ROOT and its children, one a line.
lazy_members() {
	echo "$1"
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true
}

# tree_all ROOT: ROOT and every process below it, one a line.
tree_all() {
	local q=("$1") i=0 c
	while [ "$i" -lt "${#q[@]}" ]; do
		echo "${q[$i]}"
		for c in $(cat /proc/"${q[$i]}"/task/*/children 2>/dev/null); do q+=("$c"); done
		i=$((i + 1))
	done
}
