#!/bin/bash
# sdump squash -D NEW --from DIR: one self-contained image equal to the
# chain's newest pass. NEW has no parent, DIR's pass id, and every byte
# extract gives of DIR, VMA by VMA; a restore of NEW and one of DIR give the
# same process (its own checksum of its memory, the state checker's record);
# a next pass takes NEW as its parent, incrementally. The chain is only
# read (every file as it was), and a squash that fails (every write and
# every file creation failed in turn, a full disk, an existing NEW, a
# broken chain) or is killed (SIGKILL at any moment) leaves no NEW, or a
# whole one.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/faults.sh"
export SDUMP_STATE_DIR="$WORK/state"

chain_sum() { # DIR...: every file of every pass
	local d
	for d in "$@"; do dir_sum "$d"; done | sha256sum
}

# --- a chain of a running process, squashed; a pass on top of the squash ---
start_target_quiet memtarget --mib 32 --threads 2 --dir "$WORK"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/c1" || fail "pre-dump 1"
tcmd "dirty anon 300 1"
tcmd "dirty heap 200 2"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/c2" --parent "$WORK/c1" || fail "pre-dump 2"
tcmd "dirty anon 100 3"
tcmd "dirty thread0 500 4"
"$SDUMP" dump -R -t "$TPID" -D "$WORK/c3" --parent "$WORK/c2" || fail "dump -R"
before=$(chain_sum "$WORK/c1" "$WORK/c2" "$WORK/c3")
"$SDUMP" squash -D "$WORK/s3" --from "$WORK/c3" >"$WORK/out" || fail "squash"
grep -q "s3: 3 passes squashed into one" "$WORK/out" || fail "squash said: $(cat "$WORK/out")"
[ "$(chain_sum "$WORK/c1" "$WORK/c2" "$WORK/c3")" = "$before" ] || fail "the squash changed the chain"
[ ! -e "$WORK/s3/parent" ] || fail "the squashed image has a parent link"
"$SDUMP" verify -D "$WORK/s3" >"$WORK/v" || fail "verify of the squash: $(cat "$WORK/v")"
grep -q "^verified: 1 pass" "$WORK/v" || fail "the squash is not one pass: $(tail -n 1 "$WORK/v")"
"$SDUMP" show --json -D "$WORK/c3" >"$WORK/c3.json"
"$SDUMP" show --json -D "$WORK/s3" >"$WORK/s3.json"
python3 - "$WORK/c3.json" "$WORK/s3.json" <<'PY' || fail "show of the squash"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert b["pass_id"] == a["pass_id"] and b["kind"] == "dump" and b["parent_pass_id"] is None, b
assert len(b["chain"]) == 1 and b["pid"] == a["pid"], b["chain"]
key = lambda v: {k: x for k, x in v.items() if k not in ("pages_data", "pages_parent")}
assert [key(v) for v in a["vmas"]] == [key(v) for v in b["vmas"]], "the VMAs differ"
assert all(v["pages_parent"] == 0 for v in b["vmas"]), "pages left to a parent"
assert sum(v["pages_data"] for v in b["vmas"]) > 0
assert b["threads"] == a["threads"] and b["files"] == a["files"] and b["process"] == a["process"], "state"
assert b["stats"]["pages_in_parent"] == 0, b["stats"]
PY
same_image_memory "$WORK/c3" "$WORK/s3"
tcmd "dirty anon 50 5"
"$SDUMP" -v pre-dump -t "$TPID" -D "$WORK/c4" --parent "$WORK/s3" 2>"$WORK/v" || fail "pre-dump on the squash"
if "$SDUMP" check | grep -q "^track-auto *found"; then
	grep -q " incremental)" "$WORK/v" || fail "a pass on the squash is not incremental: $(grep collect "$WORK/v")"
fi
tcmd "dirty heap 100 6"
tcmd sum
want=$REPLY
state_record "$TPID" "$WORK/state.json"
"$SDUMP" dump -t "$TPID" -D "$WORK/c5" --parent "$WORK/c4" || fail "final dump"
wait "$TPID" 2>/dev/null || true
wait_pid_free "$TPID"

# --- a final dump's chain (through the squash) squashed: the same process restored ---
"$SDUMP" squash -D "$WORK/s5" --from "$WORK/c5" >/dev/null || fail "squash of the final dump"
same_image_memory "$WORK/c5" "$WORK/s5"
# fds 7 and 8 stay open: the restored target reopens its FIFOs
for img in c5 s5; do
	"$SDUMP" restore -j -d -D "$WORK/$img" 2>"$WORK/rerr" || fail "restore of $img: $(cat "$WORK/rerr")"
	tcmd sum
	[ "$REPLY" = "$want" ] || fail "the process restored from $img has other memory ($REPLY, dumped $want)"
	state_check "$TPID" "$WORK/state.json"
	kill -KILL "$TPID"
	wait_pid_free "$TPID"
done
exec 7>&- 8<&-
echo "squash: extract and restore of the squash equal the chain's"

# --- errors: one line, no NEW, the chain as it was ---
before=$(chain_sum "$WORK/c5" "$WORK/c4" "$WORK/s3")
mkdir "$WORK/full" && touch "$WORK/full/x"
expect_error "not empty" "$SDUMP" squash -D "$WORK/full" --from "$WORK/c5"
[ "$(ls "$WORK/full")" = x ] || fail "a refused squash touched the directory"
mkdir "$WORK/empty"
"$SDUMP" -q squash -D "$WORK/empty" --from "$WORK/c5" || fail "squash into an empty directory"
"$SDUMP" verify -D "$WORK/empty" >/dev/null || fail "squash into an empty directory: not an image"
expect_error "no inventory.img|not an image|No such file" "$SDUMP" squash -D "$WORK/n1" --from "$WORK/nothing"
[ ! -e "$WORK/n1" ] || fail "a failed squash left its directory"
mv "$WORK/s3" "$WORK/s3.away"
expect_error "parent image .* is missing" "$SDUMP" squash -D "$WORK/n2" --from "$WORK/c5"
[ ! -e "$WORK/n2" ] || fail "a squash of a broken chain left its directory"
mv "$WORK/s3.away" "$WORK/s3"
[ "$(chain_sum "$WORK/c5" "$WORK/c4" "$WORK/s3")" = "$before" ] || fail "a failed squash changed the chain"
st=0
"$SDUMP" squash -D "$WORK/n3" 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "squash without --from exited $st"

# --- every write, every file creation failed in turn ---
leftovers() { ls -A "$WORK" | grep '^\.n.*\.squash-' || true; }
for kind in write:ENOSPC open:EACCES; do
	k=${kind%%:*}
	count=$(fault_count "$k" "$SDUMP" -q squash -D "$WORK/count" --from "$WORK/c5")
	rm -rf "$WORK/count"
	nfail=0
	for n in $(fault_points "$count"); do
		st=0
		SDUMP_FAULT="$k:$n:${kind#*:}" "$SDUMP" -q squash -D "$WORK/nf" --from "$WORK/c5" 2>"$WORK/werr" || st=$?
		if [ "$st" = 0 ]; then
			"$SDUMP" verify -D "$WORK/nf" >/dev/null || fail "$kind:$n: exit 0 with a bad image"
			rm -rf "$WORK/nf"
			continue
		fi
		check_failed "squash $k:$n" "$st" "$WORK/werr" "$WORK/nf"
		[ -z "$(leftovers)" ] || fail "squash $k:$n left $(leftovers)"
		nfail=$((nfail + 1))
	done
	[ "$nfail" -gt 0 ] || fail "no $k fault failed the squash"
	echo "squash: $k 1..$count: $nfail failed cleanly"
done
[ "$(chain_sum "$WORK/c5" "$WORK/c4" "$WORK/s3")" = "$before" ] || fail "a faulted squash changed the chain"

# --- killed at any moment: no NEW or a whole one, the chain as it was ---
for delay in 0 0.005 0.01 0.02 0.04 0.08 0.15 0.3 0.6 1; do
	"$SDUMP" -q squash -D "$WORK/nk" --from "$WORK/c5" 2>/dev/null &
	sq=$!
	sleep "$delay"
	kill -KILL "$sq" 2>/dev/null || true
	wait "$sq" 2>/dev/null || true
	if [ -e "$WORK/nk" ]; then
		"$SDUMP" verify -D "$WORK/nk" >/dev/null || fail "a squash killed after $delay s left a bad image"
		echo "killed after $delay s: done already"
	fi
	[ "$(chain_sum "$WORK/c5" "$WORK/c4" "$WORK/s3")" = "$before" ] || fail "a killed squash changed the chain"
	rm -rf "$WORK/nk" "$WORK"/.nk.squash-*
done
echo ok
