#!/bin/bash
# File mappings come back as they were open, deleted files with their
# contents (maptarget):
# - a file opened O_RDWR and mapped shared read-only can be made writable
#   after a restore (mprotect), and its writes reach the file, read from
#   outside; one opened O_RDONLY still cannot (EACCES); the map_files link
#   modes and VmFlags are the dumped ones; a private file mapping keeps its
#   written pages and the file's others;
# - a sparse file mapped privately twice, pages written (one in a hole),
#   then deleted: after pre-dump, writes, dump --parent and restore every
#   page reads what it held, /proc/PID/maps shows both mappings of one
#   copy, deleted, on the same device in the same directory (or, that
#   directory immutable, in the image's); a deleted
#   file mapped shared comes back too, its writes reaching the copy; a
#   memfd mapped privately, its fd closed, reads the memfd's pages it never
#   wrote (from a memfd of the same name);
#   show and extract give the saved contents, a pre-dump says it has none;
# - refusals, each one line, the target left running and untraced, no
#   image: a deleted file above --ghost-limit (pre-dump and dump, and the
#   64 MiB default), a deleted file mapped shared that another process
#   holds; a raised --ghost-limit dumps it;
# - a damaged ghost-data.img or a missing ghosts.img: show and restore
#   refuse with one line and no process is left.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
FILES=$WORK/files
mkdir -p "$FILES"

# modes PID: each file mapping's map_files link mode, and of a shared one
# its VmFlags (mw: it may be made writable), one line each
modes() {
	python3 - "$1" <<'PYEOF'
import os, re, sys
pid = sys.argv[1]
cur = None
for line in open("/proc/%s/smaps" % pid):
    m = re.match(r"^([0-9a-f]+-[0-9a-f]+) (\S+) \S+ \S+ \S+\s+(\S.*)?$", line)
    if m:
        cur = m if m.group(3) and m.group(3).startswith("/") else None
    elif cur and line.startswith("VmFlags:"):
        st = os.lstat("/proc/%s/map_files/%s" % (pid, cur.group(1)))
        flags = " ".join(sorted(line.split()[1:])) if cur.group(2).endswith("s") else ""
        print(cur.group(1), cur.group(2), oct(st.st_mode & 0o777), flags)
PYEOF
}

# ino_of PID NAME: the inode (maps column 5) of the first mapping whose path holds NAME
ino_of() {
	awk -v n="$2" 'index($0, n) { print $5; exit }' "/proc/$1/maps"
}

start_target_quiet maptarget --dir "$FILES"
pid=$TPID
load_regions
MODES=$(modes "$pid")
echo "$MODES" | grep -q ' 0o600 ' || fail "no file mapping open read-write: $MODES"
echo "$MODES" | grep -q ' 0o400 ' || fail "no file mapping open read-only: $MODES"
tcmd "mprotect-w shro"
[ "$REPLY" = "err EACCES" ] || fail "before the dump, shro can be made writable: $REPLY"
dev_ghost=$(awk '/ghost.dat \(deleted\)/ { print $4; exit }' "/proc/$pid/maps")

# a pre-dump goes through and saves no contents; extract says so
"$SDUMP" pre-dump -t "$pid" -D "$WORK/c/1" 2>"$WORK/err" || fail "pre-dump: $(cat "$WORK/err")"
"$SDUMP" show -D "$WORK/c/1" >"$WORK/show" || fail "show of the pre-dump"
grep -q "ghost.dat (deleted) \[open rw; contents saved by the final dump only\]" "$WORK/show" ||
	fail "show of the pre-dump: $(grep ghost "$WORK/show")"
expect_error "deleted file .*ghost.dat.* are in no image: a pre-dump does not save" \
	"$SDUMP" extract -D "$WORK/c/1" --addr "${REG_ADDR[ghost]}" --len 65536 -o "$WORK/x"
tcmd "write ghost 7 70" # an unwritten page of the file, written between the passes
[ "$REPLY" = ok ] || fail "write: $REPLY"
tcmd "write ghost2 2 71"
tcmd "write gshared 5 72"
tcmd "write priv 9 73"
# nothing reads the deleted file's mappings before the dump (a check or a
# save would): pages never touched are the ones only the file holds
for r in priv shrw; do
	tcmd "save $r $WORK/want.$r"
	[ "$REPLY" = ok ] || fail "save $r: $REPLY"
done
MAPS=$(maps_of "$pid")
TIDS=$(tids_of "$pid")

"$SDUMP" dump -t "$pid" -D "$WORK/c/2" --parent "$WORK/c/1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true
cp "$FILES/shared.dat" "$WORK/shared.orig" # as at the dump, for a second restore

# show: how each file was open, the deleted file saved once (one file in ghosts.img)
"$SDUMP" show -D "$WORK/c/2" >"$WORK/show" || fail "show"
grep -q "shared.dat \[open rw\]" "$WORK/show" || fail "show: shared.dat open rw missing"
grep -q "shared.dat \[open r\]" "$WORK/show" || fail "show: shared.dat open r missing"
[ "$(grep -c 'ghost.dat (deleted) \[open rw; contents saved: 256.1 KiB, 128.1 KiB of data\]' "$WORK/show")" = 2 ] ||
	fail "show: ghost.dat not shown saved twice: $(grep ghost "$WORK/show")"
"$SDUMP" show -D "$WORK/c/2" --json >"$WORK/show.json" || fail "show --json"
[ "$(json_get "$WORK/show.json" "sorted(set((v['ghost']['size'], v['ghost']['data_bytes']) for v in d['vmas'] if v['deleted']))")" = "[(24576, 20480), (32768, 32768), (262267, 131195)]" ] ||
	fail "show --json: ghosts $(json_get "$WORK/show.json" "[v['ghost'] for v in d['vmas'] if v['deleted']]")"
[ "$(json_get "$WORK/show.json" "sorted(set(v['open'] for v in d['vmas'] if v['path'] and v['path'].endswith('shared.dat')))")" = "['r', 'rw']" ] ||
	fail "show --json: open modes"
# extract: the written pages and the file's others, from the image alone
# (compared with the restored target's memory below)
for r in ghost ghost2 gshared priv; do
	"$SDUMP" extract -D "$WORK/c/2" --addr "${REG_ADDR[$r]}" --len "${REG_LEN[$r]}" -o "$WORK/ext.$r" ||
		fail "extract $r"
done
cmp -s "$WORK/want.priv" "$WORK/ext.priv" || fail "extract of priv differs"

# a damaged or missing part of the saved contents: one line, no process
cp -a "$WORK/c/2" "$WORK/bad"
rm "$WORK/bad/parent"
ln -s "$WORK/c/1" "$WORK/bad/parent"
printf '\x55' | dd of="$WORK/bad/ghost-data.img" bs=1 seek=200 conv=notrunc status=none
expect_error "ghost-data.img' is corrupt: checksum mismatch" "$SDUMP" show -D "$WORK/bad"
expect_error "ghost-data.img' is corrupt: checksum mismatch" "$SDUMP" restore -D "$WORK/bad" --shell-job -d
[ ! -e "/proc/$pid" ] || fail "a refused restore left pid $pid"
rm "$WORK/bad/ghosts.img"
expect_error "maps a deleted file whose contents it does not have" "$SDUMP" restore -D "$WORK/bad" --shell-job -d
[ ! -e "/proc/$pid" ] || fail "a refused restore left pid $pid"

# restore: same maps but for the copies, every page as it was
"$SDUMP" restore -D "$WORK/c/2" --shell-job -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
assert_running "$pid"
[ "$(tids_of "$pid")" = "$TIDS" ] || fail "threads differ"
got=$(maps_of "$pid")
norm() { sed -E 's@/(ghost|gshared)\.dat \(deleted\)$@/#COPY (deleted)@; s@/#[0-9]+ \(deleted\)$@/#COPY (deleted)@'; }
echo "$MAPS" | norm | grep -q "$FILES/#COPY (deleted)" || fail "no deleted file in the maps: $MAPS"
[ "$(echo "$got" | norm)" = "$(echo "$MAPS" | norm)" ] ||
	fail "maps differ: $(diff <(echo "$MAPS" | norm) <(echo "$got" | norm))"
# the memfd's copy is a memfd of its name
awk -v a="${REG_ADDR[mfd]#0x}" 'index($1, a) == 1 { print $6, $7 }' "/proc/$pid/maps" | grep -qx "/memfd:maptarget (deleted)" ||
	fail "the memfd's copy: $(awk -v a="${REG_ADDR[mfd]#0x}" 'index($1, a) == 1' "/proc/$pid/maps")"
# the copies: deleted files of the directory under their names, on the same device; both mappings of ghost.dat map one copy
ig=$(awk -v a="${REG_ADDR[ghost]#0x}" 'index($1, a) == 1 { print $5 }' "/proc/$pid/maps")
ig2=$(awk -v a="${REG_ADDR[ghost2]#0x}" 'index($1, a) == 1 { print $5 }' "/proc/$pid/maps")
[ -n "$ig" ] && [ "$ig" = "$ig2" ] || fail "the two mappings of ghost.dat map different files ($ig, $ig2)"
awk -v i="$ig" '$5 == i { print $6, $7; exit }' "/proc/$pid/maps" | grep -qx "$FILES/ghost.dat (deleted)" ||
	fail "ghost.dat's copy is not a deleted file of its name in $FILES: $(grep "deleted" "/proc/$pid/maps")"
[ "$(awk -v i="$ig" '$5 == i { print $4; exit }' "/proc/$pid/maps")" = "$dev_ghost" ] || fail "the copy is on another device"
[ "$(ls "$FILES")" = "$(printf 'priv.dat\nshared.dat')" ] || fail "the restore left files in $FILES: $(ls "$FILES")"
st=$(stat -L -c '%s %a %b' "/proc/$pid/map_files/${REG_ADDR[ghost]#0x}-$(printf '%x' $((REG_ADDR[ghost] + REG_LEN[ghost])))")
set -- $st
[ "$1 $2" = "262267 640" ] || fail "the copy of ghost.dat: size and mode '$1 $2', want '262267 640'"
[ "$3" -le 300 ] || fail "the copy of ghost.dat lost its holes: $3 blocks of 512 bytes"
[ "$(modes "$pid")" = "$MODES" ] || fail "link modes or VmFlags differ: $(diff <(echo "$MODES") <(modes "$pid"))"
# every page as the target wrote it or as the file held it
tcmd check
[ "$REPLY" = ok ] || fail "the restored target: $REPLY"
for r in priv shrw; do
	tcmd "save $r $WORK/got.$r"
	cmp -s "$WORK/want.$r" "$WORK/got.$r" || fail "restored $r differs: $(cmp "$WORK/want.$r" "$WORK/got.$r" 2>&1)"
done
for r in ghost ghost2 gshared; do
	tcmd "save $r $WORK/got.$r"
	cmp -s "$WORK/ext.$r" "$WORK/got.$r" || fail "restored $r differs from its extract: $(cmp "$WORK/ext.$r" "$WORK/got.$r" 2>&1)"
done

# item 1: shrw (open O_RDWR) can be made writable, and writes reach the file; shro cannot
tcmd "mprotect-w shrw"
[ "$REPLY" = ok ] || fail "mprotect(PROT_WRITE) of shrw after the restore: $REPLY"
tcmd "write shrw 4 90"
[ "$REPLY" = ok ] || fail "write shrw: $REPLY"
tcmd "save shrw $WORK/shrw.now"
cmp -s <(dd if="$FILES/shared.dat" bs=4096 skip=4 count=1 status=none) \
	<(dd if="$WORK/shrw.now" bs=4096 skip=4 count=1 status=none) || fail "the write to shrw did not reach shared.dat"
tcmd "mprotect-w shro"
[ "$REPLY" = "err EACCES" ] || fail "shro (open O_RDONLY) became writable after the restore: $REPLY"
# private and deleted-shared mappings go on working
tcmd "write priv 10 91"
tcmd "write gshared 6 92"
tcmd "write ghost 30 93"
tcmd check
[ "$REPLY" = ok ] || fail "the restored target after writes: $REPLY"
cmp -s <(dd if="$FILES/priv.dat" bs=4096 skip=10 count=1 status=none) \
	<(head -c 4096 /dev/zero) && fail "a private write reached priv.dat"
echo "restored: file mappings open as they were, deleted files with their contents"
echo exit >&7
wait_gone "$pid"
wait_pid_free "$pid"

# where the deleted file's directory cannot hold the copy (immutable here),
# it is made in the image's directory; fds 7 and 8 stay open for the FIFOs
# shared.dat as it was at the dump (the restored process wrote into it), same inode
dd if="$WORK/shared.orig" of="$FILES/shared.dat" conv=notrunc status=none
if chattr +i "$FILES" 2>/dev/null; then
	st=0
	"$SDUMP" restore -D "$WORK/c/2" --shell-job -d 2>"$WORK/err" || st=$?
	chattr -i "$FILES"
	[ "$st" = 0 ] || fail "restore with $FILES immutable: $(cat "$WORK/err")"
	grep -q "$WORK/c/2/#[0-9]* (deleted)" "/proc/$pid/maps" ||
		fail "the copies are not in the image directory: $(grep deleted "/proc/$pid/maps")"
	tcmd check
	[ "$REPLY" = ok ] || fail "restored with the copies in the image directory: $REPLY"
	echo "restored again, the copies in the image directory"
	echo exit >&7
	wait_gone "$pid"
	wait_pid_free "$pid"
else
	echo "no chattr +i on $FILES: the copy in the image directory is not tested here"
fi
exec 7>&- 8<&-

# --- refusals ---
# refused PATTERN CMD...: one line, the target running and untraced, no image
refused() {
	expect_error "$@"
	assert_running "$pid"
	assert_threads_running "$pid"
	[ ! -e "$WORK/r" ] || fail "a refused pass left $WORK/r"
	tcmd check
	[ "$REPLY" = ok ] || fail "the target after a refusal: $REPLY"
}
rm -rf "$FILES"
mkdir -p "$FILES"
start_target_quiet maptarget --dir "$FILES" --ghost-mib 65
pid=$TPID
load_regions
lim="the deleted file '$FILES/big.dat' mapped at 0x[0-9a-f]+-0x[0-9a-f]+ holds 65.0 MiB of data, more than --ghost-limit lets an image keep \(64.0 MiB\); raise --ghost-limit"
refused "$lim" "$SDUMP" dump -R -t "$pid" -D "$WORK/r"
refused "$lim" "$SDUMP" pre-dump -t "$pid" -D "$WORK/r"
refused "the deleted file '$FILES/[a-z]+.dat' mapped at .* holds [0-9.]+ [KM]iB of data, more than --ghost-limit lets an image keep \(100.0 KiB\)" \
	"$SDUMP" dump -R -t "$pid" -D "$WORK/r" --ghost-limit 100K
st=0
"$SDUMP" dump -R -t "$pid" -D "$WORK/r" --ghost-limit 0 2>"$WORK/err" || st=$?
[ "$st" = 2 ] && grep -q "bad --ghost-limit '0'" "$WORK/err" || fail "--ghost-limit 0: exit $st, $(cat "$WORK/err")"
# a deleted file mapped shared that another process holds too
exec 9<"/proc/$pid/map_files/${REG_ADDR[gshared]#0x}-$(printf '%x' $((REG_ADDR[gshared] + REG_LEN[gshared])))"
refused "the deleted file '$FILES/gshared.dat' mapped shared at 0x[0-9a-f]+-0x[0-9a-f]+ is open or mapped in pid $$ too" \
	"$SDUMP" dump -R -t "$pid" -D "$WORK/r" --ghost-limit 1G
exec 9<&-
# with the limit raised it goes through, 65 MiB saved
"$SDUMP" dump -R -t "$pid" -D "$WORK/big" --ghost-limit 1G 2>"$WORK/err" || fail "dump --ghost-limit 1G: $(cat "$WORK/err")"
assert_running "$pid"
"$SDUMP" show -D "$WORK/big" >"$WORK/show" || fail "show of the big image"
grep -q "big.dat (deleted) \[open rw; contents saved: 65.0 MiB, 65.0 MiB of data\]" "$WORK/show" ||
	fail "show of the big image: $(grep big.dat "$WORK/show")"
stop_target
echo ok
