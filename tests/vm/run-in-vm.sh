#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh - run a command inside a throw-away qemu VM booting the host
# distribution's kernel (Debian's has CONFIG_MEM_SOFT_DIRTY, which the host
# kernel running the tests may lack).
#
# Usage: run-in-vm.sh [--timeout SECS] [--file HOSTPATH[:GUESTPATH]]... \
#                     -- COMMAND [ARGS...]
#
# The guest is a busybox initramfs holding the --file paths (GUESTPATH
# defaults to the absolute HOSTPATH) and every shared library they need.
# COMMAND runs as PID 1's child with / as cwd, a tmpfs on /tmp and THP set
# to "madvise". Its stdout/stderr (and the guest console) are streamed to our
# stdout; our exit status is COMMAND's exit status, 77 if the VM cannot be
# run here (skip), 1 if the guest never reported a status (hang, panic).
#
# Environment overrides:
#   SDUMP_VM_KERNEL   kernel image (default: newest /boot/vmlinuz-*)
#   SDUMP_VM_BUSYBOX  busybox binary (default: busybox in PATH or /bin)
#   SDUMP_VM_QEMU     qemu binary (default: qemu-system-x86_64)
#   SDUMP_VM_MEM      guest memory (default: 1G)
#   SDUMP_VM_SMP      guest CPUs (default: 2)
#   SDUMP_VM_APPEND   extra kernel command line arguments

set -eu -o pipefail

prog=${0##*/}
timeout_secs=300
files=()

usage() {
	echo "usage: $prog [--timeout SECS] [--file HOSTPATH[:GUESTPATH]]... -- COMMAND [ARGS...]" >&2
	exit 2
}

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

skip() {
	echo "skipped: $*" >&2
	exit 77
}

while [ $# -gt 0 ]; do
	case $1 in
	--timeout)
		[ $# -ge 2 ] || usage
		timeout_secs=$2
		shift 2
		;;
	--timeout=*)
		timeout_secs=${1#*=}
		shift
		;;
	--file)
		[ $# -ge 2 ] || usage
		files+=("$2")
		shift 2
		;;
	--file=*)
		files+=("${1#*=}")
		shift
		;;
	--)
		shift
		break
		;;
	*)
		usage
		;;
	esac
done
[ $# -gt 0 ] || usage
[[ $timeout_secs =~ ^[1-9][0-9]*$ ]] || die "bad --timeout: $timeout_secs"

# --- Prerequisites: anything missing means "cannot test here", not failure.

qemu=${SDUMP_VM_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 || skip "$qemu not found"

kernel=${SDUMP_VM_KERNEL:-}
if [ -z "$kernel" ]; then
	kernel=$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)
	[ -e "$kernel" ] || skip "no /boot/vmlinuz-* kernel"
fi
# Debian installs kernels 0600 root: unreadable for ordinary users.
[ -r "$kernel" ] || skip "kernel $kernel not readable"

busybox=${SDUMP_VM_BUSYBOX:-}
if [ -z "$busybox" ]; then
	for b in /bin/busybox /usr/bin/busybox "$(command -v busybox || true)"; do
		if [ -n "$b" ] && [ -x "$b" ]; then
			busybox=$b
			break
		fi
	done
fi
if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
	skip "busybox not found (apt install busybox-static)"
fi

for t in cpio gzip ldd timeout; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not found"
done

# --- Build the initramfs tree.

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdump-vm.XXXXXX")
qemu_pid=
# shellcheck disable=SC2317 # invoked by trap
cleanup() {
	if [ -n "$qemu_pid" ]; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc}
chmod 1777 "$root/tmp"

# Copy HOST to GUEST inside the tree. "cp --remove-destination" matters: the
# destination may be a busybox applet symlink (e.g. --file x:/bin/sh), and a
# plain cp would write through it and clobber busybox itself.
install_path() {
	local src=$1 dst=$root$2

	mkdir -p "$(dirname "$dst")"
	if [ -d "$src" ]; then
		mkdir -p "$dst"
		cp -a -L --remove-destination "$src/." "$dst/"
	else
		cp -L -p --remove-destination "$src" "$dst"
	fi
}

# Add the shared libraries (and the dynamic loader) that ELF file $1 needs,
# at the paths the host loader resolves them to, so the guest loader finds
# them through its built-in default search path without an ld.so.cache.
declare -A libs_done=()
install_libs() {
	local out line lib

	# ldd fails on static binaries and scripts: nothing to add then.
	out=$(LC_ALL=C ldd "$1" 2>/dev/null) || return 0
	while read -r line; do
		case $line in
		*"=> not found"*)
			die "$1: missing library: ${line%% *}"
			;;
		*" => /"*)
			lib=${line#* => }
			lib=${lib%% (*}
			;;
		/*)
			lib=${line%% (*}
			;;
		*)
			continue	# linux-vdso.so.1 and the like
			;;
		esac
		if [ -z "${libs_done[$lib]:-}" ]; then
			libs_done[$lib]=1
			install_path "$lib" "$lib"
		fi
	done <<<"$out"
}

install_path "$busybox" /bin/busybox
install_libs "$busybox"
# Applet symlinks are made before the --file copies so that a --file may
# replace an applet.
"$busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] ||
		ln -s /bin/busybox "$root/$applet"
done

for spec in "${files[@]}"; do
	host=${spec%%:*}
	if [ "$host" = "$spec" ]; then
		guest=
	else
		guest=${spec#*:}
	fi
	[ -e "$host" ] || die "--file $host: no such file"
	if [ -z "$guest" ]; then
		guest=$(cd "$(dirname "$host")" && pwd)/$(basename "$host")
	fi
	case $guest in
	/*) ;;
	*) die "--file $spec: guest path must be absolute" ;;
	esac
	install_path "$host" "$guest"
	if [ -d "$host" ]; then
		while IFS= read -r -d '' f; do
			install_libs "$f"
		done < <(find "$host" -type f -perm -u+x -print0)
	else
		install_libs "$host"
	fi
done

# Quote each argument for the guest's POSIX sh: wrap in '...', with every
# embedded ' written as '\''.
guest_cmd=
for arg in "$@"; do
	guest_cmd+=" '${arg//\'/\'\\\'\'}'"
done

# Console output goes verbatim to our stdout. Logs and pipes want Unix line
# endings, so the guest tty stops turning \n into \r\n unless a terminal
# is watching (where bare \n would give staircase output).
if [ -t 1 ]; then
	stty_mode=onlcr
else
	stty_mode=-onlcr
fi

cat >"$root/init" <<EOF
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
# The kernel could not open /dev/console for us if the cpio lacks the node
# (it can only be created with CAP_MKNOD); reopen it from devtmpfs.
exec </dev/console >/dev/console 2>&1
stty $stty_mode 2>/dev/null
# With THP "always" a 2M huge page has a single soft-dirty bit; tests want
# per-4K-page tracking.
echo madvise >/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
cd /
# Subshell: a builtin such as "exit" must not end PID 1. Nobody types into
# the console, so stdin is /dev/null rather than a read that never returns.
($guest_cmd) </dev/null
rc=\$?
# The leading newline keeps the marker on its own line even if the command's
# output did not end with one.
printf '\nSDUMP-VM-EXIT=%d\n' "\$rc"
# stty calls tcsetattr(TCSADRAIN), which waits until the UART has sent
# everything: "poweroff -f" does not flush the tty layer, so output still
# queued there (the exit marker included) could otherwise be lost.
stty $stty_mode 2>/dev/null
poweroff -f
EOF
chmod 755 "$root/init"

# Best effort: gives /init a console from its very first instruction.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$tmp/initrd.gz"

# --- Boot. qemu's chardev logfile tees the serial console into a file we can
# parse afterwards while it also streams to our stdout.

log=$tmp/console.log
# panic=-1 + -no-reboot: a guest panic (e.g. init dying) ends qemu at once
# instead of waiting for the timeout.
append="console=ttyS0 quiet panic=-1 ${SDUMP_VM_APPEND:-}"

# qemu runs in the background so that INT/TERM reach our traps immediately
# (bash defers traps while a foreground child runs); the cleanup trap kills
# it. timeout(1) puts itself in its own process group and kills qemu there.
# "-display none" rather than -nographic: with -nographic SeaBIOS mirrors its
# screen to the serial port, spraying terminal escapes (reset, line wrap off)
# into our output.
timeout -k 10 "$timeout_secs" "$qemu" \
	-accel tcg -cpu max -m "${SDUMP_VM_MEM:-1G}" -smp "${SDUMP_VM_SMP:-2}" \
	-display none -nodefaults -no-reboot -monitor none \
	-chardev "stdio,id=con,signal=off,logfile=$log" -serial chardev:con \
	-kernel "$kernel" -initrd "$tmp/initrd.gz" -append "$append" \
	</dev/null &
qemu_pid=$!
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=

# Take the last marker: the guest command may itself print lines like it.
code=
if [ -f "$log" ]; then
	code=$(tr -d '\r' <"$log" |
		sed -n 's/^SDUMP-VM-EXIT=\([0-9]\{1,3\}\)$/\1/p' | tail -n 1)
fi
if [ -z "$code" ]; then
	if [ "$qemu_rc" -eq 124 ]; then
		echo "$prog: error: VM timed out after ${timeout_secs}s without reporting an exit status" >&2
	else
		echo "$prog: error: VM ended (qemu status $qemu_rc) without reporting an exit status" >&2
	fi
	exit 1
fi
exit "$code"
