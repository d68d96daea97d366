# Helpers shared by the integration tests. Source it; it sets -euo pipefail.
# Needs SDUMP (the binary) and TARGETS_DIR (where the test targets are built).
set -euo pipefail

: "${SDUMP:?SDUMP must name the sdump binary}"
: "${TARGETS_DIR:?TARGETS_DIR must name the directory of the test targets}"

# Only stdio reaches the targets: an fd inherited from whatever started the
# tests would be dumped with them (and may not be restorable).
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	case $_fd in 0 | 1 | 2 | 255) continue ;; esac
	eval "exec $_fd>&-" 2>/dev/null || true
done
unset _fd

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdump-test.XXXXXX")
TARGET_PIDS=()

cleanup() {
	local p
	for p in "${TARGET_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "skipped: $*" >&2
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (ptrace of the test targets, /proc/PID/pagemap)"

# start_target NAME ARGS...: start $TARGETS_DIR/NAME driven over fifos; sets TPID.
# Talk to it with tcmd.
start_target() {
	local name=$1
	shift
	rm -f "$WORK/target.in" "$WORK/target.out"
	mkfifo "$WORK/target.in" "$WORK/target.out"
	"$TARGETS_DIR/$name" "$@" <"$WORK/target.in" >"$WORK/target.out" &
	TARGET_PIDS+=($!)
	exec 7>"$WORK/target.in" 8<"$WORK/target.out"
	local word pid
	read -r -t 120 word pid <&8 || fail "$name did not start"
	[ "$word" = ready ] || fail "$name: unexpected '$word'"
	TPID=$pid
}

# tcmd LINE: send a command, the first reply line in REPLY.
tcmd() {
	echo "$1" >&7
	read -r -t 300 REPLY <&8 || fail "target gave no answer to '$1'"
}

# counter_grows CMD TRIES DELAY: the target's answer "ok N" to CMD grows
# within TRIES polls DELAY seconds apart (status 1 if not); the first and
# last values in COUNTER_FROM and COUNTER_TO.
counter_grows() {
	local i
	tcmd "$1"
	COUNTER_FROM=${REPLY#ok }
	for ((i = 0; i < $2; i++)); do
		sleep "$3"
		tcmd "$1"
		COUNTER_TO=${REPLY#ok }
		[ "$COUNTER_TO" -gt "$COUNTER_FROM" ] && return 0
	done
	return 1
}

# stop_target: ask it to exit and wait for its status (0 expected).
stop_target() {
	echo exit >&7
	local st=0
	wait "$TPID" 2>/dev/null || st=$?
	exec 7>&- 8<&-
	[ "$st" = 0 ] || fail "target exited with $st"
}

# load_regions: REG_ADDR[name] and REG_LEN[name] from the target's "regions".
declare -A REG_ADDR REG_LEN
load_regions() {
	local kw name addr len
	REG_ADDR=()
	REG_LEN=()
	echo regions >&7
	while read -r -t 60 kw name addr len <&8; do
		[ "$kw" = end ] && return 0
		REG_ADDR[$name]=$addr
		REG_LEN[$name]=$len
	done
	fail "no region list"
}

# assert_running PID: not stopped, not traced.
assert_running() {
	local st tracer
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status")
	tracer=$(awk '/^TracerPid:/ {print $2}' "/proc/$1/status")
	[ "$tracer" = 0 ] || fail "pid $1 is still traced by $tracer"
	case "$st" in
	t | T) fail "pid $1 is left stopped ($st)" ;;
	esac
}

# verify_extract DIR [REGION...]: extract each region from the image and
# compare with the target's own copy of it, byte for byte.
verify_extract() {
	local dir=$1 r
	shift
	local names=("$@")
	[ ${#names[@]} -gt 0 ] || names=("${!REG_ADDR[@]}")
	for r in "${names[@]}"; do
		tcmd "save $r $WORK/want.$r"
		[ "$REPLY" = ok ] || fail "target could not save $r"
		"$SDUMP" extract -D "$dir" --addr "${REG_ADDR[$r]}" --len "${REG_LEN[$r]}" \
			-o "$WORK/got.$r" || fail "extract of $r failed"
		cmp -s "$WORK/want.$r" "$WORK/got.$r" || fail "region $r differs from the image $dir"
		rm -f "$WORK/want.$r" "$WORK/got.$r"
	done
}

# expect_error PATTERN CMD...: CMD must exit 1 with exactly one stderr line,
# "sdump: ..." matching PATTERN (extended regex).
expect_error() {
	local pat=$1 st=0
	shift
	"$@" >"$WORK/stdout" 2>"$WORK/stderr" || st=$?
	[ "$st" = 1 ] || fail "'$*' exited $st, expected 1; stderr: $(cat "$WORK/stderr")"
	[ "$(wc -l <"$WORK/stderr")" = 1 ] || fail "'$*' printed more than one line: $(cat "$WORK/stderr")"
	grep -Eq "^sdump: .*($pat)" "$WORK/stderr" || fail "'$*' said '$(cat "$WORK/stderr")', expected /$pat/"
}

# json_int FILE KEY: the first integer field KEY of a JSON document (no python needed).
json_int() {
	grep -o "\"$2\":[0-9]*" "$1" | head -n 1 | cut -d: -f2
}

# json_get FILE EXPR: a value from a JSON document (python3 is in every Debian base).
json_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"
}

# assert_threads_running PID: every thread of PID neither stopped nor traced.
assert_threads_running() {
	local t st tracer
	for t in /proc/"$1"/task/*; do
		st=$(awk '/^State:/ {print $2}' "$t/status" 2>/dev/null) || continue
		tracer=$(awk '/^TracerPid:/ {print $2}' "$t/status" 2>/dev/null) || continue
		[ -z "$tracer" ] || [ "$tracer" = 0 ] || fail "thread ${t##*/} of $1 is still traced by $tracer"
		case "$st" in
		t | T) fail "thread ${t##*/} of $1 is left stopped ($st)" ;;
		esac
	done
}

# tfacts FILE: the target's "facts" line (statetarget), saved to FILE.
tfacts() {
	tcmd facts
	case "$REPLY" in "{"*) ;; *) fail "facts: '$REPLY'" ;; esac
	printf '%s\n' "$REPLY" >"$1"
}

# --- restore (t040-t049) ---

# start_target_quiet NAME ARGS...: start_target, but the target's stderr goes
# to $WORK/target.err (kept unchanged unless it writes there): a restore
# refuses a file fd that changed since the dump, as the test's own stderr
# (a log file) would have. The command TARGET_WRAP (empty: none) runs it:
# TARGET_WRAP=(ip netns exec NS) starts it in network namespace NS.
TARGET_WRAP=()
start_target_quiet() {
	local name=$1
	shift
	rm -f "$WORK/target.in" "$WORK/target.out"
	mkfifo "$WORK/target.in" "$WORK/target.out"
	"${TARGET_WRAP[@]}" "$TARGETS_DIR/$name" "$@" <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
	TARGET_PIDS+=($!)
	exec 7>"$WORK/target.in" 8<"$WORK/target.out"
	local word pid
	read -r -t 120 word pid <&8 || fail "$name did not start: $(cat "$WORK/target.err")"
	[ "$word" = ready ] || fail "$name: unexpected '$word'"
	TPID=$pid
}

# test_netns: a network namespace of the test's own (its name in TEST_NS),
# lo up, removed when the test ends; targets started there (TARGET_WRAP),
# and inN CMD... runs CMD there (sdump too: a socket of another namespace
# is refused).
test_netns() {
	command -v ip >/dev/null || skip "no ip(8)"
	TEST_NS=sdt$$
	ip netns add "$TEST_NS" || skip "cannot make a network namespace"
	trap 'ip netns del "$TEST_NS" 2>/dev/null || true; cleanup' EXIT
	ip -n "$TEST_NS" link set lo up
	TARGET_WRAP=(ip netns exec "$TEST_NS")
}
inN() { ip netns exec "$TEST_NS" "$@"; }

# refused_by TARGET WHAT PATTERN: TARGET --refuse WHAT (under TARGET_WRAP,
# as its dump) refused at the dump with one line, "fd 3 is PATTERN", and
# left running, its "check" answering ok (what was refused untouched).
refused_by() {
	local target=$1 what=$2 pat=$3
	start_target_quiet "$target" --refuse "$what"
	expect_error "cannot dump pid $TPID: fd 3 is $pat" "${TARGET_WRAP[@]}" "$SDUMP" dump -t "$TPID" -D "$WORK/d-$what"
	assert_running "$TPID"
	tcmd check
	[ "$REPLY" = ok ] || fail "$what: the target after the refusal: $REPLY"
	echo "refused: $(cat "$WORK/stderr")"
	echo exit >&7
	wait_gone "$TPID"
	exec 7>&- 8<&-
}

# tids_of PID: its thread ids, sorted, on one line.
tids_of() {
	ls "/proc/$1/task" 2>/dev/null | sort -n | tr '\n' ' '
}

# proc_state PID: the State letter of PID, empty once it is gone.
proc_state() {
	awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null || true
}

# wait_gone PID [SECONDS]: PID ends (gone, or a zombie) in time (default 30).
wait_gone() {
	local i st n=$((${2:-30} * 10))
	for ((i = 0; i < n; i++)); do
		st=$(proc_state "$1")
		case "$st" in "" | Z | X) return 0 ;; esac
		sleep 0.1
	done
	fail "pid $1 still alive ($st) after ${2:-30} s"
}

# wait_pid_free PID [SECONDS]: /proc/PID gone altogether (reaped), so that
# the PID can be restored again.
wait_pid_free() {
	local i n=$((${2:-30} * 10))
	for ((i = 0; i < n; i++)); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.1
	done
	fail "pid $1 is still there ($(proc_state "$1")) after ${2:-30} s"
}

# wait_restored PID NTHREADS COMM [SECONDS]: a restore running in the
# background is done: PID has NTHREADS threads, is named COMM and none of its
# threads is traced any more.
wait_restored() {
	local i t ok n=$((${4:-60} * 10))
	for ((i = 0; i < n; i++)); do
		ok=1
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$3" ] || ok=0
		[ "$ok" = 1 ] && [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" = "$2" ] || ok=0
		if [ "$ok" = 1 ]; then
			for t in /proc/"$1"/task/*; do
				[ "$(awk '/^TracerPid:/ {print $2}' "$t/status" 2>/dev/null)" = 0 ] || ok=0
			done
		fi
		[ "$ok" = 1 ] && return 0
		sleep 0.1
	done
	fail "pid $1 was not restored in ${4:-60} s (comm '$(cat "/proc/$1/comm" 2>/dev/null)', $(ls "/proc/$1/task" 2>/dev/null | wc -l) threads)"
}

# maps_of PID: /proc/PID/maps as address ranges with protections and paths,
# adjacent ranges the kernel may or may not merge joined, shmem inode numbers
# dropped (a restored shared anonymous mapping is a new one).
maps_of() {
	python3 - "/proc/$1/maps" <<'PYEOF'
import sys
out = []
for line in open(sys.argv[1]):
    f = line.split(None, 5)
    a, b = (int(x, 16) for x in f[0].split("-"))
    perms, off, path = f[1], int(f[2], 16), (f[5].strip() if len(f) > 5 else "")
    anon = path == "" or path.startswith("/dev/zero") or path.startswith("/SYSV")
    if out and out[-1][1] == a and out[-1][2] == perms and out[-1][4] == path and \
            (anon or out[-1][3] + (out[-1][1] - out[-1][0]) == off):
        out[-1][1] = b
        continue
    out.append([a, b, perms, off, path])
for a, b, perms, off, path in out:
    print("%x-%x %s %x %s" % (a, b, perms, off if not (path == "" or path.startswith("/dev/zero")) else 0, path))
PYEOF
}

# read_mem PID ADDR LEN OUT: LEN bytes at ADDR of PID, through /proc/PID/mem
# (whatever the protection), to the file OUT.
read_mem() {
	python3 -c '
import sys
with open("/proc/%s/mem" % sys.argv[1], "rb", buffering=0) as m, open(sys.argv[4], "wb") as o:
    m.seek(int(sys.argv[2], 0))
    want = int(sys.argv[3])
    while want:
        b = m.read(min(want, 1 << 20))
        if not b:
            sys.exit("short read")
        o.write(b)
        want -= len(b)
' "$@"
}

# --- the state checker (tests/tools/statecheck.py) ---
STATECHECK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools/statecheck.py

# state_record PID FILE: what can be seen of PID's kernel state, to FILE;
# sdump's own uffd-wp tracking (after a pre-dump) left out, as a dump
# leaves it out.
state_record() {
	python3 "$STATECHECK" record "$1" -o "$2" --tracked || fail "statecheck cannot record pid $1"
}

# state_check PID FILE [KEY...]: PID's state now is the one recorded in
# FILE, but for the KEYs given (prefixes of statecheck's dotted keys, for
# differences known and being fixed: say which in a comment); fails with
# one line per difference.
state_check() {
	local pid=$1 file=$2 k args=()
	shift 2
	for k in "$@"; do args+=(--ignore "$k"); done
	python3 "$STATECHECK" check "$pid" "$file" "${args[@]}" >"$WORK/statecheck.out" 2>&1 ||
		fail "the state of pid $pid differs from before the dump:
$(cat "$WORK/statecheck.out")"
}

# --- images compared ---

# same_image_memory A B: every VMA of image A reads the same through
# extract in image B (the same exit status, the same bytes).
same_image_memory() {
	local a=$1 b=$2 n=0 start end sa sb
	"$SDUMP" show --json -D "$a" >"$WORK/show.json" || fail "show $a"
	while read -r start end; do
		sa=0 sb=0
		"$SDUMP" extract -D "$a" --addr "$start" --len $((end - start)) -o "$WORK/xa" 2>"$WORK/xa.err" || sa=$?
		"$SDUMP" extract -D "$b" --addr "$start" --len $((end - start)) -o "$WORK/xb" 2>"$WORK/xb.err" || sb=$?
		[ "$sa" = "$sb" ] || fail "extract of $start-$end: $a exits $sa, $b exits $sb: $(cat "$WORK/xa.err" "$WORK/xb.err")"
		if [ "$sa" = 0 ]; then
			cmp -s "$WORK/xa" "$WORK/xb" || fail "$start-$end differs between $a and $b"
			n=$((n + 1))
		fi
	done < <(python3 -c 'import json,sys; [print(v["start"], v["end"]) for v in json.load(open(sys.argv[1]))["vmas"]]' "$WORK/show.json")
	[ "$n" -gt 10 ] || fail "only $n VMAs compared"
	rm -f "$WORK/xa" "$WORK/xb"
}

# --- migration (t100, t101, t13x) ---

# mig_netns: a second "host" for a migration on this machine: a network
# namespace joined to ours by a veth pair (made here, removed at exit),
# MIG_HOST our address on it and MIG_PEER the other end's. mig_dest CMD...
# runs CMD there, in new PID and mount namespaces too (/proc of its own),
# so that a process restored there gets its dumped PID.
mig_netns() {
	command -v ip >/dev/null || skip "needs ip (iproute2) for the network namespace"
	command -v unshare >/dev/null || skip "needs unshare (util-linux)"
	local n=$(($$ % 200 + 20))
	MIG_NS=sdmig$$
	MIG_VETH=sdm$$
	MIG_HOST=10.213.$n.1
	MIG_PEER=10.213.$n.2
	ip netns add "$MIG_NS" || skip "cannot make a network namespace"
	MIG_CLEANUP+=("ip netns del $MIG_NS")
	ip link add "${MIG_VETH}h" type veth peer name "${MIG_VETH}n" || skip "cannot make a veth pair"
	MIG_CLEANUP+=("ip link del ${MIG_VETH}h")
	ip link set "${MIG_VETH}n" netns "$MIG_NS"
	ip addr add "$MIG_HOST/24" dev "${MIG_VETH}h"
	ip link set "${MIG_VETH}h" up
	ip netns exec "$MIG_NS" ip addr add "$MIG_PEER/24" dev "${MIG_VETH}n"
	ip netns exec "$MIG_NS" ip link set "${MIG_VETH}n" up
	ip netns exec "$MIG_NS" ip link set lo up
	trap 'mig_cleanup; cleanup' EXIT
}
MIG_CLEANUP=()
mig_cleanup() {
	local i
	for ((i = ${#MIG_CLEANUP[@]} - 1; i >= 0; i--)); do
		${MIG_CLEANUP[i]} 2>/dev/null || true
	done
}
mig_dest() {
	ip netns exec "$MIG_NS" unshare -p -f -m --mount-proc "$@"
}

# mig_wait_listen PORT [LOG]: a receiver in the namespace listens on PORT (else fail, with LOG)
mig_wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$MIG_NS" ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	fail "the receiver does not listen on $1: $(cat "${2:-/dev/null}" 2>/dev/null)"
}

# mig_certs DIR: a CA and certificates for a receiver (for MIG_PEER and
# 127.0.0.1) and a sender in DIR (ca.pem, recv.pem/key, send.pem/key), and
# a sender's certificate signed by another CA (other.pem/key).
mig_certs() {
	command -v certtool >/dev/null || skip "needs certtool (gnutls-bin) for the test certificates"
	local d=$1 c
	mkdir -p "$d"
	printf 'cn = "sdump test CA"\nca\ncert_signing_key\nexpiration_days = 2\n' >"$d/ca.tmpl"
	printf 'cn = "receiver"\nip_address = "127.0.0.1"\nip_address = "%s"\ntls_www_server\nsigning_key\nexpiration_days = 2\n' \
		"${MIG_PEER:-127.0.0.1}" >"$d/recv.tmpl"
	printf 'cn = "sender"\ntls_www_client\nsigning_key\nexpiration_days = 2\n' >"$d/send.tmpl"
	cp "$d/send.tmpl" "$d/other.tmpl"
	for c in ca ca2 recv send other; do
		certtool --generate-privkey --key-type=ecdsa --outfile "$d/$c.key" >/dev/null 2>&1 ||
			fail "certtool cannot make a key"
	done
	for c in ca ca2; do
		certtool --generate-self-signed --load-privkey "$d/$c.key" --template "$d/ca.tmpl" \
			--outfile "$d/$c.pem" >/dev/null 2>&1 || fail "certtool cannot make a CA"
	done
	for c in recv send other; do
		local ca=ca
		[ "$c" = other ] && ca=ca2
		certtool --generate-certificate --load-privkey "$d/$c.key" --load-ca-certificate "$d/$ca.pem" \
			--load-ca-privkey "$d/$ca.key" --template "$d/$c.tmpl" --outfile "$d/$c.pem" >/dev/null 2>&1 ||
			fail "certtool cannot make the certificate $c"
	done
}

# mig_status FILE: migtarget's status line, its fields as MS[key]
declare -A MS
mig_status() {
	local line f
	MS=()
	line=$(cat "$1" 2>/dev/null) || return 1
	MS[state]=${line%% *}
	for f in ${line#* }; do MS[${f%%=*}]=${f#*=}; done
}

# mig_swept FILE: the migtarget with status FILE checks all its memory twice more, finding it right
mig_swept() {
	local i s0
	mig_status "$1" || fail "no status in $1"
	s0=${MS[sweeps]}
	for ((i = 0; i < 100; i++)); do
		mig_status "$1"
		[ "${MS[state]}" = ok ] || fail "$1: memory found wrong: $(cat "$1")"
		[ "${MS[sweeps]}" -ge $((s0 + 2)) ] && return 0
		sleep 0.1
	done
	fail "$1: does not sweep its memory: $(cat "$1")"
}

# mig_copies FILE: how many processes run migtarget with status FILE (on
# this host, whatever their PID namespace) into MIG_NCOPIES, their host
# pids in MIG_PIDS
mig_copies() {
	local p
	MIG_PIDS=()
	for p in $(pgrep -x migtarget); do
		[ "$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = Z ] && continue
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF -- "--status $1 " || continue
		MIG_PIDS+=("$p")
	done
	MIG_NCOPIES=${#MIG_PIDS[@]}
}
