#!/bin/bash
# A full file system for real (a small tmpfs), not an injected fault: a
# pre-dump, a pre-dump --parent (its parent on another file system, then on
# the same one) and a dump -R that run out of space say so in one line, exit
# 1, leave no directory and give the space back; the target runs on as it
# was, and the parent is untouched. A file size limit (RLIMIT_FSIZE) the
# same: EFBIG, not death by SIGXFSZ.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"
SMALL=$WORK/small
mkdir "$SMALL"
mount -t tmpfs -o size=8m sdump-test "$SMALL" 2>/dev/null || skip "cannot mount a tmpfs"
trap 'umount -l "$SMALL" 2>/dev/null || true; cleanup' EXIT

start_target memtarget --mib 48 --threads 2 --ticker --dir "$WORK"

# used KiB of the small file system
used() {
	df -k --output=used "$SMALL" | tail -n 1 | tr -d ' '
}

# full WHAT DIR ARGS...: the pass runs out of space
full() {
	local what=$1 dir=$2 st=0 before
	shift 2
	target_snapshot
	before=$(used)
	# -q: a pass after a failed one warns that it saves every page
	"$SDUMP" -q "$@" -D "$dir" 2>"$WORK/err" || st=$?
	check_failed "$what" "$st" "$WORK/err" "$dir"
	grep -q "No space left on device" "$WORK/err" || fail "$what: '$(cat "$WORK/err")' does not say the disk is full"
	[ "$(used)" -le $((before + 64)) ] || fail "$what: $(used) KiB used after the failure, $before before"
	check_target "$what"
	echo "$what: $(cat "$WORK/err")"
}

full "pre-dump onto a full disk" "$SMALL/1" pre-dump -t "$TPID"

# the parent on another file system
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/base" || fail "pre-dump of the parent"
psum=$(dir_sum "$WORK/base")
tcmd "dirty anon 1000 5"
full "pre-dump --parent onto a full disk" "$SMALL/2" pre-dump -t "$TPID" --parent "$WORK/base"
[ "$(dir_sum "$WORK/base")" = "$psum" ] || fail "the parent changed"
full "dump -R --parent onto a full disk" "$SMALL/3" dump -R -t "$TPID" --parent "$WORK/base"
[ "$(dir_sum "$WORK/base")" = "$psum" ] || fail "the parent changed"
"$SDUMP" show -D "$WORK/base" >/dev/null || fail "the parent no longer shows"

# the parent on the same file system: it fits, the next pass does not
umount "$SMALL"
mount -t tmpfs -o size=40m sdump-test "$SMALL" || fail "cannot mount the tmpfs again"
"$SDUMP" -q pre-dump -t "$TPID" -D "$SMALL/base" 2>"$WORK/err" || fail "pre-dump of the parent on the small disk: $(cat "$WORK/err")"
psum=$(dir_sum "$SMALL/base")
tcmd "dirty anon 1000 6"
full "pre-dump --parent, the parent on the same full disk" "$SMALL/next" pre-dump -t "$TPID" --parent "$SMALL/base"
[ "$(dir_sum "$SMALL/base")" = "$psum" ] || fail "the parent on the full disk changed"
"$SDUMP" show -D "$SMALL/base" >/dev/null || fail "the parent on the full disk no longer shows"
load_regions
verify_extract "$SMALL/base" sparse ro none

# a file size limit: EFBIG, one line, no death by SIGXFSZ
target_snapshot
st=0
(ulimit -f 2048 && exec "$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/limited") 2>"$WORK/err" || st=$?
check_failed "pre-dump over RLIMIT_FSIZE" "$st" "$WORK/err" "$WORK/limited"
grep -q "File too large" "$WORK/err" || fail "over RLIMIT_FSIZE: $(cat "$WORK/err")"
check_target "pre-dump over RLIMIT_FSIZE"
echo "pre-dump over RLIMIT_FSIZE: $(cat "$WORK/err")"
stop_target
echo ok
