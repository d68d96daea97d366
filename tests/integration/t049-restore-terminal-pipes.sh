#!/bin/bash
# sdump restore of processes tied to things outside them:
#  1. an interactive bash on a pseudo-terminal, dumped, restored with
#     --shell-job from a shell on another one: it reads on (commands run, it
#     is the foreground group), what is typed is echoed once (its terminal
#     settings came back), its fds 0, 1, 2 and 255 are the new terminal, and
#     the shell that ran the restore has its terminal back after `exit`; a
#     raw-mode program restored with sdump itself as the session leader of
#     the new terminal keeps raw mode (a key reaches it unechoed, at once);
#     the state checker compares both (termios, window size, the foreground
#     group), but for the terminal's number and the session;
#  2. a producer writing into `| cat`: the pipe's other end was outside, so
#     the restore refuses without --inherit-fd (one line naming the fd and
#     the pipe), and with --inherit-fd 'fd[3]:pipe:[INODE]' 3>&1 into a new
#     cat the lines go on in order; a consumer's read end the same way; a
#     file given by its path instead of its own; a pipe whose other end is
#     closed everywhere needs none, and keeps its bytes; given a pipe nobody reads,
#     the restored producer dies of SIGPIPE and the restore says so in one
#     line; an --inherit-fd that fits no fd, or is open the other way, is
#     one line;
#  3. without --shell-job, a process with a terminal is refused in one line;
#     so, with it, is one with fds on two terminals.
. "$(dirname "$0")/../lib.sh"

if [ ! -e /dev/ptmx ] || ! python3 -c 'import os, pty; m, s = pty.openpty(); os.ttyname(s)' 2>/dev/null; then
	skip "no pseudo-terminals here"
fi

# --- 1, 3: terminals, driven through python's pty module ---
cat >"$WORK/drive.py" <<'EOF'
import json, os, pty, re, select, signal, subprocess, sys, time

SDUMP, WORK, STATECHECK = sys.argv[1:4]
kids = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def spawn(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(PS1="PROMPT$ ", HISTFILE="/dev/null", INPUTRC="/dev/null", TERM="xterm")
        os.closerange(3, 65536)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    kids.append(pid)
    return pid, fd


def read_until(fd, pat, secs=60):
    out = b""
    end = time.time() + secs
    while time.time() < end:
        if re.search(pat, out):
            return out
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            out += d
    fail("no %r in %r" % (pat, out))


def settle(fd, secs=0.5):
    """what arrives until nothing more comes for secs"""
    out = b""
    while select.select([fd], [], [], secs)[0]:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
    return out


def run(*args, rc=0):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode != rc:
        fail("%s exited %d, expected %d: %s" % (" ".join(args), p.returncode, rc, p.stderr))
    return p


def restored(pid, comm, secs=60):
    end = time.time() + secs
    while time.time() < end:
        try:
            st = open("/proc/%d/status" % pid).read()
            if open("/proc/%d/comm" % pid).read().strip() == comm and "\nTracerPid:\t0\n" in st:
                return
        except OSError:
            pass
        time.sleep(0.1)
    fail("pid %d was not restored" % pid)


def state_check(pid, before, *ignore):
    args = [a for k in ignore for a in ("--ignore", k)]
    p = subprocess.run(["python3", STATECHECK, "check", str(pid), before] + args,
                       capture_output=True, text=True)
    if p.returncode:
        fail("the state of pid %d differs:\n%s%s" % (pid, p.stdout, p.stderr))


def reap(pid):
    os.waitpid(pid, 0)
    kids.remove(pid)


try:
    # --- an interactive bash ---
    bpid, a = spawn(["bash", "--norc", "--noprofile", "-i"])
    read_until(a, rb"PROMPT\$ ")
    os.write(a, b"echo before $$\n")
    read_until(a, rb"before %d\r\n.*PROMPT\$ " % bpid)
    time.sleep(0.3)
    run("python3", STATECHECK, "record", str(bpid), "-o", WORK + "/bash.state")
    img = WORK + "/bash.img"
    # 3: without --shell-job, one line
    run(SDUMP, "dump", "-t", str(bpid), "-D", img)
    reap(bpid)
    os.close(a)
    p = run(SDUMP, "restore", "-D", img, rc=1)
    if len(p.stderr.splitlines()) != 1 or not re.search(r"^sdump: .*terminal.*--shell-job", p.stderr):
        fail("restore without --shell-job said %r" % p.stderr)

    # restored from a shell on another terminal
    spid, b = spawn(["bash", "--norc", "--noprofile", "-i"])
    read_until(b, rb"PROMPT\$ ")
    btty = os.readlink("/proc/%d/fd/0" % spid)
    os.write(b, ("%s restore -D %s --shell-job; echo restore-exit=$?\n" % (SDUMP, img)).encode())
    restored(bpid, "bash")
    kids.append(bpid)
    settle(b)
    for n in (0, 1, 2, 255):
        got = os.readlink("/proc/%d/fd/%d" % (bpid, n))
        if got != btty:
            fail("fd %d of the restored bash is %s, not the new terminal %s" % (n, got, btty))
    # the terminal and the session are the new ones, on purpose (--shell-job);
    # fixed by the fidelity work: VmFlags (ac gained and lost)
    state_check(bpid, WORK + "/bash.state", "stat.tty_nr", "stat.session")
    os.write(b, b"echo $((6*7))\n")
    out = read_until(b, rb"42\r\n.*PROMPT\$ ")
    if out.count(b"echo $((6*7))") != 1 or out.count(b"42\r\n") != 1:
        fail("the first command, echoed twice or run twice: %r" % out)
    os.write(b, b"echo second\n")
    read_until(b, rb"\rsecond\r\n.*PROMPT\$ ")
    os.write(b, b"echo third $$\n")
    read_until(b, rb"\rthird %d\r\n.*PROMPT\$ " % bpid)
    os.write(b, b"exit\n")
    read_until(b, rb"restore-exit=0\r\n.*PROMPT\$ ")
    kids.remove(bpid)
    os.write(b, b"echo back in $$\n")
    read_until(b, rb"back in %d\r\n" % spid)
    os.kill(spid, signal.SIGKILL)
    reap(spid)
    os.close(b)
    print("bash -i: restored on another terminal, commands run, echoed once, exit gives it back")

    # --- a raw-mode program; the restore is the session leader of its terminal ---
    raw = ("import os, sys, tty\n"
           "tty.setraw(0)\n"
           "os.write(1, b'ready\\r\\n')\n"
           "while True:\n"
           "    c = os.read(0, 1)\n"
           "    if c == b'q':\n"
           "        sys.exit(0)\n"
           "    os.write(1, b'got %d\\r\\n' % c[0])\n")
    rpid, c = spawn(["python3", "-c", raw])
    read_until(c, rb"ready\r\n")
    run("python3", STATECHECK, "record", str(rpid), "-o", WORK + "/raw.state")
    run(SDUMP, "dump", "-t", str(rpid), "-D", WORK + "/raw.img")
    reap(rpid)
    os.close(c)
    dpid, d = spawn([SDUMP, "restore", "-D", WORK + "/raw.img", "--shell-job"])
    restored(rpid, "python3")
    # as above; fixed by the fidelity work: VmFlags (ac gained and lost)
    state_check(rpid, WORK + "/raw.state", "stat.tty_nr", "stat.session")
    os.write(d, b"x")
    out = read_until(d, rb"got 120\r\n", 30)
    out += settle(d)
    if out != b"got 120\r\n":
        fail("the raw-mode program after the restore: %r (echoed, or not raw)" % out)
    os.write(d, b"q")
    _, st = os.waitpid(dpid, 0)
    kids.remove(dpid)
    if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 0:
        fail("the restore of the raw-mode program ended with status %#x" % st)
    print("raw mode: kept, a key reaches it at once and unechoed")

    # --- fds on two terminals: --shell-job stands in for one only ---
    m1, s1 = pty.openpty()
    m2, s2 = pty.openpty()
    p = subprocess.Popen(["sleep", "1000"], stdin=s1, stdout=s2, stderr=subprocess.DEVNULL)
    kids.append(p.pid)
    os.close(s1)
    os.close(s2)
    restored(p.pid, "sleep")
    run(SDUMP, "dump", "-t", str(p.pid), "-D", WORK + "/two.img")
    p.wait()
    kids.remove(p.pid)
    q = run(SDUMP, "restore", "-D", WORK + "/two.img", "--shell-job", rc=1)
    if len(q.stderr.splitlines()) != 1 or not re.search(
            r"^sdump: .*fds 0 and 1 are on two terminals.*--inherit-fd 'fd\[N\]:/dev/pts/", q.stderr):
        fail("the restore of fds on two terminals said %r" % q.stderr)
    os.close(m1)
    os.close(m2)
    print("two terminals: refused in one line")
finally:
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
            os.waitpid(k, 0)
        except OSError:
            pass
EOF
timeout -k 5 300 python3 "$WORK/drive.py" "$SDUMP" "$WORK" "$STATECHECK" || fail "terminals (above)"

# --- 2: a pipe to a process outside ---
# the producer: a line every 20 ms into its stdout, a pipe into cat (its stderr
# not the pipe the test harness gives, which a restore would take as its own)
cat >"$WORK/producer.py" <<'EOF'
import os, signal, sys, time
# as a C program or a shell would: a write nobody reads kills it (python ignores SIGPIPE)
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
i = 0
while True:
    os.write(1, b"line %d\n" % i)
    i += 1
    time.sleep(0.02)
EOF
python3 "$WORK/producer.py" 2>/dev/null | cat >"$WORK/out1" &
TARGET_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
	prod=$(pgrep -f "$WORK/producer.py" -n || true)
	[ -n "$prod" ] && [ -s "$WORK/out1" ] && break
	sleep 0.1
done
[ -n "$prod" ] || fail "the producer did not start"
TARGET_PIDS+=("$prod")
key=$(readlink "/proc/$prod/fd/1")
case "$key" in pipe:*) ;; *) fail "the producer's stdout is $key, not a pipe" ;; esac
state_record "$prod" "$WORK/prod.state"
"$SDUMP" dump -t "$prod" -D "$WORK/prod" 2>"$WORK/err" || fail "dump of the producer: $(cat "$WORK/err")"
wait_pid_free "$prod"
"$SDUMP" show -D "$WORK/prod" --json >"$WORK/show.json"
[ "$(json_get "$WORK/show.json" '[f["external"] for f in d["files"] if f["fd"] == 1][0]')" = True ] ||
	fail "show does not say that fd 1's pipe went outside"
last=$(tail -n 1 "$WORK/out1")

echo "a pipe to the outside, no --inherit-fd:"
expect_error "fd 1 is the write end of pipe:\[[0-9]+\].*outside.*--inherit-fd 'fd\[N\]:pipe:\[[0-9]+\]'" \
	"$SDUMP" restore -D "$WORK/prod"
expect_error "names no file" "$SDUMP" restore -D "$WORK/prod" --inherit-fd 'fd[1]:pipe:[1]'
expect_error "fd 1 \(pipe:.*open for write.*fd 3.*open for read" \
	"$SDUMP" restore -D "$WORK/prod" --inherit-fd "fd[3]:$key" 3</dev/null
expect_error "names fd 9, which sdump does not have open" "$SDUMP" restore -D "$WORK/prod" --inherit-fd "fd[9]:$key"
st=0
"$SDUMP" restore -D "$WORK/prod" --inherit-fd "3:$key" 2>"$WORK/err" || st=$?
[ "$st" = 2 ] && grep -q "bad --inherit-fd" "$WORK/err" || fail "--inherit-fd 3:...: exit $st, $(cat "$WORK/err")"

echo "a pipe to the outside, --inherit-fd into a new cat:"
("$SDUMP" restore -D "$WORK/prod" --inherit-fd "fd[3]:$key" 3>&1 2>"$WORK/restore.err" |
	cat >"$WORK/out2") &
TARGET_PIDS+=($!)
wait_restored "$prod" 1 python3
TARGET_PIDS+=("$prod")
# fixed by the fidelity work: VmFlags (ac gained and lost)
state_check "$prod" "$WORK/prod.state"
for ((i = 0; i < 100; i++)); do [ "$(wc -l <"$WORK/out2")" -ge 5 ] && break; sleep 0.1; done
first=$(head -n 1 "$WORK/out2")
[ "${first#line }" = $((${last#line } + 1)) ] || fail "the lines go on with '$first' after '$last'"
python3 - "$WORK/out2" <<'EOF' || fail "the lines after the restore are not in order"
import sys
n = [int(l.split()[1]) for l in open(sys.argv[1]) if l.endswith("\n")]
sys.exit(any(b != a + 1 for a, b in zip(n, n[1:])))
EOF
kill -KILL "$prod"
wait_pid_free "$prod"
grep -q "killed by signal 9 (SIGKILL)" "$WORK/restore.err" ||
	fail "the restore said '$(cat "$WORK/restore.err")' of its process killed"

echo "the read end to the outside (a consumer), --inherit-fd from a new producer:"
cat >"$WORK/consumer.py" <<'EOF'
import sys
for line in sys.stdin:
    with open(sys.argv[1], "a") as f:
        f.write(line)
EOF
python3 "$WORK/producer.py" 2>/dev/null | python3 "$WORK/consumer.py" "$WORK/got1" 2>/dev/null &
TARGET_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
	cons=$(pgrep -f "$WORK/consumer.py" -n || true)
	[ -n "$cons" ] && [ -s "$WORK/got1" ] && break
	sleep 0.1
done
[ -n "$cons" ] || fail "the consumer did not start"
TARGET_PIDS+=("$cons")
ckey=$(readlink "/proc/$cons/fd/0")
"$SDUMP" dump -t "$cons" -D "$WORK/cons" 2>"$WORK/err" || fail "dump of the consumer: $(cat "$WORK/err")"
wait_pid_free "$cons"
expect_error "fd 0 is the read end of pipe:.*outside.*--inherit-fd 'fd\[N\]:pipe:" "$SDUMP" restore -D "$WORK/cons"
# it reads the two lines, then the end of the file, and ends: so does the restore
printf 'new 1\nnew 2\n' | "$SDUMP" restore -D "$WORK/cons" --inherit-fd "fd[0]:$ckey" 2>"$WORK/err" ||
	fail "restore of the consumer with --inherit-fd: $(cat "$WORK/err")"
[ "$(tail -n 2 "$WORK/got1" | tr '\n' ' ')" = "new 1 new 2 " ] ||
	fail "the restored consumer did not read from the pipe it was given: $(tail -n 3 "$WORK/got1")"

echo "a file given with --inherit-fd by its path:"
sleep 1000 5>"$WORK/log.a" </dev/null >/dev/null 2>&1 &
spid=$!
TARGET_PIDS+=("$spid")
for ((i = 0; i < 100; i++)); do [ "$(readlink "/proc/$spid/fd/5")" = "$WORK/log.a" ] && break; sleep 0.1; done
"$SDUMP" dump -t "$spid" -D "$WORK/sleep" 2>"$WORK/err" || fail "dump of sleep: $(cat "$WORK/err")"
wait_pid_free "$spid"
rm "$WORK/log.a"
expect_error "file '$WORK/log.a' \(fd 5\) changed" "$SDUMP" restore -D "$WORK/sleep"
"$SDUMP" restore -D "$WORK/sleep" -d --inherit-fd "fd[7]:$WORK/log.a" 7>"$WORK/log.b" 2>"$WORK/err" ||
	fail "restore of sleep with --inherit-fd by path: $(cat "$WORK/err")"
[ "$(readlink "/proc/$spid/fd/5")" = "$WORK/log.b" ] || fail "fd 5 of the restored sleep is $(readlink "/proc/$spid/fd/5")"
[ ! -e "/proc/$spid/fd/7" ] || fail "the restored sleep kept sdump's fd 7"
kill -KILL "$spid"
wait_gone "$spid"

echo "a pipe whose other end is closed everywhere (a here-string read later): no --inherit-fd, its bytes kept:"
python3 -c '
import os, signal, sys
signal.signal(signal.SIGUSR1, lambda *a: None)
open(sys.argv[1] + ".tmp", "w").close()
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
signal.pause()
with open(sys.argv[1], "w") as f:
    f.write(repr(os.read(0, 100)) + repr(os.read(0, 100)))
' "$WORK/widow.out" < <(printf abc) 2>/dev/null &
wpid=$!
TARGET_PIDS+=("$wpid")
for ((i = 0; i < 100; i++)); do [ -e "$WORK/widow.out" ] && break; sleep 0.1; done
[ -e "$WORK/widow.out" ] || fail "the here-string reader did not start"
"$SDUMP" dump -t "$wpid" -D "$WORK/widow" 2>"$WORK/err" || fail "dump of the reader: $(cat "$WORK/err")"
wait_pid_free "$wpid"
[ "$("$SDUMP" show -D "$WORK/widow" --json | python3 -c 'import json, sys; print([(f["external"], f["pipe_data_len"]) for f in json.load(sys.stdin)["files"] if f["fd"] == 0][0])')" = "(False, 3)" ] ||
	fail "the here-string's pipe: not as expected in the image"
"$SDUMP" restore -D "$WORK/widow" -d 2>"$WORK/err" || fail "restore of the reader: $(cat "$WORK/err")"
kill -USR1 "$wpid"
wait_gone "$wpid"
[ "$(cat "$WORK/widow.out")" = "b'abc'b''" ] || fail "the restored reader read $(cat "$WORK/widow.out")"

echo "a pipe nobody reads: SIGPIPE, said in one line:"
st=0
{ "$SDUMP" restore -D "$WORK/prod" --inherit-fd "fd[3]:$key" 3>&1 2>"$WORK/restore.err" || st=$?
	echo "$st" >"$WORK/st"; } | true
wait_pid_free "$prod"
[ "$(cat "$WORK/st")" = 141 ] || fail "restore exited $(cat "$WORK/st"), expected 141 (128 + SIGPIPE): $(cat "$WORK/restore.err")"
[ "$(wc -l <"$WORK/restore.err")" = 1 ] && grep -q "pid $prod was killed by signal 13 (SIGPIPE)" "$WORK/restore.err" ||
	fail "the restore of a producer killed by SIGPIPE said '$(cat "$WORK/restore.err")'"
echo "ok"
