#!/bin/bash
# A 1 GiB target: the pre-dump extracts back byte for byte, and the target
# is frozen only while its memory map is read, not while 1 GiB is copied.
. "$(dirname "$0")/../lib.sh"

start_target memtarget --mib 1024 --threads 1 --dir "$WORK"
load_regions
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/img" || fail "pre-dump failed"
assert_running "$TPID"
verify_extract "$WORK/img" anon heap thread0 filepriv
"$SDUMP" show -D "$WORK/img" --json >"$WORK/show.json"
pages=$(json_get "$WORK/show.json" 'd["stats"]["pages_written"]')
[ "$pages" -ge 262144 ] || fail "only $pages pages written"
# the freeze does not include the copy of 1 GiB (which takes most of a second at least)
freeze=$(json_get "$WORK/show.json" 'd["stats"]["freeze_us"]')
copy=$(json_get "$WORK/show.json" 'd["stats"]["copy_us"]')
[ "$freeze" -lt "$copy" ] || fail "frozen ${freeze} us, copy ${copy} us: the copy happened frozen"
size=$(json_get "$WORK/show.json" 'd["stats"]["bytes_written"]')
echo "1 GiB: frozen $freeze us, copy $copy us, $((size >> 20)) MiB on disk"
stop_target
echo ok
