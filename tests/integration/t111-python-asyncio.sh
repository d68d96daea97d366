#!/bin/bash
# A real program: python3's asyncio, whose loop wakes itself through a
# socketpair(), running a unix stream server on a path and a client of it
# in the same process: the client sends a line every 50 ms, the server
# echoes it, and a periodic task ticks every 100 ms. A line is sent and not
# yet read at the dump, often. Dumped, restored, compared with statecheck,
# and seen to go on: the ticks, the lines sent and the echoes keep
# growing, and none is lost or doubled (each echo is the line sent).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"

cat >"$WORK/aio.py" <<'PYEOF'
import asyncio, os, sys
path, status = sys.argv[1], sys.argv[2]
ticks = sent = echoed = 0
bad = ""

def report():
    with open(status + ".tmp", "w") as f:
        f.write(f"{ticks} {sent} {echoed} {bad or 'ok'}\n")
    os.replace(status + ".tmp", status)

async def serve(r, w):
    while line := await r.readline():
        w.write(line)
        await w.drain()

async def tick():
    global ticks
    while True:
        await asyncio.sleep(0.1)
        ticks += 1
        report()

async def client():
    global sent, echoed, bad
    r, w = await asyncio.open_unix_connection(path)
    while True:
        sent += 1
        w.write(b"line %d\n" % sent)
        await w.drain()
        got = await r.readline()
        echoed += 1
        if got != b"line %d\n" % sent:
            bad = "echo %r for line %d" % (got, sent)
        await asyncio.sleep(0.05)

async def main():
    srv = await asyncio.start_unix_server(serve, path)
    asyncio.create_task(tick())
    asyncio.create_task(client())
    print("ready", os.getpid(), flush=True)
    await srv.serve_forever()

asyncio.run(main())
PYEOF
python3 "$WORK/aio.py" "$WORK/aio.sock" "$WORK/status" >"$WORK/aio.out" 2>&1 </dev/null &
TARGET_PIDS+=($!)
pid=$!
for ((i = 0; i < 200; i++)); do [ -s "$WORK/status" ] && break; sleep 0.05; done
[ -s "$WORK/status" ] || fail "the asyncio program did not start: $(cat "$WORK/aio.out")"
sleep 0.3

state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
read -r t0 s0 e0 b0 <"$WORK/status"
[ "$b0" = ok ] || fail "before the dump: $b0"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
# fixed by the fidelity work: VmFlags (ac gained and lost; whole VMAs joined otherwise)
state_check "$pid" "$WORK/before.state" 'vmas'
sleep 1
read -r t1 s1 e1 b1 <"$WORK/status"
[ "$b1" = ok ] || fail "after the restore: $b1"
[ "$t1" -ge $((t0 + 5)) ] || fail "the periodic task ticked $((t1 - t0)) times in a second after the restore"
[ "$e1" -ge $((e0 + 5)) ] || fail "the client had $((e1 - e0)) lines echoed in a second after the restore"
echo "restored asyncio: $((t1 - t0)) ticks, $((e1 - e0)) lines echoed by its unix server in the second after"
kill "$pid"
wait_gone "$pid"
echo ok
