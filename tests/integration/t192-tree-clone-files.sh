#!/bin/bash
# Members of a tree that share an fd table (CLONE_FILES: zdtm's fd01,
# fdt_shared): filestarget's root, its child A forked so, A's child B
# forked so from A, and a child C with a copy of its own. After a
# pre-dump, a dump and a restore the three share one table again (kcmp),
# C has its own: an fd the root opened before the dump is in A and B, not
# in C, and so is one it opens after the restore; each member's state is
# as before. Two siblings sharing one table that is not their parent's
# (it unshared its own): the dump refused in one line, the tree left as it
# was.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# same_files P Q: P and Q share their fd table (kcmp KCMP_FILES)
same_files() {
	python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(312, int(sys.argv[1]), int(sys.argv[2]), 2, 0, 0)
sys.exit(0 if r == 0 else 1)' "$1" "$2"
}
# check WHEN FD: the tables shared as they were, FD in the root's seen by A and B, not by C
check() {
	same_files "$root" "$a" && same_files "$a" "$b" || fail "$1: the root, A and B do not share one fd table"
	! same_files "$root" "$c" || fail "$1: C shares the root's fd table"
	[ -e "/proc/$a/fd/$2" ] && [ -e "/proc/$b/fd/$2" ] || fail "$1: the root's fd $2 is not in A's and B's table"
	[ ! -e "/proc/$c/fd/$2" ] || fail "$1: the root's fd $2 is in C's table"
}

start_target filestarget
root=$TPID
tcmd pids
read -r w _ a b c <<<"$REPLY"
[ "$w" = pids ] || fail "filestarget said '$REPLY' to pids"
TARGET_PIDS+=("$a" "$b" "$c")
tcmd open
fd1=${REPLY#fd }
check "before the dump" "$fd1"
for p in "$root" "$a" "$b" "$c"; do state_record "$p" "$WORK/state.$p"; done

"$SDUMP" -q pre-dump -t "$root" -D "$WORK/p1" || fail "pre-dump"
"$SDUMP" -q dump -t "$root" -D "$WORK/d" --parent "$WORK/p1" || fail "dump"
wait "$root" 2>/dev/null || true
for p in "$root" "$a" "$b" "$c"; do wait_pid_free "$p"; done
"$SDUMP" -q restore -D "$WORK/d" -d || fail "restore"
check "after the restore" "$fd1"
for p in "$root" "$a" "$b" "$c"; do state_check "$p" "$WORK/state.$p"; done
tcmd open
fd2=${REPLY#fd }
[ "$fd2" -gt 0 ] || fail "the restored root cannot open a file: $REPLY"
check "an fd opened after the restore" "$fd2"
echo "exit" >&7
for ((i = 0; i < 100; i++)); do [ -e "/proc/$root" ] || break; sleep 0.05; done
exec 7>&- 8<&-
echo "the root, its child and grandchild one fd table again, its other child one of its own"

start_target filestarget --siblings
root=$TPID
tcmd pids
read -r w _ a _ c <<<"$REPLY"
TARGET_PIDS+=("$a" "$c")
same_files "$a" "$c" && ! same_files "$root" "$a" || fail "--siblings: A and C do not share a table of their own"
for p in "$root" "$a" "$c"; do state_record "$p" "$WORK/sib.$p"; done
expect_error "pid $c of its tree shares its fd table \\(CLONE_FILES; restored only where it is its parent's\\) with pid $a" \
	"$SDUMP" dump -t "$root" -D "$WORK/sib"
for p in "$root" "$a" "$c"; do
	[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status")" = 0 ] || fail "the refused dump left $p traced"
	state_check "$p" "$WORK/sib.$p"
done
[ ! -e "$WORK/sib/tree.img" ] || fail "the refused dump wrote a tree image"
echo "exit" >&7
echo ok
