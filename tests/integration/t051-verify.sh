#!/bin/bash
# sdump verify reads every byte of a chain and names the first bad file,
# where show checks the newest pass's frames and the parents' records only
# (and says so); damage in a parent's pages is found before any restore.
. "$(dirname "$0")/../lib.sh"

IMGFORGE=$TARGETS_DIR/imgforge
start_target memtarget --mib 8 --dir "$WORK"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/p1" || fail "pre-dump 1"
tcmd "dirty anon 100 7" >/dev/null
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/p2" --parent "$WORK/p1" || fail "pre-dump 2"
tcmd "dirty anon 100 8" >/dev/null
"$SDUMP" dump -R -t "$TPID" -D "$WORK/d3" --parent "$WORK/p2" || fail "dump"
stop_target

# a sound chain: every pass listed, exit 0
"$SDUMP" verify -D "$WORK/d3" >"$WORK/out" || fail "verify of a sound chain failed"
grep -q "^verified: 3 passes" "$WORK/out" || fail "no verified line: $(cat "$WORK/out")"
[ "$(grep -c '^pre-dump\|^dump' "$WORK/out")" = 3 ] || fail "not one block per pass: $(cat "$WORK/out")"
grep -q "process state: [1-9]" "$WORK/out" || fail "the dump's state not counted: $(cat "$WORK/out")"
"$SDUMP" verify --json -D "$WORK/d3" >"$WORK/json" || fail "verify --json"
python3 - "$WORK/json" <<'PY' || fail "verify --json: $(cat "$WORK/json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verified"] is True
p = j["passes"]
assert [x["kind"] for x in p] == ["dump", "pre-dump", "pre-dump"], p
assert all(x["frames"] > 0 and x["page_bytes"] > 0 for x in p), p
assert p[0]["parent_runs"] > 0 and p[1]["parent_runs"] > 0 and p[2]["parent_runs"] == 0, p
assert p[0]["threads"] >= 1 and p[1]["threads"] == 0, p
PY
# show says what it checked
"$SDUMP" show -D "$WORK/d3" >"$WORK/show" || fail "show"
grep -q "^checked .*sdump verify" "$WORK/show" || fail "show does not say what it checked: $(grep checked "$WORK/show")"

flip() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 0x20) & 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# a copy of the chain (the parent links are relative: the copies link to each other)
fresh() { rm -rf "$WORK/c"; mkdir "$WORK/c"; cp -a "$WORK/p1" "$WORK/p2" "$WORK/d3" "$WORK/c/"; }

# a flipped byte in the middle of the oldest pass's pages: show of the
# newest pass does not read it, verify does and names the file
fresh
size=$(stat -c %s "$WORK/c/p1/pages.img")
flip "$WORK/c/p1/pages.img" $((size / 2))
"$SDUMP" show -D "$WORK/c/d3" >/dev/null || fail "show now reads the parents' pages: update this test"
expect_error "p1/pages.img' is corrupt" "$SDUMP" verify -D "$WORK/c/d3"

# a truncated middle pass
fresh
truncate -s $(($(stat -c %s "$WORK/c/p2/pages.img") - 100)) "$WORK/c/p2/pages.img"
expect_error "p2/pages.img.*(corrupt|truncated)" "$SDUMP" verify -D "$WORK/c/d3"

# a damaged state file of the dump
fresh
size=$(stat -c %s "$WORK/c/d3/files.img")
flip "$WORK/c/d3/files.img" $((size - 2))
expect_error "files.img.*corrupt" "$SDUMP" verify -D "$WORK/c/d3"

# a parent that lost a run its child leaves to it (checksums all valid)
fresh
"$IMGFORGE" "$WORK/c/p1" pm-drop-data || fail "imgforge"
"$SDUMP" verify -D "$WORK/c/p1" >/dev/null || fail "p1 alone is sound"
expect_error "leaves page 0x[0-9a-f]+ to a parent pass that does not record it" "$SDUMP" verify -D "$WORK/c/d3"

# a missing parent
fresh
rm -rf "$WORK/c/p1"
expect_error "parent image .* is missing" "$SDUMP" verify -D "$WORK/c/d3"

# not an image; usage errors
expect_error "not an sdump image|cannot open" "$SDUMP" verify -D "$WORK"
st=0; "$SDUMP" verify 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "verify without -D: exit $st, not 2"

# verify never changed the sound chain
"$SDUMP" verify -D "$WORK/d3" >/dev/null || fail "the sound chain no longer verifies"
echo ok
