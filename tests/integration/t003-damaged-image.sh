#!/bin/bash
# A damaged image is refused with one line, never shown or extracted wrong:
# a flipped byte anywhere, a truncation, a missing file.
. "$(dirname "$0")/../lib.sh"

start_target memtarget --mib 4 --dir "$WORK"
load_regions
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/img" || fail "pre-dump failed"
stop_target
anon=${REG_ADDR[anon]}
len=${REG_LEN[anon]}
"$SDUMP" extract -D "$WORK/img" --addr "$anon" --len "$len" -o "$WORK/good" || fail "extract"

# check DIR PATTERN FILE: show (which verifies every file) must fail; extract
# of the anon region must fail too, or, when the damage lies in page data it
# does not read, give exactly the right bytes: never wrong ones.
check_refused() {
	local st=0
	expect_error "$2" "$SDUMP" show -D "$1"
	if [ "$3" = pages.img ]; then
		"$SDUMP" extract -D "$1" --addr "$anon" --len "$len" -o "$WORK/out" 2>/dev/null || st=$?
		if [ "$st" = 0 ]; then
			cmp -s "$WORK/out" "$WORK/good" || fail "wrong bytes extracted from a damaged pages.img"
			rm -f "$WORK/out"
			return 0
		fi
	fi
	expect_error "$2" "$SDUMP" extract -D "$1" --addr "$anon" --len "$len" -o "$WORK/out"
	[ ! -e "$WORK/out" ] || fail "extract left an output file behind"
}

flip() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b ^ 0x20) & 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

for f in inventory.img mm.img pagemap.img stats.img pages.img; do
	size=$(stat -c %s "$WORK/img/$f")
	for off in 0 9 13 $((size / 3)) $((size / 2)) $((size - 9)) $((size - 1)); do
		rm -rf "$WORK/bad"; cp -a "$WORK/img" "$WORK/bad"
		flip "$WORK/bad/$f" "$off"
		check_refused "$WORK/bad" "corrupt|unsupported|not an sdump image" "$f"
	done
	for cut in 0 8 $((size / 2)) $((size - 1)); do
		rm -rf "$WORK/bad"; cp -a "$WORK/img" "$WORK/bad"
		truncate -s "$cut" "$WORK/bad/$f"
		check_refused "$WORK/bad" "corrupt|truncated" "$f"
	done
	rm -rf "$WORK/bad"; cp -a "$WORK/img" "$WORK/bad"
	rm "$WORK/bad/$f"
	check_refused "$WORK/bad" "cannot open|not an sdump image" "$f"
done

# a range outside every VMA is an error, not zeros
expect_error "not in any VMA" "$SDUMP" extract -D "$WORK/img" --addr 0x1000 --len 4096
# the good image still extracts the same bytes
"$SDUMP" extract -D "$WORK/img" --addr "$anon" --len "$len" | cmp -s - "$WORK/good" || fail "extract to stdout differs"
echo ok
