#!/bin/bash
# Real programs as trees, dumped mid-work and restored, and their work
# finishes as if nothing happened:
#   - gcc -c of a generated C file, dumped while cc1 writes its assembly to
#     a temporary file (gcc -> cc1; as runs after the restore);
#   - gcc -pipe compiling and linking, dumped with cc1 writing into the pipe
#     as reads (gcc -> cc1 | as; collect2 and ld after the restore);
#   - make -j2 building a generated project of several files, dumped with
#     two compilers running (make's jobserver pipe shared by all, its
#     children's cc1 writing temporary files).
# Each tree is stopped (SIGSTOP to every member) so that its state can be
# recorded (make is sent a SIGCHLD then, which stays pending until the
# SIGCONT, and must come back pending, its handler not entered), dumped,
# restored stopped, checked member by member against the record (the
# parent of a stopped child must not get the SIGCHLD of the restore's own
# stop: it had none), then continued (SIGCONT). The objects
# it makes must be those of the same compile left alone, byte for byte, and
# the programs must run.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v gcc >/dev/null && command -v make >/dev/null || skip "no gcc or make"
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"

IGNORE=()
# big sizes: a few seconds of cc1 each; quick: about one
NFUN=300 NFILES=6 NPER=150
[ -n "${SDUMP_QUICK:-}" ] && NFUN=160 NFILES=4 NPER=90

# gen_c FILE PREFIX N MAIN: N functions, and main() (MAIN=1) or a sum PREFIX_all()
gen_c() {
	python3 - "$@" <<'PYEOF'
import sys
path, pre, n, main = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
with open(path, "w") as f:
    for i in range(n):
        f.write("int %s_%d(int x){int s=0;for(int k=0;k<x;k++){s+=k*%d^(s>>3);if(s%%7==%d)s-=x;}return s+%d;}\n"
                % (pre, i, i, i % 7, i))
    f.write("#include <stdio.h>\n")
    f.write("long %s_all(void){long t=0;\n" % pre if not main else "int main(void){long t=0;\n")
    for i in range(0, n, 5):
        f.write("t+=%s_%d(7);\n" % (pre, i))
    f.write('printf("%ld\\n",t);return 0;}\n' if main else "return t;}\n")
PYEOF
}

members() {
	local q=("$1") i=0 p t c
	while [ "$i" -lt "${#q[@]}" ]; do
		p=${q[$i]}
		echo "$p"
		for t in /proc/"$p"/task/*; do
			for c in $(cat "$t/children" 2>/dev/null); do q+=("$c"); done
		done
		i=$((i + 1))
	done
}
# count_comm ROOT COMM: how many members of ROOT's tree are named COMM
count_comm() {
	local p n=0
	for p in $(members "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && n=$((n + 1))
	done
	echo "$n"
}
# wait_comm ROOT COMM N: the tree has N members named COMM (else it ended first)
wait_comm() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(count_comm "$1" "$2")" -ge "$3" ] && return 0
		[ -e "/proc/$1" ] || break
		sleep 0.05
	done
	fail "$1 never had $3 $2 processes at once (done already? $(members "$1" | tr '\n' ' '))"
}
# sigchld_pending PID: SIGCHLD is pending for the whole process (ShdPnd)
sigchld_pending() {
	local m
	m=$(awk '/^ShdPnd:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$m" ] && (((0x$m >> 16) & 1))
}
# stop_tree ROOT: every member stopped, again until no member is new (a fork
# raced); once each (a second SIGSTOP would stay queued until the SIGCONT);
# children before their parents. A parent stopped before it took the
# SIGCHLD of its children's stop (make's handler) has it pending: it must
# come back pending, not delivered (PENDING counts those members)
stop_tree() {
	local prev='' cur p i k
	for ((i = 0; i < 50; i++)); do
		mapfile -t MEMBERS < <(members "$1")
		cur="${MEMBERS[*]}"
		for ((k = ${#MEMBERS[@]} - 1; k >= 0; k--)); do
			p=${MEMBERS[$k]}
			[ "$(proc_state "$p")" = T ] || kill -STOP "$p" 2>/dev/null || true
			sleep 0.02
		done
		sleep 0.1
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
	for p in "${MEMBERS[@]}"; do
		for ((i = 0; i < 100; i++)); do
			[ "$(proc_state "$p")" = T ] && break
			sleep 0.02
		done
		[ "$(proc_state "$p")" = T ] || fail "member $p did not stop ($(proc_state "$p"))"
	done
	PENDING=0
	for p in "${MEMBERS[@]}"; do
		if sigchld_pending "$p"; then PENDING=$((PENDING + 1)); fi
	done
}
proc_state() { awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo gone; }

# tree_cycle NAME ROOT: the stopped tree recorded, dumped, restored stopped,
# checked, continued; then waits until ROOT has ended
tree_cycle() {
	local name=$1 root=$2 p i
	stop_tree "$root"
	# CHLD_ROOT=1: the stopped root is sent a SIGCHLD, pending then, its handler set
	if [ -n "${CHLD_ROOT:-}" ]; then
		kill -CHLD "$root"
		sigchld_pending "$root" || fail "$name: the stopped $root has no SIGCHLD pending"
		PENDING=$((PENDING + 1))
	fi
	TARGET_PIDS+=("${MEMBERS[@]}")
	for p in "${MEMBERS[@]}"; do state_record "$p" "$WORK/$name.state.$p"; done
	"$SDUMP" dump -t "$root" -D "$WORK/$name.img" 2>"$WORK/err" || fail "dump of $name: $(cat "$WORK/err")"
	wait "$root" 2>/dev/null || true
	for p in "${MEMBERS[@]}"; do wait_pid_free "$p"; done
	"$SDUMP" restore -D "$WORK/$name.img" -d 2>"$WORK/err" || fail "restore of $name: $(cat "$WORK/err")"
	for p in "${MEMBERS[@]}"; do
		[ -e "/proc/$p" ] || fail "$name: member $p is not there after the restore"
		[ "$(proc_state "$p")" = T ] || fail "$name: member $p is not stopped after the restore ($(proc_state "$p"))"
		[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status")" = 0 ] || fail "$name: member $p is still traced"
	done
	state_check "$root" "$WORK/$name.state.$root" "${IGNORE[@]}"
	for p in "${MEMBERS[@]:1}"; do state_check "$p" "$WORK/$name.state.$p"; done
	kill -CONT "${MEMBERS[@]}"
	for ((i = 0; i < 1200; i++)); do
		[ -e "/proc/$root" ] || break
		sleep 0.1
	done
	[ ! -e "/proc/$root" ] || fail "$name: the restored $root does not end ($(proc_state "$root"))"
}

# --- gcc -c, cc1 writing its temporary .s ---
mkdir -p "$WORK/c" && cd "$WORK/c"
gen_c big.c f "$NFUN" 1
gcc -O2 -c big.c -o ref.o || fail "gcc does not compile the generated file"
gcc -O2 -c big.c -o big.o </dev/null >gcc.log 2>&1 &
root=$!
wait_comm "$root" cc1 1
sleep 0.3
ls "$TMPDIR"/cc*.s >/dev/null 2>&1 || fail "cc1 writes no temporary file in $TMPDIR"
tree_cycle gcc "$root"
[ -s big.o ] || fail "the restored gcc left no object: $(cat gcc.log)"
cmp -s ref.o big.o || fail "the object of the restored gcc differs from the one of the compile left alone"
nm big.o | grep -q ' T main$' || fail "the object has no main"
gcc big.o -o big && [ "$(./big)" = "$(gcc ref.o -o ref && ./ref)" ] || fail "the program of the restored compile prints $(./big) against $(./ref)"
[ -z "$(ls "$TMPDIR")" ] || fail "gcc's temporary files are left: $(ls "$TMPDIR")"
echo "gcc -c: dumped in cc1 (${#MEMBERS[@]} processes), restored, the object is the same ($PENDING with SIGCHLD pending)"

# --- gcc -pipe: cc1 | as, then the link ---
gcc -O2 -pipe big.c -o ref2 || fail "gcc -pipe does not build"
gcc -O2 -pipe big.c -o prog </dev/null >gcc2.log 2>&1 &
root=$!
wait_comm "$root" as 1
wait_comm "$root" cc1 1
sleep 0.3
tree_cycle pipe "$root"
[ -x prog ] || fail "the restored gcc -pipe built no program: $(cat gcc2.log)"
[ "$(./prog)" = "$(./ref2)" ] || fail "the program of the restored gcc -pipe prints $(./prog) against $(./ref2)"
cmp -s prog ref2 || fail "the program of the restored gcc -pipe differs from the one of the build left alone"
echo "gcc -pipe: dumped with cc1 writing to as (${#MEMBERS[@]} processes), restored, the program is the same ($PENDING with SIGCHLD pending)"

# --- make -j2 ---
mkdir -p "$WORK/m" && cd "$WORK/m"
objs=""
for ((j = 0; j < NFILES; j++)); do
	gen_c "m$j.c" "m$j" "$NPER" 0
	objs="$objs m$j.o"
done
{
	echo '#include <stdio.h>'
	for ((j = 0; j < NFILES; j++)); do echo "long m${j}_all(void);"; done
	echo 'int main(void){long t=0;'
	for ((j = 0; j < NFILES; j++)); do echo "t+=m${j}_all();"; done
	echo 'printf("%ld\n",t);return 0;}'
} >main.c
printf 'prog: main.o%s\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O2 -c $< -o $@\n' "$objs" >Makefile
make -s -j2 >/dev/null 2>&1 || fail "the generated project does not build"
mkdir ref && mv ./*.o prog ref/
make -j2 </dev/null >make.log 2>&1 &
root=$!
wait_comm "$root" cc1 2
sleep 0.2
[ -n "$(ls -l "/proc/$root/fd" | grep pipe)" ] || fail "make -j2 holds no jobserver pipe"
# make stopped in pselect6() shows that call's temporary mask (nothing
# blocked) until the call returns; the restored make is stopped before the
# call starts again, with the mask around it (SIGCHLD blocked), which the
# call puts back when it ends: the same once it runs
IGNORE=(threads.leader.SigBlk)
CHLD_ROOT=1 tree_cycle make "$root"
IGNORE=()
[ -x prog ] || fail "the restored make built no program: $(cat make.log)"
[ "$(./prog)" = "$(ref/prog)" ] || fail "the program the restored make built prints $(./prog) against $(ref/prog)"
for o in main.o $objs; do
	cmp -s "$o" "ref/$o" || fail "$o of the restored make differs from the one of the build left alone"
done
grep -q "Error\|warning: jobserver" make.log && fail "make complained: $(cat make.log)"
echo "make -j2: dumped with two compilers running (${#MEMBERS[@]} processes), restored, $NFILES+1 objects the same, the program runs ($PENDING with SIGCHLD pending)"
