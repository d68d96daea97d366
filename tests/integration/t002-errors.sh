#!/bin/bash
# Bad input: one error line, exit 1, no image left, the target running untraced.
. "$(dirname "$0")/../lib.sh"

start_target memtarget --mib 32 --threads 1 --dir "$WORK"

no_image() {
	[ ! -e "$1/inventory.img" ] || fail "$1 holds an inventory after a failed pass"
	[ -z "$(find "$1" -name '*.tmp' 2>/dev/null)" ] || fail "temporary files left in $1"
}

# usage errors exit 2 with a hint, never the full help
st=0; "$SDUMP" pre-dump -D "$WORK/x" 2>"$WORK/err" || st=$?
[ "$st" = 2 ] || fail "missing -t: exit $st"
grep -q -- "--help" "$WORK/err" || fail "usage error without a hint"
st=0; "$SDUMP" pre-dump -t 12abc -D "$WORK/x" 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "bad pid: exit $st"
st=0; "$SDUMP" frobnicate 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "unknown command: exit $st"

# a PID that does not exist
true & gone=$!; wait $gone
expect_error "pid $gone: no such process" "$SDUMP" pre-dump -t $gone -D "$WORK/gone"
[ ! -e "$WORK/gone" ] || fail "a directory was left for a missing pid"

# a thread, not a process
tid=$(ls /proc/$TPID/task | grep -vx "$TPID" | head -n1)
expect_error "is a thread of process $TPID" "$SDUMP" pre-dump -t "$tid" -D "$WORK/thread"

# a directory that is not empty is never touched
mkdir "$WORK/full"; echo keep >"$WORK/full/precious"
expect_error "not empty" "$SDUMP" pre-dump -t "$TPID" -D "$WORK/full"
[ "$(cat "$WORK/full/precious")" = keep ] || fail "existing file touched"
[ "$(ls "$WORK/full")" = precious ] || fail "files added to a non-empty directory"
assert_running "$TPID"

# a read-only file system
mkdir "$WORK/ro"
mount -t tmpfs -o ro,size=1m none "$WORK/ro" || skip "cannot mount tmpfs"
expect_error "cannot create image directory '$WORK/ro/img'" "$SDUMP" pre-dump -t "$TPID" -D "$WORK/ro/img"
umount "$WORK/ro"
assert_running "$TPID"

# a full disk in the middle of writing pages
mkdir "$WORK/small"
mount -t tmpfs -o size=2m none "$WORK/small"
expect_error "No space left on device" "$SDUMP" pre-dump -t "$TPID" -D "$WORK/small/img"
no_image "$WORK/small/img"
[ ! -e "$WORK/small/img" ] || fail "the directory sdump created was left behind"
umount "$WORK/small"
assert_running "$TPID"

# a process we may not trace: another user's
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	chmod 755 "$WORK"; mkdir -m 777 "$WORK/nobody"
	expect_error "cannot seize pid $TPID: Operation not permitted" \
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		"$SDUMP" pre-dump -t "$TPID" -D "$WORK/nobody/img"
	no_image "$WORK/nobody/img"
	assert_running "$TPID"
fi

# the target survived all of it with its memory intact
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/good" || fail "a good pass after the errors failed"
load_regions
verify_extract "$WORK/good" anon heap thread0
stop_target
echo ok
