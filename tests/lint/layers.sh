#!/bin/bash
# The layer rule of lib/ is written once for people (lib/README.md) and once
# for the build (SDUMP_LAYER_* in CMakeLists.txt): both must say the same,
# and every #include "x.h" in lib/ must name a header of an allowed folder
# (the build fails on the others; this says which rule, in one line each).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
bad=0

declare -A allowed
while read -r _ layer deps; do
	layer=${layer#SDUMP_LAYER_}
	allowed[$layer]=$(echo "$deps" | tr -d ')' | tr ' ' '\n' | awk -v l="$layer" 'NF && $0 != l' | sort | tr '\n' ' ')
done < <(grep -E '^set\(SDUMP_LAYER_[a-z]+ ' CMakeLists.txt | sed 's/^set(/set /')

[ ${#allowed[@]} -ge 5 ] || { echo "FAIL: no SDUMP_LAYER_* rows found in CMakeLists.txt"; exit 1; }

for layer in "${!allowed[@]}"; do
	row=$(grep -E "^\| \`$layer/\` \|" lib/README.md || true)
	if [ -z "$row" ]; then
		echo "FAIL: lib/README.md has no row for $layer/"
		bad=1
		continue
	fi
	doc=$(echo "$row" | awk -F'|' '{print $(NF-1)}' | { grep -o '`[a-z]*`' || true; } | tr -d '`' | sort | tr '\n' ' ')
	if [ "$doc" != "${allowed[$layer]}" ]; then
		echo "FAIL: $layer/ may include '${doc}' says lib/README.md, '${allowed[$layer]}' says CMakeLists.txt"
		bad=1
	fi
	[ -d "lib/$layer" ] || { echo "FAIL: lib/$layer/ is in the rule but does not exist"; bad=1; }
done

# which folder holds each header
declare -A home
for h in lib/*/*.h; do
	home[$(basename "$h")]=$(basename "$(dirname "$h")")
done
for f in lib/*/*.[ch]; do
	layer=$(basename "$(dirname "$f")")
	while read -r inc; do
		owner=${home[$inc]:-}
		[ -n "$owner" ] || continue	# sdump.h, generated protobuf-c headers
		[ "$owner" = "$layer" ] && continue
		case " ${allowed[$layer]:-} " in
		*" $owner "*) ;;
		*) echo "FAIL: $f includes $inc of $owner/, which $layer/ may not include"; bad=1 ;;
		esac
	done < <(grep -oE '^#include "[^"]+"' "$f" | sed 's/#include "//; s/"$//')
done

[ $bad = 0 ] && echo "layers: $(ls -d lib/*/ | wc -l) folders, the rule and the includes agree"
exit $bad
