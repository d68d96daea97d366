# Helpers shared by the integration tests. Source it; it sets -euo pipefail.
# Needs SDUMP (the binary) and TARGETS_DIR (where the test targets are built).
set -euo pipefail

: "${SDUMP:?SDUMP must name the sdump binary}"
: "${TARGETS_DIR:?TARGETS_DIR must name the directory of the test targets}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdump-test.XXXXXX")
TARGET_PIDS=()

cleanup() {
	local p
	for p in "${TARGET_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "skipped: $*" >&2
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (ptrace of the test targets, /proc/PID/pagemap)"

# start_target NAME ARGS...: start $TARGETS_DIR/NAME driven over fifos; sets TPID.
# Talk to it with tcmd.
start_target() {
	local name=$1
	shift
	rm -f "$WORK/target.in" "$WORK/target.out"
	mkfifo "$WORK/target.in" "$WORK/target.out"
	"$TARGETS_DIR/$name" "$@" <"$WORK/target.in" >"$WORK/target.out" &
	TARGET_PIDS+=($!)
	exec 7>"$WORK/target.in" 8<"$WORK/target.out"
	local word pid
	read -r -t 120 word pid <&8 || fail "$name did not start"
	[ "$word" = ready ] || fail "$name: unexpected '$word'"
	TPID=$pid
}

# tcmd LINE: send a command, the first reply line in REPLY.
tcmd() {
	echo "$1" >&7
	read -r -t 300 REPLY <&8 || fail "target gave no answer to '$1'"
}

# stop_target: ask it to exit and wait for its status (0 expected).
stop_target() {
	echo exit >&7
	local st=0
	wait "$TPID" 2>/dev/null || st=$?
	exec 7>&- 8<&-
	[ "$st" = 0 ] || fail "target exited with $st"
}

# load_regions: REG_ADDR[name] and REG_LEN[name] from the target's "regions".
declare -A REG_ADDR REG_LEN
load_regions() {
	local kw name addr len
	REG_ADDR=()
	REG_LEN=()
	echo regions >&7
	while read -r -t 60 kw name addr len <&8; do
		[ "$kw" = end ] && return 0
		REG_ADDR[$name]=$addr
		REG_LEN[$name]=$len
	done
	fail "no region list"
}

# assert_running PID: not stopped, not traced.
assert_running() {
	local st tracer
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status")
	tracer=$(awk '/^TracerPid:/ {print $2}' "/proc/$1/status")
	[ "$tracer" = 0 ] || fail "pid $1 is still traced by $tracer"
	case "$st" in
	t | T) fail "pid $1 is left stopped ($st)" ;;
	esac
}

# verify_extract DIR [REGION...]: extract each region from the image and
# compare with the target's own copy of it, byte for byte.
verify_extract() {
	local dir=$1 r
	shift
	local names=("$@")
	[ ${#names[@]} -gt 0 ] || names=("${!REG_ADDR[@]}")
	for r in "${names[@]}"; do
		tcmd "save $r $WORK/want.$r"
		[ "$REPLY" = ok ] || fail "target could not save $r"
		"$SDUMP" extract -D "$dir" --addr "${REG_ADDR[$r]}" --len "${REG_LEN[$r]}" \
			-o "$WORK/got.$r" || fail "extract of $r failed"
		cmp -s "$WORK/want.$r" "$WORK/got.$r" || fail "region $r differs from the image $dir"
		rm -f "$WORK/want.$r" "$WORK/got.$r"
	done
}

# expect_error PATTERN CMD...: CMD must exit 1 with exactly one stderr line,
# "sdump: ..." matching PATTERN (extended regex).
expect_error() {
	local pat=$1 st=0
	shift
	"$@" >"$WORK/stdout" 2>"$WORK/stderr" || st=$?
	[ "$st" = 1 ] || fail "'$*' exited $st, expected 1; stderr: $(cat "$WORK/stderr")"
	[ "$(wc -l <"$WORK/stderr")" = 1 ] || fail "'$*' printed more than one line: $(cat "$WORK/stderr")"
	grep -Eq "^sdump: .*($pat)" "$WORK/stderr" || fail "'$*' said '$(cat "$WORK/stderr")', expected /$pat/"
}

# json_int FILE KEY: the first integer field KEY of a JSON document (no python needed).
json_int() {
	grep -o "\"$2\":[0-9]*" "$1" | head -n 1 | cut -d: -f2
}

# json_get FILE EXPR: a value from a JSON document (python3 is in every Debian base).
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"
}

# assert_threads_running PID: every thread of PID neither stopped nor traced.
assert_threads_running() {
	local t st tracer
	for t in /proc/"$1"/task/*; do
		st=$(awk '/^State:/ {print $2}' "$t/status" 2>/dev/null) || continue
		tracer=$(awk '/^TracerPid:/ {print $2}' "$t/status" 2>/dev/null) || continue
		[ -z "$tracer" ] || [ "$tracer" = 0 ] || fail "thread ${t##*/} of $1 is still traced by $tracer"
		case "$st" in
		t | T) fail "thread ${t##*/} of $1 is left stopped ($st)" ;;
		esac
	done
}

# tfacts FILE: the target's "facts" line (statetarget), saved to FILE.
tfacts() {
	tcmd facts
	case "$REPLY" in "{"*) ;; *) fail "facts: '$REPLY'" ;; esac
	printf '%s\n' "$REPLY" >"$1"
}
