#!/bin/bash
# Guard pages (MADV_GUARD_INSTALL) in shared anonymous memory, a VMA a
# pass saves whole: installed after a pre-dump, the final dump that goes on
# with its tracker finds them (its VmFlags say "gu") before it lists the
# pages, lists them as the same dump without a parent does, saves no page
# for them and does not even try to copy one; the restored process has the
# guard again, the rest of that memory as it was.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target memtarget --mib 8 --dir "$WORK"
load_regions
s=${REG_ADDR[shmem]}
g=$((s + 3 * 4096))
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/1" || fail "pre-dump"
tcmd "guard shmem 3"
case "$REPLY" in ok) ;; "error 22") skip "no guard pages in shared memory on this kernel" ;; *) fail "guard: $REPLY" ;; esac
# its contents but the guard page (which faults in the target: read here, through /proc/PID/mem)
python3 - "$TPID" "$s" "$WORK/want" <<'PYEOF'
import sys
pid, start, out = int(sys.argv[1]), int(sys.argv[2], 0), sys.argv[3]
with open(f"/proc/{pid}/mem", "rb", buffering=0) as m, open(out, "wb") as o:
    for i in range(16):
        if i == 3:
            continue
        m.seek(start + i * 4096)
        o.write(m.read(4096))
PYEOF
tcmd "dirty anon 50 3"
"$SDUMP" -vv dump -R -t "$TPID" -D "$WORK/2" --parent "$WORK/1" 2>"$WORK/err" || fail "dump --parent: $(cat "$WORK/err")"
# left out of the runs: not a page the copy tried and found gone
! grep -q "page $(printf '0x%x' "$g") went away" "$WORK/err" || fail "the guard page was in the pages to copy"
"$SDUMP" dump -R --track none -t "$TPID" -D "$WORK/full" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
for d in 2 full; do
	"$SDUMP" show -D "$WORK/$d" --json >"$WORK/$d.json" || fail "show $d"
	got=$(json_get "$WORK/$d.json" "[v.get('guards') for v in d['vmas'] if v['start'] == $s][0]")
	[ "$got" = "[[$g, $((g + 4096))]]" ] || fail "$d: the shared memory's guard pages are $got"
	# 16 pages, the guard's left out (extract would give zeros for it either way)
	got=$(json_get "$WORK/$d.json" "[v['pages_data'] + v['pages_parent'] for v in d['vmas'] if v['start'] == $s][0]")
	[ "$got" = 15 ] || fail "$d: $got pages of the shared memory saved, not the 15 around its guard page"
done
"$SDUMP" dump -t "$TPID" -D "$WORK/3" --parent "$WORK/2" 2>"$WORK/err" || fail "final dump: $(cat "$WORK/err")"
wait "$TPID" 2>/dev/null || true
"$SDUMP" restore -D "$WORK/3" --shell-job -d 2>"$WORK/r.err" || fail "restore: $(cat "$WORK/r.err")"
wait_restored "$TPID" 1 memtarget
python3 - "$TPID" "$s" "$WORK/want" <<'PYEOF' || fail "the restored shared memory differs"
import struct, sys
pid, start, want = int(sys.argv[1]), int(sys.argv[2], 0), open(sys.argv[3], "rb").read()
got = b""
with open(f"/proc/{pid}/mem", "rb", buffering=0) as m:
    for i in range(16):
        if i == 3:
            continue
        m.seek(start + i * 4096)
        got += m.read(4096)
with open(f"/proc/{pid}/pagemap", "rb") as pm:
    pm.seek((start + 3 * 4096) // 4096 * 8)
    e = struct.unpack("<Q", pm.read(8))[0]
if not (e >> 58) & 1:
    sys.exit("no guard page at the restored shared memory's page 3")
sys.exit(0 if got == want else "contents differ")
PYEOF
echo exit >&7
wait_gone "$TPID"
echo "ok: a guard page in shared memory found after the scan, left out of the image, restored"
