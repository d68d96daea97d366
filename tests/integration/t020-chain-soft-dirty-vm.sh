#!/bin/bash
# Incremental pre-dumps tracked with soft-dirty bits. The host kernel may lack
# CONFIG_MEM_SOFT_DIRTY, so the chain runs inside a qemu VM booting the
# distribution's kernel (tests/vm/run-in-vm.sh), which has it.
set -euo pipefail

: "${SDUMP:?SDUMP must name the sdump binary}"
: "${TARGETS_DIR:?TARGETS_DIR must name the directory of the test targets}"

tests=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$SDUMP" ] || { echo "FAIL: $SDUMP is not executable" >&2; exit 1; }
[ -x "$TARGETS_DIR/memtarget" ] || { echo "FAIL: no $TARGETS_DIR/memtarget" >&2; exit 1; }
bash_bin=$(command -v bash)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdump-t020.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# In the guest lib.sh and chain.sh sit in /t/ and /t/integration/, the layout
# of the source tree, so that chain.sh finds lib.sh where t010 expects it.
{
	echo '#!/bin/bash'
	echo 'export SDUMP=/bin/sdump TARGETS_DIR=/bin TMPDIR=/tmp'
	[ -z "${CHAIN_MIB:-}" ] || printf 'export CHAIN_MIB=%d\n' "$CHAIN_MIB"
	cat <<'GUEST'
. /t/lib.sh
"$SDUMP" check >"$WORK/check" 2>&1 || true
grep -q '^soft-dirty *found' "$WORK/check" ||
	fail "no soft-dirty tracking in the VM: $(cat "$WORK/check")"
TRACK=soft-dirty
. /t/integration/chain.sh

# Live dumps with soft-dirty: a target rewriting its memory without pause
# gives one-instant images, and the pass after them is exact.
start_target sweeptarget --mib 32
tcmd region
read -r _ ADDR LEN <<<"$REPLY"
sleep 0.2
for i in 1 2; do
	parent=()
	[ "$i" = 1 ] || parent=(--parent "$WORK/live1")
	"$SDUMP" dump -t "$TPID" -D "$WORK/live$i" -R --live "${parent[@]}" 2>"$WORK/err" ||
		fail "live dump $i: $(cat "$WORK/err")"
	"$SDUMP" extract -D "$WORK/live$i" --addr "$ADDR" --len "$LEN" -o "$WORK/got" || fail "extract live$i"
	/bin/sweeptarget --check "$WORK/got" >"$WORK/check" || fail "live$i is not one instant: $(cat "$WORK/check")"
	"$SDUMP" show -D "$WORK/live$i" | grep "^live " >"$WORK/live" || fail "show: live$i is not live"
	echo "soft-dirty live $i: $(cat "$WORK/check"); $(cat "$WORK/live")"
done
tcmd pause
"$SDUMP" dump -t "$TPID" -D "$WORK/after" -R --parent "$WORK/live2" 2>"$WORK/err" || fail "after: $(cat "$WORK/err")"
tcmd "save $WORK/want"
"$SDUMP" extract -D "$WORK/after" --addr "$ADDR" --len "$LEN" -o "$WORK/got" || fail "extract after"
cmp -s "$WORK/want" "$WORK/got" || fail "the pass after a soft-dirty live dump misses writes"
tcmd resume
stop_target
echo ok
GUEST
} >"$tmp/guest.sh"
chmod 755 "$tmp/guest.sh"

start=$(date +%s)
rc=0
"$tests/vm/run-in-vm.sh" --timeout 600 \
	--file "$bash_bin:/bin/bash" \
	--file "$SDUMP:/bin/sdump" \
	--file "$TARGETS_DIR/memtarget:/bin/memtarget" \
	--file "$TARGETS_DIR/sweeptarget:/bin/sweeptarget" \
	--file "$tests/lib.sh:/t/lib.sh" \
	--file "$tests/integration/chain.sh:/t/integration/chain.sh" \
	--file "$tmp/guest.sh:/t/guest.sh" \
	-- /bin/bash /t/guest.sh || rc=$?
[ "$rc" = 77 ] || echo "t020: VM run took $(($(date +%s) - start))s, status $rc" >&2
exit "$rc"
