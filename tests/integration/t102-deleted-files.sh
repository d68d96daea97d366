#!/bin/bash
# Deleted files open as fds across a dump and a restore: a file unlinked
# while open read-write (data, a hole, data, a hole to its end, at an
# offset) and mapped shared, one unlinked while open write-only for
# appends, an O_TMPFILE (its flag kept) and a removed directory. Each comes
# back as a deleted file in the same directory, under its name, with its
# size, holes, mode, offset and flags, and the file both mapped and open
# is one file again (a write through either shows in the other): statecheck
# compares the fds and the mappings, the target checks the rest from
# inside. The contents count against --ghost-limit, fds and mappings
# alike: above it the dump is refused with one line naming the file and
# the option, and the target runs on untouched.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v python3 >/dev/null || skip "no python3"
FILES="$WORK/files"
mkdir -p "$FILES"

# a deleted file open (not mapped) counts against the limit; the 64 MiB default holds it
start_target_quiet memfdtarget --kinds big --dir "$FILES"
tfacts "$WORK/f2.json"
big=$(json_get "$WORK/f2.json" 'd["fds"]["big"]')
expect_error "cannot dump pid $TPID: the deleted file '$FILES/mf-$TPID.big' open as fd $big holds 64.0 KiB of data, more than --ghost-limit lets an image keep \(32.0 KiB\); raise --ghost-limit to save it" \
	"$SDUMP" dump -t "$TPID" -D "$WORK/big2" --ghost-limit 32K
assert_threads_running "$TPID"
"$SDUMP" dump -t "$TPID" -D "$WORK/big3" --leave-running 2>"$WORK/err" || fail "dump of 64 KiB: $(cat "$WORK/err")"
stop_target

start_target_quiet memfdtarget --kinds deleted --dir "$FILES"
pid=$TPID
tfacts "$WORK/f1.json"
del=$(json_get "$WORK/f1.json" 'd["fds"]["del"]')

# above the limit: one line naming the file, how it is used and the option
python3 "$STATECHECK" record "$pid" -o "$WORK/untouched.state" || fail "statecheck cannot record pid $pid"
# mapped and open: one file, named once
expect_error "cannot dump pid $pid: the deleted file '$FILES/mf-$pid.del' (mapped shared at 0x[0-9a-f]+-0x[0-9a-f]+|open as fd $del) holds 8.0 KiB of data, more than --ghost-limit lets an image keep \(4.0 KiB\); raise --ghost-limit to save it" \
	"$SDUMP" dump -t "$pid" -D "$WORK/big" --ghost-limit 4K
assert_threads_running "$pid"
python3 "$STATECHECK" check "$pid" "$WORK/untouched.state" >"$WORK/sc" 2>&1 || fail "the refused dump changed the target: $(cat "$WORK/sc")"
[ ! -e "$WORK/big/files.img" ] || fail "a refused dump left an image"

state_record "$pid" "$WORK/before.state"
"$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
"$SDUMP" show -D "$WORK/d1" >"$WORK/show" || fail "show"
grep -q "mf-$pid.del (deleted)" "$WORK/show" || fail "show does not name the deleted file: $(cat "$WORK/show")"
# nothing of the files is left behind by the dump
[ -z "$(ls -A "$FILES")" ] || fail "files left in $FILES: $(ls -A "$FILES")"

"$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_threads_running "$pid"
# nothing named is left in the directory: the copies are deleted files again
[ -z "$(ls -A "$FILES")" ] || fail "the restore left files in $FILES: $(ls -A "$FILES")"
state_check "$pid" "$WORK/before.state"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: deleted files, an O_TMPFILE and a removed directory, with their data, holes, names, offsets and flags"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-
echo ok
