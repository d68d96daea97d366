#!/bin/bash
# sdump checked for leaks and invalid accesses, on real processes and real
# images, the error paths of hostile images included:
# - under valgrind (memcheck, full leak check, any error fails): show (text,
#   JSON, chain), extract, coredump, check, and the refusals of forged
#   images (imgforge) by show, extract and coredump;
# - pre-dump, dump and restore drive the target with system calls valgrind
#   may not know (pidfd_open, pidfd_getfd, clone3; valgrind 3.19, Debian
#   12's, has none of them): under valgrind when it runs them, else under
#   AddressSanitizer with LeakSanitizer and UBSan (a build of its own,
#   SDUMP_SANITIZE=ON, in the build tree), a leak or error failing likewise.
# SDUMP_QUICK=1 uses a smaller target.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/deps installs it)"
[ "${SDUMP_SANITIZED:-0}" = 0 ] || skip "sdump is built with sanitizers: valgrind cannot run it"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$TARGETS_DIR")
IMGFORGE=$TARGETS_DIR/imgforge
VG=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --log-file="$WORK/vg.%p")
mib=32
[ -n "${SDUMP_QUICK:-}" ] && mib=8

# vg EXPECTED CMD...: sdump under valgrind exits EXPECTED, with no valgrind report
vg() {
	local want=$1 st=0
	shift
	rm -f "$WORK"/vg.*
	"${VG[@]}" "$SDUMP" "$@" >"$WORK/out" 2>"$WORK/err" || st=$?
	if [ "$st" = 99 ] || grep -qv '^--' "$WORK"/vg.* 2>/dev/null; then
		cat "$WORK"/vg.* >&2
		fail "valgrind found errors in 'sdump $*'"
	fi
	[ "$st" = "$want" ] || fail "'sdump $*' under valgrind exited $st, expected $want: $(cat "$WORK/err")"
}

start_target_quiet memtarget --mib "$mib" --threads 2 --dir "$WORK"
pid=$TPID
load_regions
mkdir "$WORK/c"
"$SDUMP" pre-dump -t "$pid" -D "$WORK/c/1" || fail "pre-dump"
tcmd "dirty anon 300 1"
tcmd "save anon $WORK/anon.want"
"$SDUMP" dump -R -t "$pid" -D "$WORK/c/2" --parent "$WORK/c/1" || fail "dump -R"
addr=${REG_ADDR[anon]} len=${REG_LEN[anon]}

echo "readers under valgrind:"
vg 0 show -D "$WORK/c/2"
vg 0 show -D "$WORK/c/2" --json
vg 0 show -D "$WORK/c/2" --chain
vg 0 extract -D "$WORK/c/2" --addr "$addr" --len "$len" -o "$WORK/anon.got"
cmp -s "$WORK/anon.want" "$WORK/anon.got" || fail "extract under valgrind gave other memory"
vg 0 coredump -D "$WORK/c/2" -o "$WORK/core"
vg 0 check
vg 1 show -D "$WORK/nonexistent"
echo "  show, extract, coredump, check: clean"
for s in mm-high mm-start-gt-end pm-off-wrap frame-csize frame-huge tids-many pending-many; do
	rm -rf "$WORK/h" && cp -a "$WORK/c" "$WORK/h"
	"$IMGFORGE" "$WORK/h/2" "$s" || fail "imgforge $s"
	vg 1 show -D "$WORK/h/2"
	vg 1 coredump -D "$WORK/h/2" -o "$WORK/core"
	case "$s" in
	tids-many | pending-many) vg 0 extract -D "$WORK/h/2" --addr "$addr" --len 4096 -o "$WORK/x" ;;
	*) vg 1 extract -D "$WORK/h/2" --addr "$addr" --len 4096 -o "$WORK/x" ;;
	esac
done
rm -rf "$WORK/h"
echo "  refusals of forged images: clean"

# pre-dump, dump, restore: valgrind if it knows their system calls
rm -f "$WORK"/vg.*
st=0
"${VG[@]}" "$SDUMP" pre-dump -t "$pid" -D "$WORK/v1" --parent "$WORK/c/2" 2>"$WORK/err" || st=$?
if [ "$st" = 0 ] && ! grep -qv '^--' "$WORK"/vg.*; then
	RUN=("${VG[@]}" "$SDUMP")
	how="valgrind"
	rm -rf "$WORK/v1"
elif grep -q "unhandled amd64-linux syscall" "$WORK"/vg.* "$WORK/err"; then
	rm -rf "$WORK/v1"
	echo "this valgrind ($(valgrind --version)) lacks system calls pre-dump, dump and restore make:" \
		"$(grep -ho 'unhandled amd64-linux syscall: [0-9]*' "$WORK"/vg.* "$WORK/err" | sort -u | awk '{print $NF}' | tr '\n' ' ')"
	echo "building sdump with AddressSanitizer, LeakSanitizer and UBSan in $BUILD/asan-build"
	cmake -S "$SRC" -B "$BUILD/asan-build" -DSDUMP_SANITIZE=ON -DSDUMP_WERROR=ON >/dev/null ||
		fail "cmake of the sanitizer build"
	cmake --build "$BUILD/asan-build" -j"$(nproc)" --target sdump >"$WORK/build.log" 2>&1 ||
		{ cat "$WORK/build.log" >&2; fail "sanitizer build"; }
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
	RUN=("$BUILD/asan-build/sdump")
	how="AddressSanitizer+LeakSanitizer+UBSan"
else
	cat "$WORK"/vg.* "$WORK/err" >&2
	fail "pre-dump under valgrind failed (exit $st)"
fi

# run_checked ARGS...: sdump ARGS under $how must exit 0 with no report
run_checked() {
	local st=0
	"${RUN[@]}" "$@" >"$WORK/out" 2>"$WORK/err" || st=$?
	if [ "$st" = 99 ] || grep -qv '^--' "$WORK"/vg.* 2>/dev/null || grep -q "Sanitizer" "$WORK/err"; then
		cat "$WORK"/vg.* "$WORK/err" >&2 2>/dev/null
		fail "$how found errors in 'sdump $*'"
	fi
	[ "$st" = 0 ] || fail "'sdump $*' under $how exited $st: $(cat "$WORK/err")"
}
echo "pre-dump, dump, restore under $how:"
rm -f "$WORK"/vg.*
run_checked pre-dump -t "$pid" -D "$WORK/c/3" --parent "$WORK/c/2"
tcmd "dirty anon 100 2"
tcmd "save anon $WORK/anon.want"
run_checked dump -t "$pid" -D "$WORK/c/4" --parent "$WORK/c/3"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true
run_checked show -D "$WORK/c/4"
run_checked extract -D "$WORK/c/4" --addr "$addr" --len "$len" -o "$WORK/anon.got"
cmp -s "$WORK/anon.want" "$WORK/anon.got" || fail "extract gave other memory"
# fds 7 and 8 stay open: the restored target reopens its FIFOs
run_checked restore -D "$WORK/c/4" --shell-job -d
tcmd "save anon $WORK/anon.restored"
[ "$REPLY" = ok ] || fail "the restored target does not answer: $REPLY"
cmp -s "$WORK/anon.want" "$WORK/anon.restored" || fail "the restored memory differs"
echo exit >&7
wait_gone "$pid"
echo "  clean; the restored process has its memory"
echo "ok"
