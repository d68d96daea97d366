#!/bin/bash
# nginx, a program nobody here wrote, as a process tree: a master and two
# workers sharing a listening socket and shared memory, each worker's
# channel to the master an fd whose I/O signals (F_SETOWN) go to the master,
# another member of the tree. Pre-dumped while serving, dumped, restored:
# every member comes back with its pid and state, the owners as they were,
# it serves again, reloads (SIGHUP: the master starts new workers and ends
# the old ones over their channels) and shuts down gracefully (SIGQUIT).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/members.sh"
export SDUMP_STATE_DIR="$WORK/state"
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || skip "no nginx"
command -v curl >/dev/null || skip "no curl"
PORT=18470

mkdir -p "$WORK/ng/logs"
cat >"$WORK/ng/nginx.conf" <<NGEOF
worker_processes 2;
pid $WORK/ng/nginx.pid;
error_log $WORK/ng/logs/error.log;
daemon off;
events { worker_connections 64; }
http {
	access_log $WORK/ng/logs/access.log;
	client_body_temp_path $WORK/ng; proxy_temp_path $WORK/ng; fastcgi_temp_path $WORK/ng;
	uwsgi_temp_path $WORK/ng; scgi_temp_path $WORK/ng;
	limit_req_zone \$binary_remote_addr zone=z:1m rate=1000r/s;
	server {
		listen 127.0.0.1:$PORT;
		location / { limit_req zone=z burst=100; return 200 "pid \$pid\n"; }
	}
}
NGEOF
serves() { # a few requests answered (by the workers)
	local i
	for ((i = 0; i < ${1:-50}; i++)); do
		curl -s -m 2 "http://127.0.0.1:$PORT/" >>"$WORK/answers" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
workers_of() { cat "/proc/$1/task/$1/children"; }

setsid "$NGINX" -p "$WORK/ng" -c "$WORK/ng/nginx.conf" </dev/null >"$WORK/ng/out" 2>&1 &
MASTER=$!
TARGET_PIDS+=("$MASTER")
serves || fail "nginx does not answer: $(cat "$WORK/ng/logs/error.log")"
for ((i = 0; i < 50; i++)); do
	[ "$(workers_of "$MASTER" | wc -w)" = 2 ] && break
	sleep 0.1
done
mapfile -t MEMBERS < <(tree_members "$MASTER")
[ "${#MEMBERS[@]}" = 3 ] || fail "nginx is not a master and two workers: ${MEMBERS[*]}"
TARGET_PIDS+=("${MEMBERS[@]}")

"$SDUMP" pre-dump -t "$MASTER" -D "$WORK/p1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
serves || fail "nginx does not answer after the pre-dump"
for p in "${MEMBERS[@]}"; do state_record "$p" "$WORK/state.$p"; done
"$SDUMP" dump -t "$MASTER" -D "$WORK/d" --parent "$WORK/p1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait "$MASTER" 2>/dev/null || true
for p in "${MEMBERS[@]}"; do wait_pid_free "$p"; done

# the workers' channels: their I/O signals go to the master
owners() {
	local p
	for p in "${MEMBERS[@]}"; do
		"$SDUMP" show -D "$1/pid-$p" --json >"$WORK/show.json" || fail "show of member $p"
		json_get "$WORK/show.json" "sorted((x['fd'], x['owner']['type'], x['owner']['pid']) for x in d['files'] if x['owner']['pid'])"
	done
}
owners "$WORK/d" >"$WORK/owners.dump"
grep -q "$MASTER" "$WORK/owners.dump" || fail "no fd of a worker sends its signals to the master: $(cat "$WORK/owners.dump")"

"$SDUMP" restore -D "$WORK/d" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
for p in "${MEMBERS[@]}"; do
	[ -e "/proc/$p" ] || fail "member $p is not there after the restore"
	assert_running "$p"
	state_check "$p" "$WORK/state.$p"
done
: >"$WORK/answers"
for i in 1 2 3 4 5 6; do serves || fail "the restored nginx does not answer"; done
grep -q "^pid ${MEMBERS[1]}$\|^pid ${MEMBERS[2]}$" "$WORK/answers" || fail "no restored worker answered: $(sort -u "$WORK/answers")"
echo "restored: a master and two workers with their pids, serving"

# the owners as they were: a dump of the restored tree (left running) says the same
"$SDUMP" dump -R -t "$MASTER" -D "$WORK/d2" 2>"$WORK/err" || fail "dump -R of the restored nginx: $(cat "$WORK/err")"
owners "$WORK/d2" >"$WORK/owners.again"
diff "$WORK/owners.dump" "$WORK/owners.again" >&2 || fail "the fds' owners differ after the restore"

# a reload: new workers started by the master, the old ones ended over their channels
kill -HUP "$MASTER"
for ((i = 0; i < 100; i++)); do
	now=$(workers_of "$MASTER")
	[ -e "/proc/${MEMBERS[1]}" ] || [ -e "/proc/${MEMBERS[2]}" ] || break
	sleep 0.1
done
[ -e "/proc/${MEMBERS[1]}" ] || [ -e "/proc/${MEMBERS[2]}" ] && fail "the old workers did not end at the reload"
TARGET_PIDS+=($now)
[ "$(echo $now | wc -w)" = 2 ] || fail "the master has not two new workers after the reload: $now"
: >"$WORK/answers"
serves || fail "nginx does not answer after the reload"
echo "reloaded: new workers, the old ones ended"

kill -QUIT "$MASTER"
wait_gone "$MASTER" 20
echo "shut down gracefully"

# as a job of ours (restore -j): the master, which led its session, stays in ours, its group its own
# (its access log has grown since d2: allowed)
for p in "${MEMBERS[@]}"; do wait_pid_free "$p"; done
"$SDUMP" restore -D "$WORK/d2" -d -j --file-changed allow 2>"$WORK/err" || fail "restore -j of a tree whose root led its session: $(cat "$WORK/err")"
[ "$(ps -o sid= -p "$MASTER" | tr -d ' ')" = "$(ps -o sid= -p $$ | tr -d ' ')" ] ||
	fail "restore -j: the master is in session $(ps -o sid= -p "$MASTER"), not ours"
for p in "${MEMBERS[@]}"; do
	[ "$(ps -o pgid= -p "$p" | tr -d ' ')" = "$MASTER" ] || fail "restore -j: pid $p is not in the master's group"
done
: >"$WORK/answers"
serves || fail "nginx restored with -j does not answer"
kill -QUIT "$MASTER"
wait_gone "$MASTER" 20
echo "restored as a job of ours (-j): serving"
