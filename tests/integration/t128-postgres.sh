#!/bin/bash
# PostgreSQL, a program nobody here wrote, as a process tree: the
# postmaster and its workers (checkpointer, background writer, WAL writer,
# autovacuum and replication launchers), a System V segment they all
# attach, shared anonymous memory, latches, a unix and a TCP listener.
# Pre-dumped while a client writes, dumped, restored: every member comes
# back with its pid, the rows written before the dump are there, new
# clients connect and write, and a fast shutdown (SIGINT to the
# postmaster) ends every member cleanly.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/members.sh"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/postgres" ] || skip "no postgresql"
command -v psql >/dev/null || skip "no psql"
id nobody >/dev/null 2>&1 || skip "no user nobody"
PORT=18471

chmod 711 "$WORK"
mkdir -p "$WORK/pg"
chown nobody "$WORK/pg"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
sql() { as_nobody psql -h 127.0.0.1 -p "$PORT" -d postgres -Atqc "$1"; }
as_nobody "$PGBIN/initdb" -D "$WORK/pg/data" >"$WORK/initdb.log" 2>&1 || fail "initdb: $(tail -3 "$WORK/initdb.log")"
setsid setpriv --reuid=nobody --regid=nogroup --clear-groups "$PGBIN/postgres" -D "$WORK/pg/data" -p "$PORT" \
	-k "$WORK/pg" -c listen_addresses=127.0.0.1 </dev/null >"$WORK/pg.log" 2>&1 &
PM=$!
TARGET_PIDS+=("$PM")
for ((i = 0; i < 100; i++)); do
	sql "select 1" >/dev/null 2>&1 && break
	sleep 0.1
done
sql "create table t (n int)" || fail "postgres does not answer: $(tail -3 "$WORK/pg.log")"
sql "insert into t select generate_series(1, 1000)"
grep -q SYSV "/proc/$PM/maps" || fail "the postmaster attaches no System V segment"
mapfile -t MEMBERS < <(tree_members "$PM")
[ "${#MEMBERS[@]}" -ge 5 ] || fail "postgres is not a tree of five: ${MEMBERS[*]}"
TARGET_PIDS+=("${MEMBERS[@]}")

"$SDUMP" pre-dump -t "$PM" -D "$WORK/p1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
sql "insert into t select generate_series(1001, 2000)"
sql "checkpoint"
"$SDUMP" dump -t "$PM" -D "$WORK/d" --parent "$WORK/p1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait "$PM" 2>/dev/null || true
for p in "${MEMBERS[@]}"; do wait_pid_free "$p"; done

"$SDUMP" restore -D "$WORK/d" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
for p in "${MEMBERS[@]}"; do
	[ -e "/proc/$p" ] || fail "member $p is not there after the restore"
	assert_running "$p"
done
[ "$(sql "select count(*), sum(n) from t")" = "2000|2001000" ] || fail "the rows after the restore: $(sql "select count(*), sum(n) from t")"
sql "insert into t select generate_series(2001, 3000)"
sql "checkpoint"
[ "$(sql "select count(*) from t")" = 3000 ] || fail "the rows written after the restore"
echo "restored: ${#MEMBERS[@]} processes with their pids, the rows there, new clients served"

kill -INT "$PM"
for p in "${MEMBERS[@]}"; do wait_gone "$p" 30; done
grep -q "database system is shut down" "$WORK/pg.log" || fail "no clean shutdown: $(tail -3 "$WORK/pg.log")"
echo "shut down cleanly"
