#!/bin/bash
# scripts/demo, the whole cycle a user comes for, runs through: a preflight,
# a pre-dump, an incremental pre-dump, the final dump, the restore, and the
# restored process going on where it stopped (its memory's checksum the
# dumped one, its ticker counting on). With SDUMP and TARGETS_DIR set it
# builds nothing.
. "$(dirname "$0")/../lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

st=0
DEMO_MIB=32 SDUMP="$SDUMP" TARGETS_DIR="$TARGETS_DIR" bash "$SRC/scripts/demo" >"$WORK/demo.out" 2>&1 || st=$?
cat "$WORK/demo.out"
[ "$st" = 0 ] || fail "scripts/demo exited $st"
for want in '^\$ sdump check -t [0-9]+$' 'a dump would go through' '^\$ sdump pre-dump .*img/1 -v$' \
	'^\$ sdump pre-dump .*--parent .*img/1 -v$' 'collect .* incremental\)' '^\$ sdump dump ' \
	'killed \(SIGKILL\)' '^\$ sdump restore -d ' '^restored  pid [0-9]+, 4 threads' \
	'^== the process goes on where it stopped$'; do
	grep -Eq "$want" "$WORK/demo.out" || fail "scripts/demo: no line /$want/"
done
! grep -q "^sdump: " "$WORK/demo.out" || fail "scripts/demo printed an error"
pid=$(grep -o '^== a demo process, pid [0-9]*' "$WORK/demo.out" | grep -o '[0-9]*$')
wait_pid_free "$pid" 10
echo ok
