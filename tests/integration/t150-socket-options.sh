#!/bin/bash
# Socket options and states across a dump and a restore (sockopttarget):
# every option of a long list (SOL_SOCKET, IP, IPv6, TCP, UDP; SO_LINGER,
# SO_BINDTODEVICE, SO_DONTROUTE, SO_BUF_LOCK, SO_MAX_PACING_RATE, a locked
# classic filter, TCP_CONGESTION) read back as it was; UDP sockets bound
# with IP_FREEBIND and IPV6_FREEBIND to addresses of no interface (set
# before bind(); and two with it turned off after the bind, bound with it
# again, which the restore says); a TCP listener without SO_REUSEADDR whose port a
# TIME_WAIT socket of its own connection holds, listening again; UDP
# sockets shut down each way; an empty UDP datagram and empty unix
# datagram and seqpacket messages kept in their queues; unix socketpairs
# of the three types shut down in every combination of both ends, and
# with one end closed, and a stream socket whose peer closed with bytes
# unread (ECONNRESET not read yet), reading, writing and polling as new
# ones made alike do. Then an established TCP connection whose ends both wrote
# megabytes the other did not read (dump --tcp-established): both read
# every byte after the restore.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"

start_target_quiet sockopttarget
pid=$TPID
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
# the two sockets bound with IP_FREEBIND then turned off are bound with it
# again (zdtm's sk-freebind-false: the restore failed, EADDRNOTAVAIL), said so
grep -v "warning: .*pid $pid: its IPv4 UDP socket is bound to 192.0.2.8:[0-9]* with IP_FREEBIND: that is no address of this host now" "$WORK/err" |
	grep -v "warning: .*pid $pid: its IPv6 UDP socket is bound to \[2001:db8::8\]:[0-9]* with IP_FREEBIND: that is no address of this host now" >"$WORK/err.other" || true
[ -s "$WORK/err.other" ] && fail "restore said: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/err")" = 2 ] || fail "restore did not say which sockets it bound with IP_FREEBIND: $(cat "$WORK/err")"
assert_threads_running "$pid"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: every option, shutdown and empty message as it was, the listener's port free again"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

rm -f "$WORK/target.in" "$WORK/target.out"
mkfifo "$WORK/target.in" "$WORK/target.out"
"$TARGETS_DIR/sockopttarget" --tcpbuf <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word pid sent0 sent1 <&8 || fail "sockopttarget --tcpbuf did not start: $(cat "$WORK/target.err")"
[ "$word" = ready ] || fail "sockopttarget --tcpbuf: '$word'"
[ "$sent0" -gt 4000000 ] && [ "$sent1" -gt 4000000 ] || fail "only $sent0 and $sent1 bytes queued"
"$SDUMP" dump -t "$pid" -D "$WORK/d2" --tcp-established 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" restore -D "$WORK/d2" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: a TCP connection with $sent0 and $sent1 bytes queued each way, read whole"
echo exit >&7
wait_gone "$pid"
echo ok
