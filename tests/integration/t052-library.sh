#!/bin/bash
# The library as a program that drives sdump gets it: cmake --install puts
# libsdump.so (a soname, only sdump_* exported), libsdump.a, sdump.h and
# sdump.pc in place, and examples/checkpoint_child.c, built against the
# installed library with pkg-config (shared and static), checkpoints a
# child of its own and restores it.
. "$(dirname "$0")/../lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$SDUMP")
command -v pkg-config >/dev/null || skip "no pkg-config"
command -v cc >/dev/null || skip "no C compiler"

cmake --install "$BUILD" --prefix "$WORK/inst" >"$WORK/install.log" 2>&1 || fail "cmake --install: $(tail -3 "$WORK/install.log")"
pc=$(find "$WORK/inst" -name sdump.pc)
[ -n "$pc" ] || fail "no sdump.pc installed"
[ -f "$WORK/inst/include/sdump.h" ] || fail "sdump.h not installed in include/"
libdir=$(dirname "$(dirname "$pc")")
[ -f "$libdir/libsdump.a" ] || fail "libsdump.a not installed beside sdump.pc"
so=$(readlink -f "$libdir/libsdump.so") || fail "no libsdump.so"
[ -f "$libdir/libsdump.so.0" ] || fail "no libsdump.so.0 link"
readelf -d "$so" | grep -q 'Library soname: \[libsdump.so.0\]' || fail "soname: $(readelf -d "$so" | grep SONAME)"

# only the public API: every defined dynamic symbol is sdump_*, and every
# SDUMP_API of the header is there
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sed 's/@.*//' | sort -u >"$WORK/exported"
grep -v '^sdump_' "$WORK/exported" >"$WORK/leaked" || true
[ ! -s "$WORK/leaked" ] || fail "libsdump.so exports more than sdump_*: $(head -5 "$WORK/leaked" | tr '\n' ' ')"
grep -v '^#define' "$SRC/include/sdump.h" | grep -o 'SDUMP_API [^(]*(' | sed 's/.*[ *]\([a-z_0-9]*\)($/\1/' | sort -u >"$WORK/declared"
missing=$(comm -23 "$WORK/declared" "$WORK/exported")
[ -z "$missing" ] || fail "declared in sdump.h but not exported: $missing"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
[ "$(pkg-config --modversion sdump)" = "$("$SDUMP" --version | awk '{ print $2 }')" ] ||
	fail "sdump.pc says version $(pkg-config --modversion sdump), sdump --version: $("$SDUMP" --version)"
# shellcheck disable=SC2046
cc -Wall -Werror -o "$WORK/ex_shared" "$SRC/examples/checkpoint_child.c" $(pkg-config --cflags --libs sdump) ||
	fail "the example does not build against the installed shared library"
readelf -d "$WORK/ex_shared" | grep -q 'NEEDED.*libsdump.so.0' || fail "the example is not linked to libsdump.so.0"
# shellcheck disable=SC2046
cc -Wall -Werror -static-libgcc -o "$WORK/ex_static" "$SRC/examples/checkpoint_child.c" \
	$(pkg-config --cflags sdump) "$libdir/libsdump.a" $(pkg-config --static --libs-only-l --libs-only-other sdump | sed 's/-lsdump//') ||
	fail "the example does not build against the installed static library"
! readelf -d "$WORK/ex_static" | grep -q 'libsdump' || fail "the static example needs libsdump.so"

for ex in ex_shared ex_static; do
	mkdir "$WORK/$ex.d"
	LD_LIBRARY_PATH="$libdir" "$WORK/$ex" "$WORK/$ex.d" >"$WORK/$ex.out" 2>&1 || fail "$ex: $(cat "$WORK/$ex.out")"
	grep -q "^restore: pid [0-9]* counted on from [0-9]* to [0-9]*" "$WORK/$ex.out" || fail "$ex: $(cat "$WORK/$ex.out")"
	"$SDUMP" verify -D "$WORK/$ex.d/2" >/dev/null || fail "$ex: its image does not verify"
done
echo "library: installed, public symbols only, the example checkpoints and restores a child (shared and static)"
