#!/bin/bash
# A process comes back in the cgroups it was in: one the test makes in the
# cgroup v2 hierarchy and, where v1 hierarchies are mounted, in one of them
# too; the state checker compares /proc/PID/cgroup, the process's and each
# thread's. --cgroup=PATH places it in another cgroup of every hierarchy,
# --cgroup=here leaves it in sdump's; a --cgroup=PATH no hierarchy has is
# refused. Once its cgroup is removed, a restore
# fails with one line naming the cgroup and the options, and leaves nothing.
# Threads in cgroups of their own (a threaded v2 cgroup, a v1 hierarchy's
# tasks) come back in them.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

v2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
[ -n "$v2" ] || skip "no cgroup v2 hierarchy mounted"
v1=$(findmnt -n -t cgroup -o TARGET | grep -E '/(pids|cpu|systemd)$' | head -n 1 || true)
name=sdump-t159-$$
dirs=()
for m in "$v2" $v1; do
	mkdir "$m/$name-a" "$m/$name-b" || fail "cannot make cgroups under $m"
	dirs+=("$m/$name-a" "$m/$name-b")
done
cgclean() {
	local d
	for d in "${dirs[@]}"; do rmdir "$d" 2>/dev/null || true; done
}
trap 'cleanup; cgclean' EXIT

# into_cg PID SUFFIX: PID (all its threads) into cgroup NAME-SUFFIX of each hierarchy
into_cg() {
	local m
	for m in "$v2" $v1; do echo "$1" >"$m/$name-$2/cgroup.procs"; done
}

start_target_quiet memtarget --mib 1 --threads 1
pid=$TPID
into_cg "$pid" a
grep -q "^0::.*/$name-a\$" "/proc/$pid/cgroup" || fail "the target is not in its cgroup: $(cat "/proc/$pid/cgroup")"
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/img" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10
# the image holds them as the dump read them (show --json)
"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json" || fail "show --json"
shown=$(json_get "$WORK/show.json" 'd["process"]["attrs"]["cgroup"]')
grep -q "^0::.*/$name-a\$" <<<"$shown" || fail "show --json has no cgroup of the target: $shown"

# restore R ARGS...: restored, detached, with ARGS; the process then killed by the caller
restore() {
	"$SDUMP" restore -D "$WORK/img" -d "$@" 2>"$WORK/restore.err" || fail "restore $*: $(cat "$WORK/restore.err")"
	TARGET_PIDS+=("$pid")
	assert_threads_running "$pid"
}
gone() {
	kill -KILL "$pid"
	wait_pid_free "$pid" 10
}

restore
state_check "$pid" "$WORK/before.state"
echo "restored into its cgroups: $(grep "$name" "/proc/$pid/cgroup" | tr '\n' ' ')"
gone

restore --cgroup="/$name-b"
for t in "/proc/$pid/task/"*; do
	n=$(grep -c "/$name-b\$" "$t/cgroup")
	[ "$n" = "$(echo "$v2" $v1 | wc -w)" ] || fail "--cgroup=/$name-b: thread ${t##*/} in $(cat "$t/cgroup")"
done
gone

expect_error "cannot restore pid $pid into the cgroup '/$name-none' of --cgroup: no cgroup hierarchy here has it" \
	"$SDUMP" restore -D "$WORK/img" -d --cgroup="/$name-none"
restore --cgroup=here
[ "$(sort "/proc/$pid/cgroup")" = "$(sort /proc/self/cgroup)" ] ||
	fail "--cgroup=here: in $(cat "/proc/$pid/cgroup"), sdump in $(cat /proc/self/cgroup)"
gone

rmdir "$v2/$name-a"
expect_error "cannot restore pid $pid into its cgroup '/$name-a' \(cgroup v2\): there is no such cgroup here .*--cgroup=PATH.*--cgroup=here" \
	"$SDUMP" restore -D "$WORK/img" -d
[ ! -e "/proc/$pid" ] || fail "the refused restore left pid $pid"
st=0
"$SDUMP" restore -D "$WORK/img" -d --cgroup=elsewhere 2>"$WORK/usage.err" || st=$?
[ "$st" = 2 ] && grep -q "bad --cgroup 'elsewhere'" "$WORK/usage.err" || fail "--cgroup=elsewhere: exit $st, $(cat "$WORK/usage.err")"

# threads in cgroups of their own: a threaded v2 cgroup, a v1 hierarchy's tasks
exec 7>&- 8<&-
mkdir "$v2/$name-p" "$v2/$name-p/t1" "$v2/$name-p/t2" || fail "cannot make threaded cgroups"
dirs=("$v2/$name-p/t1" "$v2/$name-p/t2" "$v2/$name-p" "${dirs[@]}")
echo threaded >"$v2/$name-p/t1/cgroup.type"
echo threaded >"$v2/$name-p/t2/cgroup.type"
start_target_quiet memtarget --mib 1 --threads 2
pid=$TPID
read -r -a tids <<<"$(tids_of "$pid")"
echo "$pid" >"$v2/$name-p/t1/cgroup.procs"
echo "${tids[1]}" >"$v2/$name-p/t2/cgroup.threads"
[ -z "$v1" ] || echo "${tids[2]}" >"$v1/$name-b/tasks"
grep -q "^0::/$name-p/t2\$" "/proc/$pid/task/${tids[1]}/cgroup" ||
	fail "thread ${tids[1]} not in its threaded cgroup: $(cat "/proc/$pid/task/${tids[1]}/cgroup")"
state_record "$pid" "$WORK/threads.state"
"$SDUMP" dump -t "$pid" -D "$WORK/img2" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
wait_gone "$pid"
wait_pid_free "$pid" 10
"$SDUMP" restore -D "$WORK/img2" -d 2>"$WORK/restore.err" || fail "restore: $(cat "$WORK/restore.err")"
TARGET_PIDS+=("$pid")
assert_threads_running "$pid"
state_check "$pid" "$WORK/threads.state"
echo "threads in cgroups of their own: restored into them ($(grep -h "$name" /proc/"$pid"/task/*/cgroup | sort -u | tr '\n' ' '))"
kill -KILL "$pid"
wait_pid_free "$pid" 10
