#!/bin/bash
# A file a process has open, or maps, in a directory mounted over since
# (zdtm's overmount_file, overmount_dev, overmount_fifo: tmpfs over the
# directory), or under a file bind-mounted over it: the restore opens and
# maps files by their paths, which lead nowhere or to another file now.
# The dump took it and the restore failed ("No such file or directory").
# - the dump refuses, one line naming the fd (or the mapping), its path and
#   where the path leads; the process runs on, untraced; no image;
# - once unmounted: dump and restore, the fd is the very file again.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "no python3"
export SDUMP_STATE_DIR="$WORK/state"
mkdir -p "$WORK/d" "$WORK/other"
echo hello >"$WORK/d/f"
echo other >"$WORK/other/f"
MOUNTS=()
trap 'for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null || true; done; cleanup' EXIT

# refused PID DIR PATTERN: a dump of PID into DIR refused with the line
# "cannot dump pid PID: PATTERN", PID left running, no image
refused() {
	expect_error "cannot dump pid $1: $3" "$SDUMP" dump -t "$1" -D "$2"
	assert_running "$1"
	[ ! -e "$2/inventory.img" ] || fail "an image was left in $2"
	echo "refused: $(cat "$WORK/stderr")"
}

# an fd of a file in a directory mounted over
sleep 1000 3<"$WORK/d/f" </dev/null >/dev/null 2>&1 &
pid=$!
TARGET_PIDS+=("$pid")
mount -t tmpfs none "$WORK/d"
MOUNTS+=("$WORK/d")
refused "$pid" "$WORK/i1" "fd 3 is '$WORK/d/f', whose path leads nowhere now \\(a mount over it or a directory of its path hides it\\): a restore could not open it; unmount what hides it, or close the fd, before the dump"
# another file at that path on the mount over it
echo mounted >"$WORK/d/f"
refused "$pid" "$WORK/i2" "fd 3 is '$WORK/d/f', whose path leads to another file now"
umount "$WORK/d"
# a file bind-mounted over the file
mount --bind "$WORK/other/f" "$WORK/d/f"
MOUNTS+=("$WORK/d/f")
refused "$pid" "$WORK/i3" "fd 3 is '$WORK/d/f', whose path leads to another file now"
umount "$WORK/d/f"

# unmounted: the fd comes back as the very file
ino=$(stat -Lc %i "/proc/$pid/fd/3")
"$SDUMP" dump -t "$pid" -D "$WORK/i4" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/i4" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_running "$pid"
TARGET_PIDS+=("$pid")
[ "$(readlink "/proc/$pid/fd/3")" = "$WORK/d/f" ] && [ "$(stat -Lc %i "/proc/$pid/fd/3")" = "$ino" ] ||
	fail "the restored fd 3 is $(readlink "/proc/$pid/fd/3"), inode $(stat -Lc %i "/proc/$pid/fd/3"), not $ino"
kill -KILL "$pid"
echo "restored once unmounted: fd 3 the same file"

# a mapping of a file (its fd closed) in a directory mounted over
python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[1], os.O_RDONLY)
if not libc.mmap(None, 4096, 1, 2, fd, 0):
    sys.exit(1)
os.close(fd)
print("ready", flush=True)
time.sleep(1000)
' "$WORK/d/f" </dev/null >"$WORK/py.out" 2>&1 &
pid=$!
TARGET_PIDS+=("$pid")
for _ in $(seq 100); do grep -q ready "$WORK/py.out" && break; sleep 0.1; done
grep -q ready "$WORK/py.out" || fail "python3 did not map the file: $(cat "$WORK/py.out")"
mount -t tmpfs none "$WORK/d"
refused "$pid" "$WORK/i5" "its mapping at 0x[0-9a-f]*-0x[0-9a-f]* is of '$WORK/d/f', whose path leads nowhere now \\(a mount over it or a directory of its path hides it\\): a restore could not map it; unmount what hides it before the dump"
