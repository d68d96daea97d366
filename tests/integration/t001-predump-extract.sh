#!/bin/bash
# A full pre-dump of a target with every kind of memory, three extra
# threads: the target runs on untouched, and extract gives back its bytes.
. "$(dirname "$0")/../lib.sh"

start_target memtarget --mib 32 --threads 3 --dir "$WORK"
load_regions
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/img" || fail "pre-dump failed"
assert_running "$TPID"
[ -f "$WORK/img/inventory.img" ] || fail "no inventory.img"
[ -z "$(find "$WORK/img" -name '*.tmp')" ] || fail "temporary files left"
[ -z "$(find "$WORK/img" -type f ! -perm 0600)" ] || fail "image files not 0600"
[ "$(stat -c %a "$WORK/img")" = 700 ] || fail "image directory not 0700"

verify_extract "$WORK/img"

"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json" || fail "show failed"
[ "$(json_get "$WORK/show.json" 'd["kind"]')" = pre-dump ] || fail "kind"
[ "$(json_get "$WORK/show.json" 'd["pid"]')" = "$TPID" ] || fail "pid"
[ "$(json_get "$WORK/show.json" 'd["parent"]')" = None ] || fail "parent"
auto=$("$SDUMP" check | awk '/^track-auto/ {print $NF}')
[ "$(json_get "$WORK/show.json" 'd["tracker"]')" = "$auto" ] || fail "tracker is not the one auto picks ($auto)"
# the big region is one VMA, saved whole
anon=$((REG_ADDR[anon]))
# (its VMA may have merged with memory next to it: at least all of it)
[ "$(json_get "$WORK/show.json" "[v['pages_data'] for v in d['vmas'] if v['start'] <= $anon < v['end']][0] >= ${REG_LEN[anon]} // 4096")" = True ] ||
	fail "the anon region is not saved whole"
# shared file pages are never copied; the vsyscall page is not a VMA of ours
[ "$(json_get "$WORK/show.json" "sum(v['pages_data'] for v in d['vmas'] if v['prot'].endswith('s') and v['path'] and not v['path'].startswith('/dev/zero'))")" = 0 ] ||
	fail "shared file pages were copied"
[ "$(json_get "$WORK/show.json" "len([v for v in d['vmas'] if v['path'] == '[vsyscall]'])")" = 0 ] || fail "vsyscall recorded"
# private file mapping: only the 8 pages written (copied on write)
fp=$((REG_ADDR[filepriv]))
[ "$(json_get "$WORK/show.json" "[v['pages_data'] for v in d['vmas'] if v['start'] <= $fp < v['end']][0]")" = 8 ] ||
	fail "private file mapping: expected exactly the 8 written pages"
s=$(json_get "$WORK/show.json" 'd["stats"]["pages_written"]')
[ "$s" -gt $((REG_LEN[anon] / 4096)) ] || fail "pages_written $s too small"
[ "$(json_get "$WORK/show.json" 'd["stats"]["bytes_written"] > 0 and d["stats"]["freeze_us"] > 0')" = True ] || fail "stats"

# text output names the process
"$SDUMP" show -D "$WORK/img" >"$WORK/show.txt" || fail "show text"
grep -q "process   $TPID (memtarget)" "$WORK/show.txt" || fail "show text"
grep -q "^chain     1 pass, newest first" "$WORK/show.txt" || fail "show: no chain"

# -o to a device or a FIFO writes into it: it is not replaced by a file
mkfifo "$WORK/fifo"
cat "$WORK/fifo" >"$WORK/from-fifo" &
"$SDUMP" extract -D "$WORK/img" --addr "${REG_ADDR[anon]}" --len 8192 -o "$WORK/fifo" || fail "extract -o FIFO"
wait $!
[ -p "$WORK/fifo" ] && [ "$(stat -c %s "$WORK/from-fifo")" = 8192 ] || fail "extract -o FIFO replaced it or wrote short"
"$SDUMP" extract -D "$WORK/img" --addr "${REG_ADDR[anon]}" --len 8192 -o /dev/null || fail "extract -o /dev/null"
[ -c /dev/null ] || fail "extract -o /dev/null replaced /dev/null"

# the target is unharmed: its memory still verifies against itself, it exits 0
verify_extract "$WORK/img" anon heap
stop_target
echo "ok"
