#!/bin/bash
# System V shared memory segments (sysvtarget, as postgres holds one): a
# keyed one of 10000 bytes, a private one attached read-only, a removed
# one still attached (SHM_DEST), all attached by a process and its child.
# Pre-dumped, dumped, restored: the segments the dump's kill left behind
# are attached again with their ids, keys, modes, sizes and contents, the
# child's writes seen by the parent; dumped again and restored where the
# segments are gone (as on another host): made again with the same ids.
# Refused with one line: a segment a process outside the tree attaches
# too, a segment attached again by an outsider before the restore.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
KEY=$((0x5d0c0000 + $$ % 65536))
command -v ipcrm >/dev/null || skip "no ipcrm"

facts() { tcmd facts; read -r _ KEYED PRIV GONE <<<"$REPLY"; }
check() { tcmd check; [ "$REPLY" = ok ] || fail "$1: $REPLY"; }
members() { echo "$TPID"; cat "/proc/$TPID/task/$TPID/children"; }

start_target_quiet sysvtarget --key "$KEY" --child
facts
CHILD=$(cat "/proc/$TPID/task/$TPID/children")
TARGET_PIDS+=($CHILD)
trap 'ipcrm -m "$KEYED" -m "$PRIV" 2>/dev/null || true; cleanup' EXIT
check "before the dump"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/p1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
tcmd "poke 77"
[ "$REPLY" = ok ] || fail "poke: $REPLY"
for p in $(members); do state_record "$p" "$WORK/state.$p"; done
"$SDUMP" dump -t "$TPID" -D "$WORK/d" --parent "$WORK/p1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"
wait_pid_free "$CHILD"
grep -Eq "^ *$KEY +$KEYED .* 0 +[0-9]+ +[0-9]+ " /proc/sysvipc/shm || true
"$SDUMP" restore -D "$WORK/d" -d -vv 2>"$WORK/log" || fail "restore: $(tail -1 "$WORK/log")"
grep -q "System V shared memory segment $KEYED (key .*) attached again" "$WORK/log" ||
	fail "the segment left behind was not attached again: $(grep "System V" "$WORK/log")"
for p in $TPID $CHILD; do
	assert_running "$p"
	state_check "$p" "$WORK/state.$p"
done
check "after the restore"
tcmd "poke 78"
[ "$REPLY" = ok ] || fail "the child's write after the restore: $REPLY"
echo "restored: the segments left behind attached again, shared by parent and child"

# again, the segments gone (another host): made with the same ids
"$SDUMP" dump -t "$TPID" -D "$WORK/d2" 2>"$WORK/err" || fail "second dump: $(cat "$WORK/err")"
wait_pid_free "$TPID"
wait_pid_free "$CHILD"
ipcrm -m "$KEYED" -m "$PRIV"
! grep -Eq "^ *[0-9]+ +($KEYED|$PRIV|$GONE) " /proc/sysvipc/shm || fail "the segments are still there"
"$SDUMP" restore -D "$WORK/d2" -d -vv 2>"$WORK/log" || fail "restore where the segments are gone: $(tail -1 "$WORK/log")"
[ "$(grep -c "System V shared memory segment .* made again" "$WORK/log")" = 3 ] ||
	fail "not three segments made again: $(grep "System V" "$WORK/log")"
check "after the restore where the segments were gone"
facts
tcmd "poke 79"
[ "$REPLY" = ok ] || fail "the child's write after the second restore: $REPLY"
echo "restored elsewhere: the segments made again with their ids ($KEYED $PRIV $GONE)"

# a process outside the tree attaching a segment (python3 through ctypes)
outsider() {
	python3 - "$KEYED" <<'PYEOF' &
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
assert libc.shmat(int(sys.argv[1]), None, 0) not in (None, ctypes.c_void_p(-1).value)
time.sleep(60)
PYEOF
	OUT=$!
	TARGET_PIDS+=($OUT)
	for ((i = 0; i < 100; i++)); do
		grep -q SYSV "/proc/$OUT/maps" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "the outsider did not attach the segment"
}
outsider
expect_error "cannot dump pid $TPID: the System V shared memory segment $KEYED \(key 0x[0-9a-f]+\) it attaches at 0x[0-9a-f]+ is attached 3 times, 2 of them by the process and its tree: another process attaches it too" \
	"$SDUMP" dump -R -t "$TPID" -D "$WORK/refused"
assert_running "$TPID"
kill "$OUT"
wait "$OUT" 2>/dev/null || true
check "after the refused dump"
echo "refused: a segment another process attaches too"

# attached by an outsider since the dump: the restore is refused, no process left
"$SDUMP" dump -t "$TPID" -D "$WORK/d3" 2>"$WORK/err" || fail "third dump: $(cat "$WORK/err")"
wait_pid_free "$TPID"
wait_pid_free "$CHILD"
outsider
expect_error "cannot restore pid $TPID: the System V shared memory segment $KEYED \(key 0x[0-9a-f]+\) it attached at 0x[0-9a-f]+ is attached by another process now \(pid $OUT\)" \
	"$SDUMP" restore -D "$WORK/d3" -d
[ ! -e "/proc/$TPID" ] && [ ! -e "/proc/$CHILD" ] || fail "a refused restore left a process"
kill "$OUT"
wait "$OUT" 2>/dev/null || true
"$SDUMP" restore -D "$WORK/d3" -d 2>"$WORK/err" || fail "restore once the outsider is gone: $(cat "$WORK/err")"
check "after the last restore"
echo exit >&7
exec 7>&- 8<&-
wait_gone "$TPID"
! grep -Eq "^ *[0-9]+ +($KEYED|$PRIV|$GONE) " /proc/sysvipc/shm || fail "segments left after the target's exit"
echo "refused: a restore while an outsider attaches a segment; restored once it is gone"
