#!/bin/bash
# A process whose working directory, or one of whose fds, is the /proc
# directory of a process that has ended since (the kernel unhashed it: the
# link reads "/proc/N (deleted)") is refused at dump with one line naming
# it and what to do, and left running; before, the cwd was saved as the
# path "/proc/N (deleted)" and the fd refused as a deleted file.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

cat >"$WORK/ended.py" <<'EOF'
import os, sys, time
r, w = os.pipe()
c = os.fork()
if c == 0:
    os.read(r, 1)
    os._exit(0)
if sys.argv[1] == "cwd":
    os.chdir("/proc/%d" % c)
else:
    fd = os.open("/proc/%d" % c, os.O_RDONLY | os.O_DIRECTORY)
    os.dup2(fd, 9)
    os.close(fd)
os.write(w, b"x")
os.waitpid(c, 0)
os.close(r)
os.close(w)
print("ready", os.getpid(), flush=True)
sys.stdin.readline()
EOF
for how in cwd fd; do
	TARGETS_DIR=$(dirname "$(command -v python3)") start_target_quiet python3 "$WORK/ended.py" $how
	case $how in
	cwd) pat="its working directory is in /proc/[0-9]+ of a process that has ended \(/proc/[0-9]+ \(deleted\)\), which no restore can enter again; let it change" ;;
	fd) pat="fd 9 is a directory of /proc/[0-9]+ of a process that has ended \(/proc/[0-9]+ \(deleted\)\), which no restore can open again; close it" ;;
	esac
	expect_error "$pat" "$SDUMP" dump -t "$TPID" -D "$WORK/img-$how"
	assert_threads_running "$TPID"
	[ ! -e "$WORK/img-$how/process.img" ] || fail "the refused dump left an image"
	echo "$how in an ended process's /proc: refused at dump: $(cat "$WORK/stderr")"
	kill "$TPID"
	exec 7>&- 8<&-
done
