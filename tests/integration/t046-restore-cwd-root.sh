#!/bin/bash
# sdump restore of a process's working directory and root:
# - a cwd that exists comes back as that directory;
# - a cwd that was removed (rmdir after chdir), with its parent removed too,
#   comes back removed: the same path with " (deleted)", its parent removed
#   as well, each with its mode and owner, and nothing of them left in the
#   file system;
# - a restore of it is refused, with one line and no process left, while a
#   directory is back at the removed path (and goes through once it is gone);
#   one that fails at the chdir into it, or after, leaves nothing behind;
# - a dump of a cwd removed with more parents than a restore makes again is
#   refused, with one line, the process left running;
# - a root (chroot) comes back as that root, the cwd inside it too;
# - a root that was removed (rmdir of the chroot directory) comes back
#   removed, and as the cwd when it was the cwd.
# Each is also checked with the state checker.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
PY=$(command -v python3) || skip "no python3"

# sleeper DIR [ROOT]: a process sleeping in DIR (chrooted to ROOT first,
# with DIR inside it); sets SPID once it is there.
sleeper() {
	"$PY" -c '
import os, sys, time
if len(sys.argv) > 2:
    os.chroot(sys.argv[2])
os.chdir(sys.argv[1])
while True:
    time.sleep(1000)
' "$@" </dev/null >/dev/null 2>&1 &
	SPID=$!
	TARGET_PIDS+=("$SPID")
	local want=$1 i
	[ $# -gt 1 ] && want=$2/${1#/} && want=${want%/}
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$SPID/cwd")" = "$want" ] && return 0
		sleep 0.1
	done
	fail "the sleeper is not in $want: $(readlink "/proc/$SPID/cwd")"
}

# dump_it PID NAME: record its state, dump it (killed), wait for it to go
dump_it() {
	state_record "$1" "$WORK/$2.state"
	"$SDUMP" dump -t "$1" -D "$WORK/img-$2" 2>"$WORK/err" || fail "$2: dump: $(cat "$WORK/err")"
	wait "$1" 2>/dev/null || true
	wait_pid_free "$1"
}

# restore_it PID NAME: restore it detached, check its state against the record
restore_it() {
	"$SDUMP" restore -D "$WORK/img-$2" --shell-job -d 2>"$WORK/err" || fail "$2: restore: $(cat "$WORK/err")"
	assert_running "$1"
	state_check "$1" "$WORK/$2.state"
}

# dirinfo PATH: mode, owner, link count of what PATH names (/proc links followed)
dirinfo() {
	stat -L -c '%a %u:%g %h %F' "$1"
}

# --- a cwd that exists ---
mkdir -p "$WORK/live/sub"
sleeper "$WORK/live/sub"
pid=$SPID
dump_it "$pid" live
restore_it "$pid" live
[ "$(readlink "/proc/$pid/cwd")" = "$WORK/live/sub" ] || fail "the cwd is '$(readlink "/proc/$pid/cwd")'"
[ "$(stat -L -c %i "/proc/$pid/cwd")" = "$(stat -c %i "$WORK/live/sub")" ] || fail "the cwd is not the directory itself"
echo "a cwd that exists: $(readlink "/proc/$pid/cwd")"
kill -KILL "$pid"
wait_gone "$pid"
wait_pid_free "$pid"

# --- a removed cwd whose parent was removed too ---
mkdir -m 0750 "$WORK/gone"
mkdir -m 0711 "$WORK/gone/sub"
chown 1:2 "$WORK/gone/sub"
sleeper "$WORK/gone/sub"
pid=$SPID
rmdir "$WORK/gone/sub" "$WORK/gone"
want_cwd="$WORK/gone/sub (deleted)"
[ "$(readlink "/proc/$pid/cwd")" = "$want_cwd" ] || fail "the removed cwd reads '$(readlink "/proc/$pid/cwd")'"
before=$(dirinfo "/proc/$pid/cwd")/$(dirinfo "/proc/$pid/cwd/..")
dump_it "$pid" gone

echo "a restore while a directory is back at the removed path:"
mkdir -p "$WORK/gone/sub"
expect_error "working directory.*'$WORK/gone/sub'.*removed.*exists" "$SDUMP" restore -D "$WORK/img-gone" --shell-job -d
echo "  $(cat "$WORK/stderr")"
[ ! -e "/proc/$pid" ] || fail "a refused restore left pid $pid"
[ -d "$WORK/gone/sub" ] || fail "the refused restore removed the directory in the way"
rmdir "$WORK/gone/sub" "$WORK/gone"

echo "restores of it that fail at its chdir or later leave nothing:"
ninj=$(SDUMP_FAULT_COUNT=1 "$SDUMP" restore -D "$WORK/img-gone" --shell-job -d 2>&1 >/dev/null |
	sed -n 's/.*inject=\([0-9]*\).*/\1/p')
[ -n "$ninj" ] || fail "no count of injected calls"
kill -KILL "$pid"
wait_pid_free "$pid"
for ((k = ninj; k > ninj - 60 && k > 0; k--)); do
	st=0
	SDUMP_FAULT="inject:$k:EIO" "$SDUMP" restore -D "$WORK/img-gone" --shell-job -d 2>"$WORK/err" || st=$?
	[ ! -e "$WORK/gone" ] || fail "a restore failing at injected call $k left '$WORK/gone' ($(cat "$WORK/err"))"
	if [ "$st" = 0 ]; then
		kill -KILL "$pid"
		wait_pid_free "$pid"
		continue
	fi
	[ ! -e "/proc/$pid" ] || fail "a restore failing at injected call $k left pid $pid"
	grep -q "cannot restore the working directory" "$WORK/err" && break
done
grep -q "cannot restore the working directory '$WORK/gone/sub' of pid $pid: Input/output error" "$WORK/err" ||
	fail "no restore failed at its chdir, the last said: $(cat "$WORK/err")"
echo "  $((ninj - k + 1)) restores, the last: $(cat "$WORK/err")"

restore_it "$pid" gone
[ "$(readlink "/proc/$pid/cwd")" = "$want_cwd" ] || fail "the restored cwd reads '$(readlink "/proc/$pid/cwd")'"
after=$(dirinfo "/proc/$pid/cwd")/$(dirinfo "/proc/$pid/cwd/..")
[ "$after" = "$before" ] || fail "the removed cwd and its parent were '$before', are '$after'"
[ ! -e "$WORK/gone" ] || fail "the restore left '$WORK/gone' behind"
echo "a removed cwd: '$(readlink "/proc/$pid/cwd")', $after"
kill -KILL "$pid"
wait_gone "$pid"
wait_pid_free "$pid"

# --- removed with more parents than a restore makes again: refused ---
deep=$WORK/deep
for ((i = 0; i < 32; i++)); do deep=$deep/d$i; done
mkdir -p "$deep"
sleeper "$deep"
pid=$SPID
rm -r "$WORK/deep"
expect_error "pid $pid: its working directory '$deep' was removed with more than 31 of its parents" \
	"$SDUMP" dump -t "$pid" -D "$WORK/img-deep"
echo "removed 33 deep: $(cat "$WORK/stderr")"
assert_running "$pid"
[ ! -e "$WORK/img-deep/inventory.img" ] || fail "a refused dump left an image"
kill -KILL "$pid"
wait_gone "$pid"

# --- a root that exists (chroot), the cwd in it ---
mkdir -p "$WORK/jail/in"
sleeper /in "$WORK/jail"
pid=$SPID
dump_it "$pid" jail
restore_it "$pid" jail
[ "$(readlink "/proc/$pid/root")" = "$WORK/jail" ] || fail "the root is '$(readlink "/proc/$pid/root")'"
[ "$(readlink "/proc/$pid/cwd")" = "$WORK/jail/in" ] || fail "the cwd is '$(readlink "/proc/$pid/cwd")'"
echo "a root: $(readlink "/proc/$pid/root"), cwd $(readlink "/proc/$pid/cwd")"
kill -KILL "$pid"
wait_gone "$pid"
wait_pid_free "$pid"

# --- a removed root, which is the cwd too ---
mkdir -m 0705 "$WORK/rjail"
sleeper / "$WORK/rjail"
pid=$SPID
rmdir "$WORK/rjail"
[ "$(readlink "/proc/$pid/root")" = "$WORK/rjail (deleted)" ] || fail "the removed root reads '$(readlink "/proc/$pid/root")'"
before=$(dirinfo "/proc/$pid/root")
dump_it "$pid" rjail
restore_it "$pid" rjail
for l in root cwd; do
	[ "$(readlink "/proc/$pid/$l")" = "$WORK/rjail (deleted)" ] || fail "the restored $l reads '$(readlink "/proc/$pid/$l")'"
done
[ "$(dirinfo "/proc/$pid/root")" = "$before" ] || fail "the removed root was '$before', is '$(dirinfo "/proc/$pid/root")'"
[ "$(stat -L -c %d:%i "/proc/$pid/root")" = "$(stat -L -c %d:%i "/proc/$pid/cwd")" ] ||
	fail "the restored root and cwd are not one directory"
[ ! -e "$WORK/rjail" ] || fail "the restore left '$WORK/rjail' behind"
echo "a removed root: '$(readlink "/proc/$pid/root")', the cwd too, $before"
kill -KILL "$pid"
wait_gone "$pid"
echo ok
