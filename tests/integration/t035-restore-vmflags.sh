#!/bin/bash
# VmFlags and guard pages come back (vmatarget): VMAs with MADV_DONTFORK,
# MADV_WIPEONFORK, MADV_DONTDUMP, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
# MADV_MERGEABLE, mlock, mlock2(MLOCK_ONFAULT), MADV_SEQUENTIAL,
# MADV_RANDOM, MAP_NORESERVE, MAP_DROPPABLE, mseal, memory made read-only
# after a write (still charged: ac), memory mapped PROT_NONE (never
# charged), guard pages, and private anonymous memory right below one page
# of shared /dev/zero (the second pre-dump used to write-protect across
# into it and fail):
# - pre-dump, pre-dump --parent, dump --parent, restore: the state checker
#   finds every VmFlag and guard page as it was, and the target itself
#   sees its guard pages fault, a fork's child the MADV_WIPEONFORK memory
#   zeroed and the MADV_DONTFORK memory absent, every byte it wrote;
# - show lists each VMA's flags and guard pages;
# - refusals, one line each: a dump of memory registered with a
#   userfaultfd of the process's own (the target left running and
#   untraced, no image); a restore that may not lock the memory that was
#   locked (RLIMIT_MEMLOCK), no process left.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

# flags_of PID ADDR: the VmFlags of PID's VMA holding ADDR (hex, 0x...)
flags_of() {
	python3 - "$1" "$2" <<'PYEOF'
import re, sys
pid, addr = sys.argv[1], int(sys.argv[2], 16)
hit = False
for line in open("/proc/%s/smaps" % pid):
    m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
    if m:
        hit = int(m.group(1), 16) <= addr < int(m.group(2), 16)
    elif hit and line.startswith("VmFlags:"):
        print(" ".join(sorted(line.split()[1:])))
PYEOF
}

# has_flags PID REGION FLAG...: the region's VMA shows every FLAG
has_flags() {
	local pid=$1 reg=$2 f got
	shift 2
	got=" $(flags_of "$pid" "${REG_ADDR[$reg]}") "
	for f in "$@"; do
		case "$got" in *" $f "*) ;; *) fail "pid $pid: region $reg has VmFlags '$got', no $f" ;; esac
	done
}

# lacks_flags PID REGION FLAG...: the region's VMA shows none of them
lacks_flags() {
	local pid=$1 reg=$2 f got
	shift 2
	got=" $(flags_of "$pid" "${REG_ADDR[$reg]}") "
	for f in "$@"; do
		case "$got" in *" $f "*) fail "pid $pid: region $reg has VmFlags '$got', with $f" ;; esac
	done
}

# the target's own flags, so that the restore has each to give back
check_target_flags() {
	local pid=$1
	has_flags "$pid" dontfork dc
	has_flags "$pid" wipeonfork wf
	has_flags "$pid" dontdump dd
	has_flags "$pid" hugepage hg
	has_flags "$pid" nohugepage nh
	has_flags "$pid" mergeable mg
	has_flags "$pid" locked lo
	lacks_flags "$pid" locked lf
	has_flags "$pid" onfault lo lf
	has_flags "$pid" sequential sr
	has_flags "$pid" random rr
	has_flags "$pid" noreserve nr
	lacks_flags "$pid" noreserve ac
	has_flags "$pid" readonly ac
	lacks_flags "$pid" protnone ac nr
	has_flags "$pid" droppable dp
	has_flags "$pid" sealed sl
	has_flags "$pid" guard gu
}

start_target_quiet vmatarget
pid=$TPID
load_regions
check_target_flags "$pid"
"$SDUMP" pre-dump -t "$pid" -D "$WORK/1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
tcmd "dirty below 30"
[ "$REPLY" = ok ] || fail "dirty: $REPLY"
# the written pages of "below" end where the shared page begins
"$SDUMP" pre-dump -t "$pid" -D "$WORK/2" --parent "$WORK/1" 2>"$WORK/err" ||
	fail "second pre-dump: $(cat "$WORK/err")"
tcmd "dirty below 31"
tcmd "dirty wipeonfork 32"
"$SDUMP" pre-dump -t "$pid" -D "$WORK/3" --parent "$WORK/2" 2>"$WORK/err" ||
	fail "third pre-dump: $(cat "$WORK/err")"
tcmd "dirty below 33"
state_record "$pid" "$WORK/before.state"
grep -q '"guards"' "$WORK/before.state" || fail "the state checker saw no guard pages"
"$SDUMP" dump -t "$pid" -D "$WORK/4" --parent "$WORK/3" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"

"$SDUMP" show -D "$WORK/4" --json >"$WORK/show.json" || fail "show"
[ "$(json_get "$WORK/show.json" "[v['vmflags'] for v in d['vmas'] if v['start'] == ${REG_ADDR[onfault]}][0]")" = "lo lf ac" ] ||
	fail "show: the flags of onfault are '$(json_get "$WORK/show.json" "[v.get('vmflags') for v in d['vmas'] if v['start'] == ${REG_ADDR[onfault]}]")'"
g=${REG_ADDR[guard]}
[ "$(json_get "$WORK/show.json" "[v['guards'] for v in d['vmas'] if v['start'] == $g][0]")" = "[[$((g + 2 * 4096)), $((g + 4 * 4096))], [$((g + 6 * 4096)), $((g + 7 * 4096))]]" ] ||
	fail "show: the guard pages are $(json_get "$WORK/show.json" "[v.get('guards') for v in d['vmas'] if v['start'] == $g]")"

"$SDUMP" restore -D "$WORK/4" --shell-job -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_running "$pid"
state_check "$pid" "$WORK/before.state"
check_target_flags "$pid"
tcmd check
[ "$REPLY" = ok ] || fail "the restored target: $REPLY"
# MAP_DROPPABLE memory comes back empty, as after the kernel drops it (the
# target wrote it before the dump)
z=$(python3 -c 'import sys; f = open("/proc/%s/mem" % sys.argv[1], "rb"); f.seek(int(sys.argv[2], 0)); print(f.read(4 * 4096).count(0))' "$pid" "${REG_ADDR[droppable]}")
[ "$z" = 16384 ] || fail "the MAP_DROPPABLE region holds $((16384 - z)) bytes that are not zero after the restore"
echo "restored: every VmFlag and guard page as it was, MAP_DROPPABLE memory empty"

# a restore that may not lock memory the process had locked: a process
# without CAP_IPC_LOCK (which a restore would need too) locks within its
# RLIMIT_MEMLOCK; the restore's is 4 KiB
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
if command -v setpriv >/dev/null; then
	mkdir -p "$WORK/wrap"
	printf '#!/bin/sh\nexec setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock "%s/vmatarget" "$@"\n' \
		"$TARGETS_DIR" >"$WORK/wrap/vmatarget"
	chmod +x "$WORK/wrap/vmatarget"
	targets=$TARGETS_DIR
	TARGETS_DIR=$WORK/wrap
	start_target_quiet vmatarget
	TARGETS_DIR=$targets
	pid=$TPID
	load_regions
	grep -q "^CapEff:.*" "/proc/$pid/status" || fail "no CapEff"
	"$SDUMP" dump -t "$pid" -D "$WORK/5" 2>"$WORK/err" || fail "dump without ipc_lock: $(cat "$WORK/err")"
	wait_gone "$pid"
	exec 7>&- 8<&-
	wait_pid_free "$pid"
	st=0
	(ulimit -l 4 && exec setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock \
		"$SDUMP" restore -D "$WORK/5" --shell-job -d) 2>"$WORK/err" || st=$?
	[ "$st" = 1 ] || fail "restore without the right to lock exited $st: $(cat "$WORK/err")"
	[ "$(wc -l <"$WORK/err")" = 1 ] || fail "restore without the right to lock said more than one line: $(cat "$WORK/err")"
	# the first locked VMA by address is named
	lk=${REG_ADDR[onfault]} how="mlock2 MLOCK_ONFAULT"
	if ((REG_ADDR[locked] < lk)); then lk=${REG_ADDR[locked]} how=mlock; fi
	want="sdump: cannot restore pid $pid: cannot lock 0x${lk#0x}-$(printf '0x%x' $((lk + 4 * 4096))) ($how): Cannot allocate memory; RLIMIT_MEMLOCK is 4 KiB here: raise it (ulimit -l) or restore as root"
	[ "$(cat "$WORK/err")" = "$want" ] || fail "restore without the right to lock said '$(cat "$WORK/err")', expected '$want'"
	[ ! -e "/proc/$pid" ] || fail "a half-restored pid $pid is left"
	echo "restore without the right to lock: refused"
fi

# a userfaultfd of the process's own: refused, the target left as it was
start_target_quiet vmatarget --uffd
load_regions
u=${REG_ADDR[uffd]}
st=0
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/u" 2>"$WORK/err" || st=$?
[ "$st" = 1 ] || fail "pre-dump of a process with its own userfaultfd exited $st"
want="sdump: cannot dump pid $TPID: 0x${u#0x}-$(printf '0x%x' $((u + 4 * 4096))) is registered with a userfaultfd of the process's own (VmFlags um or ui): not supported; unregister it (UFFDIO_UNREGISTER) or close the userfaultfd before the dump"
[ "$(cat "$WORK/err")" = "$want" ] || fail "pre-dump said '$(cat "$WORK/err")', expected '$want'"
[ ! -e "$WORK/u/inventory.img" ] || fail "an inventory.img was written"
assert_running "$TPID"
tcmd check
[ "$REPLY" = ok ] || fail "the refused target: $REPLY"
stop_target
echo ok
