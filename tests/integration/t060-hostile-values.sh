#!/bin/bash
# Images whose checksums are all valid but whose values are absurd (made by
# tests/tools/imgforge from a real chain): an address above the user address
# space, start > end, a file offset or a page run whose length overflows,
# a million VMAs, fds or frames, 70000 threads, 5000 pending signals, a
# unix socket bound to a name longer than sun_path or holding 65537
# messages, a TCP socket with an option sdump never sets, private memory said to be another tree member's, a pidfd's process on an fd that is no pidfd, a 2 GiB frame. show, extract, coredump and restore each refuse with one
# line naming the file and exit 1, quickly, without a crash or a huge
# allocation (each runs under a 1 GiB address-space limit), and leave no
# process behind. extract reads only the memory files (mm, pagemap, pages):
# a damaged state file (process, core, files) does not change its output,
# and it succeeds. A valid image with a 16 TiB PROT_NONE reservation is
# shown, extracted, dumped as a core and restored without walking it page
# by page.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
IMGFORGE=$TARGETS_DIR/imgforge
[ -x "$IMGFORGE" ] || fail "no $IMGFORGE"

start_target_quiet memtarget --mib 4 --threads 1 --dir "$WORK"
pid=$TPID
load_regions
mkdir "$WORK/c"
"$SDUMP" pre-dump -t "$pid" -D "$WORK/c/p1" || fail "pre-dump"
tcmd "dirty anon 200 1"
tcmd "save anon $WORK/anon.want"
"$SDUMP" dump -t "$pid" -D "$WORK/c/d1" --parent "$WORK/c/p1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true
addr=${REG_ADDR[anon]} len=${REG_LEN[anon]}

# run LIMIT_KIB CMD...: CMD with at most that much address space (ASan-free
# builds only: a sanitizer reserves terabytes) and 60 s
run() {
	local lim=$1
	shift
	if [ "${SDUMP_SANITIZED:-0}" = 1 ]; then
		timeout -k 5 60 "$@"
	else
		(ulimit -v "$lim" && exec timeout -k 5 60 "$@")
	fi
}

# hostile SCENARIO PATTERN [extract-ok]: every reader refuses the forged image
hostile() {
	local s=$1 pat=$2 ext=${3:-}
	rm -rf "$WORK/h" && cp -a "$WORK/c" "$WORK/h"
	"$IMGFORGE" "$WORK/h/d1" "$s" || fail "imgforge $s"
	echo "$s:"
	expect_error "$pat" run 1048576 "$SDUMP" show -D "$WORK/h/d1"
	echo "  show:     $(cat "$WORK/stderr")"
	if [ -n "$ext" ]; then
		run 1048576 "$SDUMP" extract -D "$WORK/h/d1" --addr "$addr" --len "$len" -o "$WORK/anon.got" ||
			fail "$s: extract failed"
		cmp -s "$WORK/anon.want" "$WORK/anon.got" || fail "$s: extract gave other memory"
		echo "  extract:  ok (reads no state file)"
	else
		expect_error "$pat" run 1048576 "$SDUMP" extract -D "$WORK/h/d1" --addr "$addr" --len "$len" -o "$WORK/anon.got"
		echo "  extract:  $(cat "$WORK/stderr")"
	fi
	expect_error "$pat" run 1048576 "$SDUMP" coredump -D "$WORK/h/d1" -o "$WORK/core"
	echo "  coredump: $(cat "$WORK/stderr")"
	expect_error "$pat" run 1048576 "$SDUMP" restore -D "$WORK/h/d1" --shell-job -d
	echo "  restore:  $(cat "$WORK/stderr")"
	[ ! -e "/proc/$pid" ] || fail "$s: after a refused restore, pid $pid exists"
}

hostile mm-high "mm.img' is corrupt: VMA [0-9]+ \(0x800000000000-.*beyond the user address space"
hostile mm-start-gt-end "mm.img' is corrupt: VMA 0 .*start is not below its end"
hostile mm-pgoff-wrap "mm.img' is corrupt: VMA [0-9]+ .*file offset overflows"
hostile mm-million "mm.img' is corrupt: 1048577 VMAs, more than"
hostile mm-shared-pid "mm.img' is corrupt: VMA [0-9]+ .*the memory of another member that is no shared anonymous memory"
hostile pm-high "pagemap.img' is corrupt: page run [0-9]+ \(0x800000000000, 1 pages\).*beyond the user address space"
hostile pm-npages-wrap "pagemap.img' is corrupt: page run 0 .*4503599627370497 pages.*beyond the user address space"
hostile pm-off-wrap "pagemap.img' is corrupt: page run [0-9]+ .*outside pages.img"
hostile frame-huge "d1' is corrupt: bad page frame table"
hostile frame-csize "pages.img' is corrupt or truncated"
hostile frames-million "d1' is corrupt: bad page frame table"
hostile tids-many "process.img' is corrupt: bad values" extract-ok
hostile fds-million "files.img' is corrupt: bad values" extract-ok
hostile sk-name-long "files.img' is corrupt: bad values" extract-ok
hostile sk-queue-many "files.img' is corrupt: bad values" extract-ok
hostile sk-inet-opt "files.img' is corrupt: bad values" extract-ok
hostile pidfd-pid-chr "files.img' is corrupt: bad values" extract-ok
hostile pending-many "core-$pid.img' is corrupt: bad values" extract-ok

echo "mm-huge-hole (valid: a 16 TiB PROT_NONE reservation nothing was saved of):"
rm -rf "$WORK/h" && cp -a "$WORK/c" "$WORK/h"
"$IMGFORGE" "$WORK/h/d1" mm-huge-hole || fail "imgforge mm-huge-hole"
run 1048576 "$SDUMP" show -D "$WORK/h/d1" >"$WORK/show" || fail "show of a valid image failed"
grep -q "100000000000-200000000000 ---p" "$WORK/show" || fail "show does not list the reservation"
run 1048576 "$SDUMP" extract -D "$WORK/h/d1" --addr 0x100000000000 --len 1048576 -o "$WORK/zeros" ||
	fail "extract of the reservation failed"
cmp -s "$WORK/zeros" <(head -c 1048576 /dev/zero) || fail "the reservation does not read as zeros"
run 1048576 "$SDUMP" extract -D "$WORK/h/d1" --addr "$addr" --len "$len" -o "$WORK/anon.got" ||
	fail "extract failed"
cmp -s "$WORK/anon.want" "$WORK/anon.got" || fail "extract gave other memory"
# the core's offsets run past the reservation: a file system may not hold
# it (ext4: 16 TiB at most); either way, at once
st=0
run 1048576 "$SDUMP" coredump -D "$WORK/h/d1" -o "$WORK/core" 2>"$WORK/stderr" || st=$?
case "$st" in
0) echo "  coredump: ok ($(du -k "$WORK/core" | cut -f1) KiB on disk)" ;;
1) [ "$(wc -l <"$WORK/stderr")" = 1 ] || fail "coredump: $(cat "$WORK/stderr")"
   echo "  coredump: $(cat "$WORK/stderr")" ;;
*) fail "coredump of the reservation exited $st: $(cat "$WORK/stderr")" ;;
esac
rm -f "$WORK/core"
# no address-space limit here: the restored process would inherit it
timeout -k 5 60 "$SDUMP" restore -D "$WORK/h/d1" --shell-job -d 2>"$WORK/stderr" ||
	fail "restore with the reservation failed: $(cat "$WORK/stderr")"
grep -q "^100000000000-200000000000 ---p" "/proc/$pid/maps" || fail "the restored process lacks the reservation"
tcmd "save anon $WORK/anon.restored"
[ "$REPLY" = ok ] || fail "the restored target does not answer: $REPLY"
cmp -s "$WORK/anon.want" "$WORK/anon.restored" || fail "the restored memory differs"
echo "  restore:  ok, the reservation mapped, the memory as dumped"
echo exit >&7
wait_gone "$pid"
echo "ok"
