#!/bin/bash
# A migration with --compress-level auto fits each round to the connection:
# the same memory moved at --bandwidth 4M gets a higher zstd level than at
# --bandwidth 1G (where compressing costs more than sending raw), the
# received passes say the level and the rate they were fitted to, the
# slow one takes no longer than sending its pages raw would, and each
# image restores exact (memtarget's sum). Over loopback.
. "$(dirname "$0")/../lib.sh"
export TMPDIR=$WORK
PORT=$((7900 + $$ % 90))

start_target_quiet memtarget --mib 32 --dir "$WORK"
tcmd sum
sum0=${REPLY#ok }

# migrate NAME BW: the target moved into $WORK/NAME (received, not restored)
migrate() {
	local p=$((PORT + ${#1})) rpid
	"$SDUMP" receive -D "$WORK/$1" --listen "127.0.0.1:$p" 2>"$WORK/$1.recv" &
	rpid=$!
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$p" | grep -q . && break
		sleep 0.1
	done
	"$SDUMP" -v migrate -t "$TPID" --to "127.0.0.1:$p" --bandwidth "$2" --max-rounds 1 \
		--compress-level auto --json >"$WORK/$1.json" 2>"$WORK/$1.err" ||
		fail "migrate at $2: $(cat "$WORK/$1.err")"
	wait "$rpid" || fail "receive: $(cat "$WORK/$1.recv")"
	wait "$TPID" 2>/dev/null || true
	wait_pid_free "$TPID"
	"$SDUMP" show -D "$WORK/$1/1" --json >"$WORK/$1.show" || fail "show of $1"
}
# restored NAME: the received image restores with the memory dumped
restored() {
	# (fds 7 and 8 stay open: the restored target reopens its FIFOs)
	"$SDUMP" restore -D "$WORK/$1/1" -d --shell-job 2>"$WORK/$1.rst" ||
		fail "restore of $1: $(cat "$WORK/$1.rst")"
	tcmd sum
	[ "${REPLY#ok }" = "$sum0" ] || fail "the process restored from $1 has not the memory moved"
}
st() { json_get "$WORK/$1.show" "d['stats']['$2']"; }

migrate slow 4M
restored slow
migrate fast 1G
restored fast
echo exit >&7
wait_gone "$TPID"

slow=$(st slow compress_level)
fast=$(st fast compress_level)
echo "4M: level $slow ($(st slow compress_level_min) to $(st slow compress_level_max)), $(st slow bytes_written) bytes"
echo "1G: level $fast ($(st fast compress_level_min) to $(st fast compress_level_max)), $(st fast bytes_written) bytes"
[ "$slow" -gt "$fast" ] || fail "level $slow at 4M, $fast at 1G"
# migrate --json says each round's levels too
for n in slow fast; do
	[ "$(json_get "$WORK/$n.json" "d['round'][0]['compress_level']")" = "$(st $n compress_level)" ] ||
		fail "migrate --json's level of $n: $(cat "$WORK/$n.json")"
done
[ "$slow" -ge 1 ] || fail "level $slow at 4M: no higher than the default"
[ "$(st slow sink_rate)" = $((4 << 20)) ] || fail "fitted to $(st slow sink_rate) B/s, not 4M"
[ "$(st fast sink_rate)" = $((1 << 30)) ] || fail "fitted to $(st fast sink_rate) B/s, not 1G"
[ "$(st slow bytes_written)" -lt "$(st fast bytes_written)" ] || fail "the 4M image is not the smaller"
grep -q "compress level auto: $slow .*the sink 4.0 MiB/s" "$WORK/slow.err" || fail "-v: $(cat "$WORK/slow.err")"
# made and sent within the time the raw pages take at 4M (and a second for the rest)
raw_us=$(($(st slow pages_written) * 4096 * 1000000 / (4 << 20)))
total=$(json_get "$WORK/slow.json" "d['total_us']")
[ "$total" -le $((raw_us + 1000000)) ] || fail "the migration at 4M took $total us, raw $raw_us us"
echo ok
