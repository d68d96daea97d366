#!/bin/bash
# Parents that cannot be built on: one clear error, or, where the tracking
# cannot vouch for the pages, a full pass with a warning. Never a wrong image.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
start_target memtarget --mib 8 --dir "$WORK"
load_regions
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/1" || fail "pass 1"

# a missing parent
expect_error "parent image '$WORK/nope' is missing|cannot open image directory '$WORK/nope'" \
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/x" --parent "$WORK/nope"
[ ! -e "$WORK/x" ] || fail "a directory was left behind"

# a parent of another process
mkdir "$WORK/other"
mkfifo "$WORK/other/in"
"$TARGETS_DIR/memtarget" --mib 1 --dir "$WORK/other" <"$WORK/other/in" >/dev/null &
other=$!
TARGET_PIDS+=("$other")
exec 9>"$WORK/other/in"
expect_error "parent image '$WORK/1' is of another process" \
	"$SDUMP" pre-dump -t "$other" -D "$WORK/y" --parent "$WORK/1"
exec 9>&-

# a pass built on a parent that is not the last pass: the tracking was
# re-armed since, so it saves everything, and says so
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/2" --parent "$WORK/1" || fail "pass 2"
tcmd "dirty anon 100 1"
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/3" --parent "$WORK/1" 2>"$WORK/err" || fail "pass 3"
grep -q "warning: .*saves every page" "$WORK/err" || fail "no warning for a stale parent: $(cat "$WORK/err")"
"$SDUMP" show -D "$WORK/3" --json >"$WORK/3.json"
[ "$(json_int "$WORK/3.json" pages_in_parent)" = 0 ] || fail "a stale parent was trusted"
load_regions
verify_extract "$WORK/3"

# a parent tracked differently (none) than this pass (auto)
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/4" --track none --parent "$WORK/3" || fail "pass 4"
auto=$("$SDUMP" check | awk '/^track-auto/ {print $NF}')
if [ "$auto" != none ]; then
	"$SDUMP" pre-dump -t "$TPID" -D "$WORK/5" --parent "$WORK/4" 2>"$WORK/err" || fail "pass 5"
	grep -q "warning: .*tracked differently" "$WORK/err" || fail "no warning for a parent tracked differently"
	verify_extract "$WORK/5"
	# the target closes the userfaultfd sdump left it: the next pass notices
	if [ "$auto" = uffd-wp ]; then
		"$SDUMP" pre-dump -t "$TPID" -D "$WORK/6" --parent "$WORK/5" || fail "pass 6"
		tcmd "closefrom 3"
		tcmd "dirty heap 300 6"
		"$SDUMP" pre-dump -t "$TPID" -D "$WORK/7" --parent "$WORK/6" 2>"$WORK/err" || fail "pass 7"
		grep -q "closed its tracking userfaultfd" "$WORK/err" || fail "no warning for a closed fd: $(cat "$WORK/err")"
		verify_extract "$WORK/7"
	fi
fi

# a parent link pointed elsewhere: the pass id does not match, extract refuses
"$SDUMP" pre-dump -t "$TPID" -D "$WORK/8" --parent "$WORK/1" 2>/dev/null || fail "pass 8"
ln -sfn ../2 "$WORK/8/parent"
expect_error "is not the parent of" "$SDUMP" extract -D "$WORK/8" --addr "${REG_ADDR[anon]}" --len 4096
# and a chain whose parent directory vanished
rm -rf "$WORK/1"
expect_error "parent image '$WORK/3/../1' of '$WORK/3' is missing" \
	"$SDUMP" extract -D "$WORK/3" --addr "${REG_ADDR[anon]}" --len 4096
stop_target
echo ok
