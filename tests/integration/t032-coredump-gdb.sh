#!/bin/bash
# coredump turns a dump image into an ELF core gdb reads: the target's four
# threads, their registers as show reports them, the xmm registers of the
# thread that loaded a pattern, and memory. A pre-dump (no threads) cannot
# make a core.
. "$(dirname "$0")/../lib.sh"
command -v gdb >/dev/null || skip "gdb is not installed"
export SDUMP_STATE_DIR="$WORK/state"

start_target statetarget --dir "$WORK"
tfacts "$WORK/facts.json"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/pre" || fail "pre-dump"
expect_error "pre-dump|thread|not a dump" "$SDUMP" coredump -D "$WORK/pre" -o "$WORK/pre.core"
[ ! -e "$WORK/pre.core" ] || fail "a core was left from a pre-dump"

"$SDUMP" dump --leave-running -t "$TPID" -D "$WORK/img" || fail "dump failed"
assert_running "$TPID"
"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json" || fail "show failed"
"$SDUMP" coredump -D "$WORK/img" -o "$WORK/core" 2>"$WORK/core.err" || fail "coredump failed: $(cat "$WORK/core.err")"
[ ! -s "$WORK/core.err" ] || fail "coredump warned: $(cat "$WORK/core.err")"
python3 - "$WORK/core" <<'EOF' || fail "not an x86-64 ELF core"
import struct, sys
h = open(sys.argv[1], "rb").read(64)
ok = h[:4] == b"\x7fELF" and h[4] == 2 and h[5] == 1 and struct.unpack_from("<HH", h, 16) == (4, 62)
sys.exit(0 if ok else 1)
EOF

membuf=$(json_get "$WORK/facts.json" 'd["membuf"]["addr"]')
gdbargs=(-ex 'set print repeats unlimited' -ex 'info threads' -ex 'thread apply all info registers' -ex 'thread apply all info registers orig_rax')
for i in 0 1 2 3 4 5 6 7; do
	gdbargs+=(-ex "thread apply all p/x \$xmm$i.v16_int8")
done
gdbargs+=(-ex "x/8xb $membuf" -ex "dump binary memory $WORK/membuf.gdb $membuf $((membuf + 4096))")
for tid in $(json_get "$WORK/facts.json" '" ".join(map(str, d["tids"]))'); do
	gdbargs+=(-ex "x/1gx $(json_get "$WORK/facts.json" "d['tls_addr']['$tid']")")
done
timeout 300 gdb -batch -nx -c "$WORK/core" "${gdbargs[@]}" >"$WORK/gdb.out" 2>"$WORK/gdb.err" ||
	fail "gdb failed: $(cat "$WORK/gdb.err")"

python3 - "$WORK/facts.json" "$WORK/show.json" "$WORK/gdb.out" "$WORK/membuf.gdb" <<'EOF' || fail "gdb does not see the dumped moment (gdb output in the log above)"
import json, os, re, sys

f = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
out = open(sys.argv[3]).read().splitlines()
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)
    return cond


listed, regs, xmm, mem = [], {}, {}, []
lwp = None
for line in out:
    m = re.match(r"^\*?\s*\d+\s+.*\bLWP (\d+)", line)
    if m:
        listed.append(int(m.group(1)))
        continue
    m = re.match(r"^Thread \d+ \(.*\bLWP (\d+)\)", line)
    if m:
        lwp = int(m.group(1))
        regs.setdefault(lwp, {})
        xmm.setdefault(lwp, [])
        continue
    m = re.match(r"^([a-z][a-z0-9_]*)\s+(0x[0-9a-f]+)\s", line)
    if m and lwp is not None:
        regs[lwp][m.group(1)] = int(m.group(2), 16)
        continue
    m = re.match(r"^\$\d+ = \{(.*)\}$", line)
    if m and lwp is not None:
        b = []
        for x in m.group(1).split(", "):
            r = re.match(r"^(0x[0-9a-f]+)(?: <repeats (\d+) times>)?$", x)
            b += [int(r.group(1), 16) & 0xff] * int(r.group(2) or 1) if r else [-1]
        xmm[lwp].append(bytes(v & 0xff for v in b).hex() if -1 not in b else m.group(1))
        continue
    m = re.match(r"^0x[0-9a-f]+(?: <[^>]*>)?:\s+(.*)$", line)
    if m:
        mem.append([int(x, 16) for x in m.group(1).split()])

check(len(listed) == 4, "gdb lists %d threads (%s), expected 4" % (len(listed), listed))
check(sorted(listed) == sorted(f["tids"]), "gdb's LWPs %s, the target's tids %s" % (sorted(listed), sorted(f["tids"])))
shown = {t["tid"]: t for t in d.get("threads", [])}
names = "rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags cs ss ds es fs gs orig_rax".split()
for tid in f["tids"]:
    r, s = regs.get(tid, {}), (shown.get(tid) or {}).get("regs", {})
    if not check(tid in regs and tid in shown, "thread %d: missing in gdb or show" % tid):
        continue
    for n in names:
        want = s.get(n, -1) & 0xffffffffffffffff
        check(r.get(n) == want, "thread %d: gdb %s %s, show %#x" % (tid, n, hex(r[n]) if n in r else None, want))
    got = xmm.get(tid, [])
    check(len(got) == 8 and got == (shown[tid].get("xmm") or [])[:8],
          "thread %d: gdb xmm0..7 %s, show %s" % (tid, got, (shown[tid].get("xmm") or [])[:8]))
x = f["thread_tids"]["xmm"]
check(xmm.get(x) == f["xmm_pattern"], "xmm thread %d: gdb xmm0..7 %s, expected %s" % (x, xmm.get(x), f["xmm_pattern"]))
check(regs.get(x, {}).get("orig_rax") == 202, "xmm thread: orig_rax %r, not futex" % regs.get(x, {}).get("orig_rax"))

pattern = bytes((i * 7 + 3) & 0xff for i in range(4096))
check(len(mem) >= 1 and mem[0] == list(pattern[:8]), "x/8xb of the static buffer: %s" % (mem[:1],))
check(os.path.exists(sys.argv[4]) and open(sys.argv[4], "rb").read() == pattern,
      "gdb's dump of the static buffer differs")
tls = [f["tls_value"][str(t)] for t in f["tids"]]
check([m[0] if m else None for m in mem[1:]] == tls, "TLS values in the core %s, expected %s" % (mem[1:], tls))

for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

# with the executable too, gdb places the xmm thread in its function
xmmgdb=$(awk -v t="$(json_get "$WORK/facts.json" 'd["thread_tids"]["xmm"]')" '$0 ~ "LWP " t "[ )]" && $1 ~ /^[*0-9]/ {print ($1 == "*" ? $2 : $1)}' "$WORK/gdb.out" | head -n 1)
if timeout 300 gdb -batch -nx "$TARGETS_DIR/statetarget" "$WORK/core" -ex "thread $xmmgdb" -ex 'info symbol $pc' \
	>"$WORK/gdb2.out" 2>&1 && grep -Eq '^(futex_main|xmm_wait) ' "$WORK/gdb2.out"; then
	echo "gdb with the executable: the xmm thread is in $(grep -Eo '^(futex_main|xmm_wait)' "$WORK/gdb2.out")"
else
	echo "note: gdb with the executable does not place the xmm thread (NT_AUXV/NT_FILE?):"
	cat "$WORK/gdb2.out"
fi

# the target ran on
assert_running "$TPID"
tcmd pipebytes
[ "$REPLY" = "ok 5" ] || fail "pipe: $REPLY"
stop_target
echo ok
