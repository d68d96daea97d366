#!/bin/bash
# What a person at a terminal sees: the progress line of long passes and
# restores (on a terminal only, unless --progress always; never in a log
# file), -v's phases and the summary line of a pass, show --chain, check
# --json, the bash and zsh completion, errors that say what to do, exit
# statuses in --help.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SIZE_RE='[0-9.]+ (B|KiB|MiB|GiB|TiB)'

# run_tty OUT CMD...: CMD with its stdout and stderr on a pseudo-terminal (not
# its controlling terminal: a process it restores stays in our session), all
# it writes there copied to OUT; returns CMD's exit status.
run_tty() {
	python3 - "$@" <<'PYEOF'
import os, select, subprocess, sys
m, s = os.openpty()
p = subprocess.Popen(sys.argv[2:], stdout=s, stderr=s)
os.close(s)
out = bytearray()
while True:
    r, _, _ = select.select([m], [], [], 0.2)
    if r:
        try:
            b = os.read(m, 65536)
        except OSError:  # EIO: every end of the terminal is closed
            break
        if not b:
            break
        out += b
    elif p.poll() is not None:
        break
rc = p.wait()
open(sys.argv[1], "wb").write(out)
sys.exit(rc if rc >= 0 else 128 - rc)
PYEOF
}

# has_progress FILE OP PID PHASE: FILE holds a progress line of OP's PHASE
has_progress() {
	grep -aEq "$2 $3: $4 [0-9]+/[0-9]+ pages +[0-9]+%, [0-9.]+ MiB/s, ([0-9:]+|\\?) left" "$1"
}

# no_progress FILE: not a trace of a progress line (no \r, no percentage)
no_progress() {
	! grep -aq $'\r' "$1" && ! grep -aEq "pages +[0-9]+%" "$1"
}

# --- usage, help, exit statuses (no target needed) ---
"$SDUMP" --help >"$WORK/help" || fail "--help"
grep -q "^exit status:" "$WORK/help" || fail "sdump --help does not give the exit statuses"
grep -Eq "^  2  a usage error" "$WORK/help" || fail "sdump --help: no exit status 2"
for c in pre-dump dump restore; do
	"$SDUMP" "$c" --help >"$WORK/help" || fail "$c --help"
	grep -q -- "--progress WHEN" "$WORK/help" || fail "$c --help does not list --progress"
	grep -q "^Exit status:" "$WORK/help" || fail "$c --help does not give the exit statuses"
done
"$SDUMP" show --help >"$WORK/showhelp" && grep -q -- "--chain" "$WORK/showhelp" || fail "show --help does not list --chain"
"$SDUMP" check --help | grep -q -- "--json" || fail "check --help does not list --json"
st=0; "$SDUMP" pre-dump --progress sometimes -t 1 -D "$WORK/x" 2>"$WORK/err" || st=$?
[ "$st" = 2 ] || fail "--progress sometimes: exit $st, expected 2"
grep -q "bad --progress 'sometimes'.*--help" "$WORK/err" || fail "--progress sometimes said: $(cat "$WORK/err")"
st=0; "$SDUMP" show -D "$WORK" --chain --json 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "show --chain --json: exit $st, expected 2"

# --- check --json ---
st=0; "$SDUMP" check --json >"$WORK/check.json" || st=$?
python3 - "$WORK/check.json" "$st" <<'PYEOF' || fail "check --json: $(cat "$WORK/check.json")"
import json, sys
text = open(sys.argv[1]).read()
assert text.count("\n") == 1, "not one line"
d = json.loads(text)
assert set(d) == {"features", "track_auto", "full_pre_dump_possible"}, sorted(d)
assert d["track_auto"] in ("soft-dirty", "uffd-wp", "none"), d["track_auto"]
assert isinstance(d["full_pre_dump_possible"], bool)
names = [f["name"] for f in d["features"]]
for want in ("ptrace-seize", "proc-pid-mem", "pagemap", "uffd-wp-async", "soft-dirty"):
    assert want in names, want
assert "track-auto" not in names
for f in d["features"]:
    assert set(f) == {"name", "present", "required", "detail"}, f
    assert isinstance(f["present"], bool) and isinstance(f["required"], bool)
    assert isinstance(f["name"], str) and isinstance(f["detail"], str)
possible = all(f["present"] for f in d["features"] if f["required"])
assert d["full_pre_dump_possible"] == possible
assert (int(sys.argv[2]) == 0) == possible, "exit status disagrees"
PYEOF
auto=$("$SDUMP" check | awk '/^track-auto/ {print $NF}')
[ "$(json_get "$WORK/check.json" 'd["track_auto"]')" = "$auto" ] || fail "check --json and check disagree on track-auto"
echo "check --json: parses, track_auto $auto"

# --- completion ---
mkdir -p "$WORK/dirs/imgA" "$WORK/dirs/imgB"
touch "$WORK/dirs/file"
# complete WORDS...: COMPREPLY of the bash completion for the command line
# WORDS (the last word is the one being completed), one per line
complete_bash() {
	bash -c '
		. "$1/completion/sdump.bash"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_sdump
		printf "%s\n" "${COMPREPLY[@]}"
	' bash "$SRC" "$@"
}
bash -c '. "$1/completion/sdump.bash"; complete -p sdump' bash "$SRC" | grep -q "_sdump" ||
	fail "sdump.bash does not register a completion for sdump"
got=$(complete_bash sdump "" | sort | tr '\n' ' ')
# every command sdump --help lists, no other
want=$("$SDUMP" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }' | sort | tr '\n' ' ')
[ "$want" = "check coredump dump extract migrate pre-dump prune receive release restore show squash verify " ] || fail "sdump --help lists '$want'"
[ "$got" = "$want" ] || fail "subcommands: '$got', sdump --help lists '$want'"
[ "$(complete_bash sdump -v pre)" = pre-dump ] || fail "sdump -v pre<TAB>: '$(complete_bash sdump -v pre)'"
got=$(complete_bash sdump pre-dump --)
for o in --tree --images-dir --parent --track --threads --progress --log-file --help; do
	grep -qx -- "$o" <<<"$got" || fail "pre-dump --<TAB> lacks $o: $(echo $got)"
done
grep -qx -- --leave-running <<<"$got" && fail "pre-dump --<TAB> offers --leave-running"
grep -qx -- --leave-running <<<"$(complete_bash sdump dump --)" || fail "dump --<TAB> lacks --leave-running"
grep -qx -- --chain <<<"$(complete_bash sdump show --)" || fail "show --<TAB> lacks --chain"
grep -qx -- --json <<<"$(complete_bash sdump check --)" || fail "check --<TAB> lacks --json"
# every long option migrate --help and receive --help list
for c in migrate receive; do
	got=$(complete_bash sdump "$c" --)
	for o in $("$SDUMP" "$c" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
		grep -qx -- "$o" <<<"$got" || fail "$c --<TAB> lacks $o (its --help lists it)"
	done
done
got=$(complete_bash sdump pre-dump -t "")
grep -qx "$$" <<<"$got" || fail "-t <TAB> does not offer our own pid $$"
grep -qx "1" <<<"$got" || fail "-t <TAB> does not offer pid 1"
got=$(complete_bash sdump pre-dump -t "${$:0:2}")
grep -qx "$$" <<<"$got" || fail "-t ${$:0:2}<TAB> does not offer $$"
! grep -qvx "${$:0:2}[0-9]*" <<<"$got" || fail "-t ${$:0:2}<TAB> offers other numbers: $(echo $got)"
got=$(complete_bash sdump pre-dump -D "$WORK/dirs/")
[ "$(echo $got)" = "$WORK/dirs/imgA $WORK/dirs/imgB" ] || fail "-D <TAB>: '$(echo $got)'"
got=$(complete_bash sdump dump -t 1 --parent "$WORK/dirs/imgB")
[ "$got" = "$WORK/dirs/imgB" ] || fail "--parent <TAB>: '$got'"
got=$(complete_bash sdump pre-dump --parent = "$WORK/dirs/i" | tr '\n' ' ')
[ "$got" = "$WORK/dirs/imgA $WORK/dirs/imgB " ] || fail "--parent=<TAB>: '$got'"
[ "$(complete_bash sdump pre-dump --track u)" = uffd-wp ] || fail "--track u<TAB>"
[ "$(complete_bash sdump restore --progress al)" = always ] || fail "--progress al<TAB>"
got=$(complete_bash sdump -o "$WORK/log" show -)
grep -qx -- -D <<<"$got" && grep -qx -- --json <<<"$got" || fail "show after -o FILE: '$(echo $got)'"
if command -v zsh >/dev/null; then
	zsh -n "$SRC/completion/_sdump" || fail "_sdump: zsh syntax"
	zsh -f -c 'fpath=("$1/completion" $fpath); autoload -Uz compinit; compinit -u -d "$2/zcompdump"; [[ $_comps[sdump] = _sdump ]]' \
		zsh "$SRC" "$WORK" || fail "zsh compinit does not take _sdump for sdump"
	echo "zsh: _sdump loads"
else
	echo "note: no zsh here, _sdump not tried"
fi
# cmake --install puts them where bash-completion and zsh look
if command -v cmake >/dev/null && [ -f "$(dirname "$SDUMP")/cmake_install.cmake" ]; then
	cmake --install "$(dirname "$SDUMP")" --prefix "$WORK/inst" >/dev/null || fail "cmake --install"
	cmp -s "$WORK/inst/share/bash-completion/completions/sdump" "$SRC/completion/sdump.bash" ||
		fail "bash completion not installed as share/bash-completion/completions/sdump"
	cmp -s "$WORK/inst/share/zsh/site-functions/_sdump" "$SRC/completion/_sdump" ||
		fail "zsh completion not installed as share/zsh/site-functions/_sdump"
	rm -rf "$WORK/inst"
fi
echo "completion: subcommands, options, pids, directories"

# --- a 1 GiB target: long passes ---
start_target_quiet memtarget --mib 1024 --dir "$WORK"
pid=$TPID
complete_bash sdump pre-dump -t "$pid" | grep -qx "$pid" || fail "-t $pid<TAB> does not offer the target"

# errors that say what to do: the tracing rule (and Yama's setting), a missing parent
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	chmod 755 "$WORK"
	mkdir -m 777 "$WORK/nobody"
	expect_error "cannot seize pid $pid: Operation not permitted; run sdump as the process's user or with CAP_SYS_PTRACE" \
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		"$SDUMP" pre-dump -t "$pid" -D "$WORK/nobody/img"
	if [ -r /proc/sys/kernel/yama/ptrace_scope ]; then
		scope=$(cat /proc/sys/kernel/yama/ptrace_scope)
		grep -q "kernel.yama.ptrace_scope allowing it (it is $scope here" "$WORK/stderr" ||
			fail "the error does not give ptrace_scope ($scope): $(cat "$WORK/stderr")"
	else
		! grep -q "ptrace_scope" "$WORK/stderr" || fail "ptrace_scope named on a kernel without Yama"
	fi
	assert_running "$pid"
fi
expect_error "parent image '$WORK/nope' is missing: no such directory \\(--parent names the directory of an earlier pass of pid $pid\\)" \
	"$SDUMP" pre-dump -t "$pid" -D "$WORK/x" --parent "$WORK/nope"

# on a terminal: the progress line, cleared at the end
run_tty "$WORK/p1.tty" "$SDUMP" pre-dump --threads 1 -t "$pid" -D "$WORK/p1" || fail "pre-dump on a terminal: $(cat -v "$WORK/p1.tty")"
has_progress "$WORK/p1.tty" pre-dump "$pid" copy || fail "no progress line on a terminal: $(cat -v "$WORK/p1.tty")"
python3 -c 'import re, sys; sys.exit(not re.search(rb"\r +\r$", open(sys.argv[1], "rb").read()))' "$WORK/p1.tty" ||
	fail "the progress line is not cleared at the end: $(tail -c 200 "$WORK/p1.tty" | cat -v)"
echo "a terminal: $(grep -aEo "copy [0-9]+/[0-9]+ pages[^$(printf '\r')]*" "$WORK/p1.tty" | tail -n 1)"

# on a pipe: none of it; -v gives each phase with its time, then the summary line
"$SDUMP" -v pre-dump --threads 1 -t "$pid" -D "$WORK/p2" 2>"$WORK/p2.err" || fail "pre-dump: $(cat "$WORK/p2.err")"
no_progress "$WORK/p2.err" || fail "progress on a pipe in auto mode: $(cat -v "$WORK/p2.err")"
for ph in seize collect copy write commit; do
	grep -Eq "^pre-dump $pid: $ph [0-9.]+ (ms|s) [(a]" "$WORK/p2.err" || fail "-v: no '$ph' line: $(cat "$WORK/p2.err")"
done
tail -n 1 "$WORK/p2.err" | grep -Eq "^pre-dump $pid: $SIZE_RE scanned, $SIZE_RE written \\([0-9]+ pages\\), frozen [0-9]+\\.[0-9] ms, [0-9]+\\.[0-9]{2} s$" ||
	fail "the last -v line: '$(tail -n 1 "$WORK/p2.err")'"
tail -n 1 "$WORK/p2.err" | grep -q "1.0 GiB scanned" || fail "the last -v line: '$(tail -n 1 "$WORK/p2.err")'"
cat "$WORK/p2.err"

# --progress always: on a pipe too; --progress never: not on a terminal
"$SDUMP" pre-dump --threads 1 --progress always -t "$pid" -D "$WORK/p3" 2>"$WORK/p3.err" || fail "pre-dump --progress always"
has_progress "$WORK/p3.err" pre-dump "$pid" copy || fail "--progress always shows nothing on a pipe: $(cat -v "$WORK/p3.err")"
run_tty "$WORK/p4.tty" "$SDUMP" pre-dump --threads 1 --progress never -t "$pid" -D "$WORK/p4" || fail "pre-dump --progress never"
no_progress "$WORK/p4.tty" || fail "--progress never on a terminal: $(cat -v "$WORK/p4.tty")"
# a pass shorter than a second shows nothing, even with --progress always
run_tty "$WORK/p4b.tty" "$SDUMP" pre-dump --progress always -t "$pid" -D "$WORK/p4b" --parent "$WORK/p4" || fail "short pass"
no_progress "$WORK/p4b.tty" || fail "a short pass showed progress: $(cat -v "$WORK/p4b.tty")"

# -o FILE: the log (phases, summary) in the file, the progress only on the terminal
run_tty "$WORK/p5.tty" "$SDUMP" -v -o "$WORK/p5.log" pre-dump --threads 1 -t "$pid" -D "$WORK/p5" || fail "pre-dump -o"
has_progress "$WORK/p5.tty" pre-dump "$pid" copy || fail "no progress line with -o: $(cat -v "$WORK/p5.tty")"
no_progress "$WORK/p5.log" || fail "progress in the log file: $(cat -v "$WORK/p5.log")"
grep -q "^pre-dump $pid: copy " "$WORK/p5.log" || fail "the log file has no phases: $(cat "$WORK/p5.log")"
tail -n 1 "$WORK/p5.log" | grep -Eq "^pre-dump $pid: $SIZE_RE scanned, $SIZE_RE written \\([0-9]+ pages\\), frozen" ||
	fail "the log file's last line: $(tail -n 1 "$WORK/p5.log")"
grep -aq "pre-dump $pid: collect" "$WORK/p5.tty" && fail "-o FILE: the log went to the terminal too"

# show --chain: one line per pass, newest first
tcmd "dirty anon 100 1"
"$SDUMP" pre-dump -t "$pid" -D "$WORK/p6" --parent "$WORK/p5" 2>/dev/null || fail "p6"
tcmd "dirty anon 200 2"
"$SDUMP" pre-dump -t "$pid" -D "$WORK/p7" --parent "$WORK/p6" --json >"$WORK/p7.json" 2>/dev/null || fail "p7"
"$SDUMP" show -D "$WORK/p7" --chain >"$WORK/chain" || fail "show --chain"
cat "$WORK/chain"
[ "$(wc -l <"$WORK/chain")" = 4 ] || fail "show --chain: not a header and 3 passes"
head -n 1 "$WORK/chain" | grep -Eq "^kind +started \\(UTC\\) +tracker +written +on disk +frozen +directory$" ||
	fail "show --chain header: $(head -n 1 "$WORK/chain")"
row='^pre-dump  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}  [a-z-]+ +[0-9]+ pages +[0-9.]+ (B|KiB|MiB|GiB) +[0-9.]+ m?s  '
sed -n 2p "$WORK/chain" | grep -Eq "${row}$WORK/p7$" || fail "show --chain, newest: $(sed -n 2p "$WORK/chain")"
# the parents' directories resolved, not p7/../p6/../p5
real=$(realpath "$WORK")
sed -n 3p "$WORK/chain" | grep -Eq "${row}$real/p6$" || fail "show --chain, second: $(sed -n 3p "$WORK/chain")"
sed -n 4p "$WORK/chain" | grep -Eq "${row}$real/p5$" || fail "show --chain, oldest: $(sed -n 4p "$WORK/chain")"
# the column of each field starts at the same place on every line
python3 - "$WORK/chain" <<'PYEOF' || fail "show --chain: columns not aligned"
import sys
lines = open(sys.argv[1]).read().splitlines()
ends = [l.index(" pages") + len(" pages") for l in lines[1:]]
assert len(set(ends)) == 1, ends
assert lines[0].index("written") + len("written") == ends[0], (lines[0], ends)
PYEOF
"$SDUMP" show -D "$WORK/p7" >"$WORK/show7" && grep -q "^chain     3 passes, newest first" "$WORK/show7" || fail "show: no chain"

# the final dump: its summary line; then a restore on a terminal shows its progress
"$SDUMP" -v dump -t "$pid" -D "$WORK/d" --parent "$WORK/p7" --json >"$WORK/d.json" 2>"$WORK/d.err" || fail "dump: $(cat "$WORK/d.err")"
tail -n 1 "$WORK/d.err" | grep -Eq "^dump $pid: $SIZE_RE scanned, $SIZE_RE written \\([0-9]+ pages\\), frozen [0-9]+\\.[0-9] ms, [0-9]+\\.[0-9]{2} s$" ||
	fail "the last line of dump -v: '$(tail -n 1 "$WORK/d.err")'"
grep -q "^dump $pid: killed" "$WORK/d.err" || fail "dump -v does not say the process was killed"
# the freeze -v gives is the one show gives: the whole of it, to the kill
v_frozen=$(tail -n 1 "$WORK/d.err" | sed -E 's/.*, frozen ([0-9.]+ ms),.*/\1/')
"$SDUMP" show -D "$WORK/d" >"$WORK/showd" || fail "show of the dump"
s_frozen=$(sed -nE 's/^frozen +([0-9.]+ m?s) .*/\1/p' "$WORK/showd")
# show gives seconds from 1 s on (two decimals): the same time, to its rounding
awk -v v="$v_frozen" -v s="$s_frozen" 'BEGIN {
	split(v, a, " "); split(s, b, " ")
	if (b[2] == "ms") exit !(a[1] == b[1])
	d = a[1] / 1000 - b[1]
	exit !(d <= 0.0051 && d >= -0.0051)
}' || fail "dump -v says frozen $v_frozen, show says $s_frozen"
# --json: the pass's statistics, the same as show --json has
"$SDUMP" show --json -D "$WORK/d" >"$WORK/showd.json" || fail "show --json of the dump"
"$SDUMP" show --json -D "$WORK/p7" >"$WORK/show7.json" || fail "show --json of p7"
python3 - "$WORK" "$pid" <<'PYEOF' || fail "pre-dump/dump --json: $(cat "$WORK/p7.json" "$WORK/d.json")"
import json, sys
w, pid = sys.argv[1], int(sys.argv[2])
for name, kind in (("p7", "pre-dump"), ("d", "dump")):
    out = json.load(open(f"{w}/{name}.json"))
    shown = json.load(open(f"{w}/show{name[-1] if name == 'p7' else 'd'}.json"))
    assert out["pass"] == kind and out["pid"] == pid, out
    assert out["stats"] == shown["stats"], (out["stats"], shown["stats"])
    assert out["stats"]["pages_scanned"] > 0, out
PYEOF
{ wait "$pid"; } 2>/dev/null || true
wait_pid_free "$pid"
# fds 7 and 8 stay open: the restored target reopens its FIFOs
t0=$(date +%s%N)
run_tty "$WORK/r.tty" "$SDUMP" -v restore -d --shell-job -D "$WORK/d" || fail "restore: $(cat -v "$WORK/r.tty")"
ms=$((($(date +%s%N) - t0) / 1000000))
if ! has_progress "$WORK/r.tty" restore "$pid" memory; then
	# the line shows only after a second: a machine that restores 1 GiB faster sees none
	[ "$ms" -lt 1500 ] || fail "no progress line of a restore of $ms ms: $(cat -v "$WORK/r.tty")"
	echo "note: the restore took $ms ms, too short for a progress line"
fi
for step in read create map memory process threads start; do
	grep -aEq "restore $pid: $step [0-9.]+ (ms|s) \\(" "$WORK/r.tty" || fail "restore -v: no '$step' line: $(cat -v "$WORK/r.tty")"
done
grep -aEq "restore $pid: 1 thread running, [0-9.]+ s" "$WORK/r.tty" || fail "restore -v: no last line"
wait_restored "$pid" 1 memtarget
tcmd "dirty anon 10 3"
case "$REPLY" in "ok "[1-9]*) ;; *) fail "the restored target does not answer: $REPLY" ;; esac
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
