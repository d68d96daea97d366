#!/bin/bash
# The destination builds the process while the source runs: made at the
# first pass, each next pass applied to it, the final one leaving only its
# own pages and the process's state. The target (python) changes its
# mappings between rounds and checks them all, turn after turn: mappings
# made, unmapped, grown and shrunk (mremap, which may move them), pages
# dropped (MADV_DONTNEED) and written again, one made read-only. It moves
# in several rounds (--downtime 1: never fits, --max-rounds 5), and at the
# destination goes on finding every mapping as it left it. The receiver's
# log says the process was made at the first pass and every later pass
# applied, and the final dump restored onto it, not from scratch.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
command -v python3 >/dev/null || skip "needs python3"
mig_netns
PORT=$((7300 + $$ % 500))
ST=$WORK/churn.st

cat >"$WORK/churn.py" <<'PYEOF'
import mmap, os, random, sys, time
st = sys.argv[1]
P = mmap.PAGESIZE
rnd = random.Random(1)
maps = {}   # id -> [mmap, expected bytearray]
nid = 0
turn = 0
def new(pages):
    global nid
    m = mmap.mmap(-1, pages * P, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    exp = bytearray(pages * P)
    for p in range(0, pages, 3):
        b = bytes([(nid * 7 + p) % 251 + 1]) * 64
        m[p * P:p * P + 64] = b
        exp[p * P:p * P + 64] = b
    maps[nid] = [m, exp]
    nid += 1
for _ in range(8):
    new(rnd.randint(4, 64))
ro = mmap.mmap(-1, 16 * P, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ)
def check():
    for k, (m, exp) in maps.items():
        if m[:] != exp:
            return "mapping %d differs" % k
    if ro[:] != bytes(16 * P):
        return "the read-only mapping differs"
    return None
while True:
    turn += 1
    op = rnd.randrange(5)
    k = rnd.choice(list(maps))
    m, exp = maps[k]
    if op == 0 and len(maps) < 16:
        new(rnd.randint(4, 64))
    elif op == 1 and len(maps) > 4:
        m.close()
        del maps[k]
    elif op == 2:
        n = max(1, len(exp) // P + rnd.randint(-3, 8))
        m.resize(n * P)
        if n * P > len(exp):
            exp.extend(bytes(n * P - len(exp)))
        else:
            del exp[n * P:]
    elif op == 3 and len(exp) >= 2 * P:
        p = rnd.randrange(len(exp) // P - 1)
        m.madvise(mmap.MADV_DONTNEED, p * P, 2 * P)
        exp[p * P:(p + 2) * P] = bytes(2 * P)
    else:
        p = rnd.randrange(len(exp) // P)
        b = os.urandom(32)
        m[p * P:p * P + 32] = b
        exp[p * P:p * P + 32] = b
    bad = check()
    with open(st + ".tmp", "w") as f:
        f.write(("bad %s" % bad if bad else "ok") + " pid=%d turns=%d maps=%d\n" % (os.getpid(), turn, len(maps)))
    os.rename(st + ".tmp", st)
    if bad:
        sys.exit(1)
    time.sleep(0.005)
PYEOF

setsid python3 "$WORK/churn.py" "$ST" </dev/null >/dev/null 2>"$WORK/churn.err" &
TPID=$!
TARGET_PIDS+=("$TPID")
for ((i = 0; i < 100; i++)); do
	grep -q '^ok' "$ST" 2>/dev/null && break
	sleep 0.1
done
grep -q '^ok' "$ST" || fail "the target did not start: $(cat "$WORK/churn.err")"

mig_dest "$SDUMP" -v receive -D "$WORK/dst" --listen "$MIG_PEER:$PORT" --insecure --restore 2>"$WORK/recv.err" &
RPID=$!
for ((i = 0; i < 100; i++)); do
	ip netns exec "$MIG_NS" ss -Hltn "sport = :$PORT" | grep -q . && break
	sleep 0.1
done
"$SDUMP" -v migrate -t "$TPID" --to "$MIG_PEER:$PORT" --downtime 1 --max-rounds 5 --json \
	>"$WORK/mig.json" 2>"$WORK/migrate.err" || fail "migrate: $(cat "$WORK/migrate.err") / $(cat "$WORK/recv.err")"
st=0
wait "$TPID" 2>/dev/null || st=$?
[ "$st" = 137 ] || fail "the source ended with status $st, not killed (137)"
rounds=$(json_get "$WORK/mig.json" 'd["rounds"]')
[ "$rounds" -ge 3 ] || fail "fewer than 3 rounds: $(cat "$WORK/mig.json")"
grep -q "made at the first pass" "$WORK/recv.err" || fail "the process was not made at the first pass: $(cat "$WORK/recv.err")"
for ((n = 2; n < rounds; n++)); do
	grep -q "pass $n in" "$WORK/recv.err" || fail "pass $n was not applied to the process: $(cat "$WORK/recv.err")"
done
grep -q "from the final dump alone" "$WORK/recv.err" && fail "restored from scratch: $(cat "$WORK/recv.err")"
grep -q "the final pass onto the process made at the first" "$WORK/recv.err" ||
	fail "the final pass was not applied to the process made: $(cat "$WORK/recv.err")"
# between rounds the target's mappings came, went and lost pages: each was seen
sum_of() { # WHAT: over every pass applied, the count before WHAT
	grep -E "pass [0-9]+ in|the final pass onto" "$WORK/recv.err" | sed -n "s/.* \([0-9]*\) $1.*/\1/p" | awk '{s += $1} END {print s + 0}'
}
for what in new unmapped "ranges\? dropped"; do
	[ "$(sum_of "$what")" -gt 0 ] || fail "no pass after the first had VMAs or pages $what: $(grep -E 'pass [0-9]+ in|final pass onto' "$WORK/recv.err")"
done
echo "passes applied: $(grep -E 'pass [0-9]+ in|final pass onto' "$WORK/recv.err" | sed 's/.*pages; //' | tr '\n' '|')"
t0=$(sed -n 's/.* turns=\([0-9]*\).*/\1/p' "$ST")
for ((i = 0; i < 100; i++)); do
	grep -q '^bad' "$ST" && fail "the migrated target found its memory wrong: $(cat "$ST")"
	t=$(sed -n 's/.* turns=\([0-9]*\).*/\1/p' "$ST")
	[ -n "$t" ] && [ "$t" -ge $((t0 + 50)) ] && break
	sleep 0.1
done
grep -q '^ok' "$ST" || fail "the migrated target: $(cat "$ST")"
[ "$t" -ge $((t0 + 50)) ] || fail "the migrated target does not go on ($t0 -> $t turns)"
pid=$(sed -n 's/.* pid=\([0-9]*\).*/\1/p' "$ST")
[ "$pid" = "$TPID" ] || fail "the copy sees itself as pid $pid, not $TPID"
echo "moved in $rounds rounds, built at the destination pass by pass; its mappings checked over $((t - t0)) more turns there"
# the copy ends, and the receiver (its parent) with it
for p in $(pgrep -x python3); do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "churn.py $ST " && kill -KILL "$p"
done
wait "$RPID" || true
echo ok
