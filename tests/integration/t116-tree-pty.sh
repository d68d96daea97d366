#!/bin/bash
# ptys across a process tree: a tmux server (its client outside: the
# server's tree alone is dumped) with a shell in a window running sleep in
# the foreground: the master is the server's, the slave the shell's and
# sleep's, the controlling terminal of the shell's session, sleep's group
# in the foreground. After the restore the members' state is the one
# recorded before the dump (statecheck: terminals, sessions, groups),
# Ctrl-C through tmux reaches sleep (the foreground group), and the shell
# answers commands typed with tmux send-keys, on the same terminal, its
# job control working. Then script(1) holding the master with its shell on
# the slave: the shell answers after the restore. A master whose slave a
# process outside the dump holds is refused (t105).
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v tmux >/dev/null || skip "no tmux"
command -v python3 >/dev/null || skip "no python3"
[ -c /dev/ptmx ] || skip "no /dev/ptmx"

S=$WORK/tmux.sock
tm() { env -i PATH=/usr/bin:/bin HOME="$WORK" TERM=xterm tmux -S "$S" -f /dev/null "$@"; }
# screen: the pane's text, its empty lines left out
screen() { tm capture-pane -p -t t | grep -v '^$' || true; }
# wait_screen RE: the pane shows a line matching RE within 10 s
wait_screen() {
	local i
	for ((i = 0; i < 100; i++)); do
		screen | grep -Eq "$1" && return 0
		sleep 0.1
	done
	fail "the pane does not show '$1': $(screen)"
}

# the server is started from a shell whose fds are only its own: nothing outside
tm new-session -d -s t -x 100 -y 30 'bash --norc --noprofile' </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
srv=$(tm display -p '#{pid}')
[ -n "$srv" ] || fail "no tmux server"
TARGET_PIDS+=("$srv")
tm send-keys -t t 'PS1="sh> "; echo before-$((6*7)); tty' Enter
wait_screen '^before-42$'
tty_before=$(screen | grep '^/dev/pts/' | tail -n1)
tm send-keys -t t 'sleep 1000' Enter
for ((i = 0; i < 100; i++)); do
	sh=$(cat "/proc/$srv/task/$srv/children")
	sh=${sh%% *}
	sl=$(cat "/proc/$sh/task/$sh/children" 2>/dev/null || true)
	sl=${sl%% *}
	[ -n "$sl" ] && [ "$(cat "/proc/$sl/comm")" = sleep ] && break
	sleep 0.05
done
[ -n "$sl" ] || fail "the shell runs no sleep"
TARGET_PIDS+=($sh $sl)
# settled: the shell waiting for sleep, the server for events
for ((i = 0; i < 100; i++)); do
	[ "$(cat "/proc/$sh/wchan")" = do_wait ] && [ "$(cat "/proc/$srv/wchan")" = do_epoll_wait ] && break
	sleep 0.05
done
for p in $srv $sh $sl; do state_record "$p" "$WORK/before.$p.state"; done
"$SDUMP" dump -t "$srv" -D "$WORK/d1" 2>"$WORK/err" || fail "dump of the tmux server: $(cat "$WORK/err")"
wait_gone "$srv"
for p in $srv $sh $sl; do wait_pid_free "$p"; done
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore of the tmux server: $(cat "$WORK/err")"
for p in $srv $sh $sl; do state_check "$p" "$WORK/before.$p.state"; done
tpgid=$(python3 -c 'import sys; s=open("/proc/%s/stat" % sys.argv[1]).read(); print(s[s.rindex(")")+2:].split()[5])' "$sh")
[ "$tpgid" = "$sl" ] || fail "the foreground group of the shell's terminal is $tpgid, not sleep's $sl"
tm send-keys -t t C-c
tm send-keys -t t 'echo sleep-ended-$?' Enter
wait_screen '^sleep-ended-130$'
tm send-keys -t t 'echo after-$((6*7)); tty' Enter
wait_screen '^after-42$'
tty_after=$(screen | grep '^/dev/pts/' | tail -n1)
[ "$tty_after" = "$tty_before" ] || fail "the shell's terminal is $tty_after, it was $tty_before"
tm send-keys -t t 'sleep 0.2 & wait; echo job-$?' Enter
wait_screen '^job-0$'
tm kill-server
wait_gone "$srv"
echo "tmux: the server and its shell restored, Ctrl-C reaches the foreground sleep, the shell answers on $tty_after"

# --- script(1): the master in script, its shell on the slave ---
command -v script >/dev/null || { echo ok; exit 0; }
mkfifo "$WORK/script.in"
exec 3<>"$WORK/script.in"
script -qfc 'bash --norc --noprofile -i' "$WORK/typescript" <"$WORK/script.in" >"$WORK/script.out" 2>&1 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
sc=$!
TARGET_PIDS+=("$sc")
echo 'echo before-$((7*6))' >&3
for ((i = 0; i < 100; i++)); do grep -q before-42 "$WORK/script.out" && break; sleep 0.1; done
grep -q before-42 "$WORK/script.out" || fail "script's shell does not answer: $(cat "$WORK/script.out")"
scsh=$(cat "/proc/$sc/task/$sc/children")
scsh=${scsh%% *}
for p in $sc $scsh; do state_record "$p" "$WORK/before.sc.$p.state"; done
"$SDUMP" dump -t "$sc" -D "$WORK/d2" 2>"$WORK/err" || fail "dump of script: $(cat "$WORK/err")"
wait_gone "$sc"
for p in $sc $scsh; do wait_pid_free "$p"; done
"$SDUMP" restore -D "$WORK/d2" -d 2>"$WORK/err" || fail "restore of script: $(cat "$WORK/err")"
for p in $sc $scsh; do state_check "$p" "$WORK/before.sc.$p.state"; done
echo 'echo after-$((7*6)); exit' >&3
for ((i = 0; i < 100; i++)); do grep -q after-42 "$WORK/script.out" && break; sleep 0.1; done
grep -q after-42 "$WORK/script.out" || fail "script's restored shell does not answer: $(tail -n5 "$WORK/script.out")"
wait_gone "$sc"
exec 3>&-
echo "script: its shell answers after the restore"
echo ok
