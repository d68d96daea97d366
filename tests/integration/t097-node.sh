#!/bin/bash
# A real program: node with a setInterval timer and fs.watch on a
# directory. libuv waits in epoll, wakes its loop through eventfds, and
# fs.watch is an inotify; node also holds pipes of its own. Dumped,
# restored, compared with statecheck, and seen to go on working: the
# interval keeps firing every 100 ms, a file made in the directory is
# reported by fs.watch, the loop answers on its stdin.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
command -v node >/dev/null || skip "no node (apt-get install nodejs)"

mkdir "$WORK/watched"
cat >"$WORK/n.js" <<'EOF2'
const fs = require('fs');
let ticks = 0, seen = [];
setInterval(() => { ticks++; }, 100);
fs.watch(process.argv[2], (ev, name) => { seen.push(ev + ':' + name); });
let buf = '';
process.stdin.on('data', d => {
	buf += d;
	let i;
	while ((i = buf.indexOf('\n')) >= 0) {
		const line = buf.slice(0, i);
		buf = buf.slice(i + 1);
		if (line === 'state')
			console.log(ticks, seen.length ? seen.join(',') : '-');
		else if (line === 'exit')
			process.exit(0);
	}
});
console.log('ready', process.pid);
EOF2
rm -f "$WORK/target.in" "$WORK/target.out"
mkfifo "$WORK/target.in" "$WORK/target.out"
node "$WORK/n.js" "$WORK/watched" <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word pid <&8 || fail "node did not start: $(cat "$WORK/target.err")"
sleep 0.5
tcmd state
read -r t0 seen <<<"$REPLY"
[ "$t0" -ge 3 ] || fail "node's interval fired $t0 times in half a second"
# node's threads settle (libuv's pool, V8's workers) before the record
sleep 0.5
state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump of node: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
for k in epoll eventfd inotify; do
	grep -Eq "^  [0-9]+ +$k " "$WORK/show" || fail "node holds no $k: $(cat "$WORK/show")"
done
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore of node: $(cat "$WORK/err")"
assert_threads_running "$pid"
state_check "$pid" "$WORK/before.state"
tcmd state
read -r t1 seen <<<"$REPLY"
s0=$(date +%s%N)
sleep 1
tcmd state
read -r t2 seen <<<"$REPLY"
n=$((t2 - t1)) ms=$((($(date +%s%N) - s0) / 1000000))
[ "$n" -ge $((ms / 100 - 3)) ] && [ "$n" -le $((ms / 100 + 2)) ] ||
	fail "after the restore node's 100 ms interval fired $n times in $ms ms"
touch "$WORK/watched/new"
for ((i = 0; i < 50; i++)); do
	tcmd state
	case "$REPLY" in *rename:new*) break ;; esac
	sleep 0.1
done
case "$REPLY" in *rename:new*) ;; *) fail "fs.watch did not report the new file after the restore: $REPLY" ;; esac
echo "restored node: setInterval fires every 100 ms, fs.watch reports a new file"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
