# The chain test, sourced by t010 (uffd-wp, on this host) and t020 (soft-dirty,
# inside a VM): six passes with writes, new, moved, re-protected and unmapped
# memory and a fork (pages shared copy-on-write) between them; after every pass the image equals the
# target's memory, and an incremental pass saves about what was written.
# Needs TRACK (the backend). Uses no python: it runs inside a busybox VM too.

start_target memtarget --mib "${CHAIN_MIB:-32}" --threads 2 --dir "$WORK"
export SDUMP_STATE_DIR="$WORK/state"

pass() { # N [PARENT]
	local args=(pre-dump -t "$TPID" -D "$WORK/p$1" --track "$TRACK")
	[ -n "${2:-}" ] && args+=(--parent "$WORK/p$2")
	"$SDUMP" "${args[@]}" 2>"$WORK/pass.err" || fail "pass $1: $(cat "$WORK/pass.err")"
	[ ! -s "$WORK/pass.err" ] || fail "pass $1 warned: $(cat "$WORK/pass.err")"
	assert_running "$TPID"
	"$SDUMP" show -D "$WORK/p$1" --json >"$WORK/p$1.json" || fail "show p$1"
	WRITTEN=$(json_int "$WORK/p$1.json" pages_written)
	IN_PARENT=$(json_int "$WORK/p$1.json" pages_in_parent)
	load_regions
	verify_extract "$WORK/p$1"
	echo "pass $1: $WRITTEN pages written, $IN_PARENT in parent"
}

dirty() { # REGION PERMILLE SEED: sets DIRTIED
	tcmd "dirty $1 $2 $3"
	DIRTIED=${REPLY#ok }
	[ "$DIRTIED" -ge 0 ] 2>/dev/null || fail "dirty $1: $REPLY"
}

vma_pages() { # ADDR: sets VMA_PAGES, the size of the target's VMA holding ADDR
	local lo hi rest
	while IFS='- ' read -r lo hi rest; do
		if [ $((0x$lo)) -le $(($1)) ] && [ $(($1)) -lt $((0x$hi)) ]; then
			VMA_PAGES=$(((0x$hi - 0x$lo) / 4096))
			return 0
		fi
	done <"/proc/$TPID/maps"
	fail "no VMA at $1"
}

# Besides what a test dirties, a pass saves every pass: shared anonymous
# memory (16 pages here, saved whole), the vdso (2), and the few pages the
# target itself writes between passes (stdio buffers, stacks): 64 pages of
# slack cover those with room to spare.
SLACK=$((16 + 2 + 64))

pass 1
full=$WRITTEN
[ "$IN_PARENT" = 0 ] || fail "a first pass has pages in parent"

dirty anon 10 2
pass 2 1
[ "$WRITTEN" -ge "$DIRTIED" ] || fail "pass 2 saved $WRITTEN pages, fewer than the $DIRTIED written"
[ "$WRITTEN" -le $((DIRTIED + SLACK)) ] || fail "pass 2 saved $WRITTEN pages for $DIRTIED written"
[ "$IN_PARENT" -ge $((full - DIRTIED - SLACK)) ] || fail "pass 2: only $IN_PARENT pages in parent"

# new memory is saved whole; re-protected memory keeps its contents
tcmd "mmap fresh 64"; [ "$REPLY" = ok ] || fail "mmap"
tcmd "mprotect ro rw"; [ "$REPLY" = ok ] || fail "mprotect"
dirty ro 500 3
ro_dirty=$DIRTIED
dirty heap 100 3
heap_dirty=$DIRTIED
pass 3 2
# The kernel flags a new mapping's whole VMA soft-dirty (VM_SOFTDIRTY), and
# that VMA may be a merge with untouched neighbours (the thread regions).
merged=0
if [ "$TRACK" = soft-dirty ]; then
	vma_pages "${REG_ADDR[fresh]}"
	merged=$((VMA_PAGES - 64))
fi
[ "$WRITTEN" -ge $((64 + ro_dirty + heap_dirty)) ] || fail "pass 3 saved only $WRITTEN pages"
[ "$WRITTEN" -le $((64 + merged + ro_dirty + heap_dirty + SLACK)) ] || fail "pass 3 saved $WRITTEN pages"

# moved memory, grown memory, unmapped memory, protection taken away again
tcmd "mremap fresh"; [ "$REPLY" = ok ] || fail "mremap"
tcmd "grow fresh 32"; [ "$REPLY" = ok ] || fail "grow"
tcmd "munmap sparse"; [ "$REPLY" = ok ] || fail "munmap"
tcmd "mprotect ro r"; [ "$REPLY" = ok ] || fail "mprotect"
dirty anon 5 4
pass 4 3
[ "$WRITTEN" -le $((96 + DIRTIED + SLACK)) ] || fail "pass 4 saved $WRITTEN pages"

# a fork: the target's pages are now shared copy-on-write with another
# process (forked twice, so that the target stays one process: a tree's
# chain is t083's)
tcmd fork
[ "$REPLY" = ok ] || fail "fork: $REPLY"
dirty anon 20 5
pass 5 4
[ "$WRITTEN" -ge "$DIRTIED" ] || fail "pass 5 saved $WRITTEN pages, fewer than the $DIRTIED written"
[ "$WRITTEN" -le $((DIRTIED + SLACK)) ] || fail "pass 5 saved $WRITTEN pages for $DIRTIED written"

# many writes: thousands of runs, written and clean interleaved
dirty anon 150 6
d1=$DIRTIED
dirty thread0 100 6
pass 6 5
[ "$WRITTEN" -ge $((d1 + DIRTIED)) ] || fail "pass 6 saved $WRITTEN pages, fewer than the $((d1 + DIRTIED)) written"
[ "$WRITTEN" -le $((d1 + DIRTIED + SLACK)) ] || fail "pass 6 saved $WRITTEN pages for $((d1 + DIRTIED)) written"
# show walks the whole chain: the pass itself and six passes listed
[ "$(grep -o '"pass_id"' "$WORK/p6.json" | wc -l)" = 7 ] || fail "show does not list the chain"
stop_target
