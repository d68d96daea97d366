#!/bin/bash
# uffd-wp: an incremental pre-dump re-arms the tracking in its page scan
# (PAGEMAP_SCAN write-protects each written page as it reports it), not
# one UFFDIO_WRITEPROTECT a run after it. A scan that fails half way has
# protected pages that no image holds: the next pass must not take them
# for clean. Walked: the N-th read of the process failing (SDUMP_FAULT=
# procread:N, N over every one of a pass, the scan's calls among them)
# in a pre-dump --parent over thousands of runs of written pages; after
# each, a pass with the same parent holds exactly the process's memory
# (saving every page if it must, with a warning). Then a chain over
# passes that all re-arm in their scans stays exact.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
"$SDUMP" check | grep -q '^uffd-wp-async *found' || skip "no uffd-wp async tracking on this kernel"
export SDUMP_STATE_DIR="$WORK/state"
FAULT_MAX_POINTS=40
FAULT_QUICK_POINTS=16

start_target memtarget --mib 16 --threads 2 --dir "$WORK"
load_regions

# a parent, then writes since it: thousands of runs, written and clean interleaved
parent() { # SEED
	rm -rf "$WORK/base"
	"$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/base" || fail "pre-dump of the parent"
	tcmd "dirty anon 300 $1"
	tcmd "dirty thread0 200 $1"
}

parent 1
count=$(fault_count procread "$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/count" --parent "$WORK/base")
rm -rf "$WORK/count"
nfail=0 nfull=0
for n in $(fault_points "$count"); do
	parent $((n + 1))
	st=0
	SDUMP_FAULT=procread:$n:EIO "$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/w" --parent "$WORK/base" 2>"$WORK/werr" || st=$?
	if [ "$st" = 0 ]; then
		verify_extract "$WORK/w"
	else
		check_failed "procread:$n" "$st" "$WORK/werr" "$WORK/w"
		nfail=$((nfail + 1))
	fi
	rm -rf "$WORK/w"
	assert_running "$TPID"
	# the pass after it: every page the process holds, as it holds it
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/next" --parent "$WORK/base" 2>"$WORK/nerr" ||
		fail "procread:$n: the pass after: $(cat "$WORK/nerr")"
	grep -q "saves every page" "$WORK/nerr" && nfull=$((nfull + 1))
	verify_extract "$WORK/next"
	rm -rf "$WORK/next"
done
[ "$nfail" -gt 0 ] || fail "no procread fault failed a pass"
echo "procread 1..$count: $nfail failed; each next pass exact ($nfull of them saving every page)"

# a chain whose passes re-arm in their scans: every pass equals the memory
rm -rf "$WORK/base"
"$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/c0" || fail "pass 0"
for i in 1 2 3 4; do
	tcmd "dirty anon $((100 * i)) $((i + 50))"
	tcmd "dirty heap 50 $i"
	"$SDUMP" -q pre-dump -t "$TPID" -D "$WORK/c$i" --parent "$WORK/c$((i - 1))" 2>"$WORK/cerr" ||
		fail "pass $i: $(cat "$WORK/cerr")"
	[ ! -s "$WORK/cerr" ] || fail "pass $i warned: $(cat "$WORK/cerr")"
	verify_extract "$WORK/c$i"
done
"$SDUMP" -q dump -R -t "$TPID" -D "$WORK/c5" --parent "$WORK/c4" || fail "the final dump -R"
verify_extract "$WORK/c5"
stop_target
echo ok
