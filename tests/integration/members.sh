# Helpers of the tests over a process tree (t082, t086): its members and
# what must not change in them. Source after lib.sh.

# tree_members ROOT: ROOT and every descendant, parents first, one a line.
tree_members() {
	local q=("$1") i=0 t c
	while [ "$i" -lt "${#q[@]}" ]; do
		echo "${q[$i]}"
		for t in /proc/"${q[$i]}"/task/*; do
			for c in $(cat "$t/children" 2>/dev/null); do q+=("$c"); done
		done
		i=$((i + 1))
	done
}

# tree_snapshot PID...: "pid state ppid pgid sid tracer" of each PID, the
# state "T" (stopped), "Z" (a zombie), "t" (a tracing stop), "gone", or
# "run" for anything else (running, sleeping); the first PID (the root)
# without its parent, which a restore changes.
tree_snapshot() {
	local p st ppid pgid sid first=1
	for p in "$@"; do
		if ! read -r st ppid pgid sid < <(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1-4) ||
			[ -z "$st" ]; then
			echo "$p gone"
		else
			case "$st" in T | Z | t) ;; *) st=run ;; esac
			[ "$first" = 0 ] || ppid=-
			echo "$p $st $ppid $pgid $sid $(awk '/^TracerPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)"
		fi
		first=0
	done
}

# tree_none_left WHAT PID...: none of the PIDs exists any more (in 5 s).
tree_none_left() {
	local what=$1 p i
	shift
	for p in "$@"; do
		for ((i = 0; i < 50; i++)); do
			[ -e "/proc/$p" ] || break
			sleep 0.1
		done
		[ ! -e "/proc/$p" ] || fail "$what: member $p is left ($(proc_state "$p"))"
	done
}

# tree_kill PID...: every PID killed and gone (reaped), so that its pid can be restored again.
tree_kill() {
	local p
	for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "$@"; do wait_pid_free "$p"; done
}
