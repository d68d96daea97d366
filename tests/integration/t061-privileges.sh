#!/bin/bash
# Privileges, tested for real with the unprivileged user nobody (setpriv):
# - nobody cannot dump a root process: one line saying permission, the
#   process left running and untraced, no image;
# - images are private: the directory 0700 (an empty one given made so),
#   every file 0600, whatever the umask;
# - sdump writes an image only into a directory of its own user that no
#   other user may write to (refused: another user's, world-writable,
#   group-writable for a foreign group);
# - nobody cannot restore a process that ran as root (one line, nothing
#   left), nor restore at all without CAP_CHECKPOINT_RESTORE;
# - symbolic links planted in an image directory are never followed (a
#   record file or pages.img replaced by a link is refused, a link planted
#   where the tracking state goes is not written through);
# - paths from an image (executable, cwd, fds, mapped files) are data: an
#   image naming a script everywhere never runs it, and show prints no
#   control character of it.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
IMGFORGE=$TARGETS_DIR/imgforge
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
nobody_uid=$(id -u nobody 2>/dev/null) || skip "no user nobody"
nobody_gid=$(id -g nobody)
NOBODY=(setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups)
# nobody must reach its directory and the binaries
chmod 0711 "$WORK"
"${NOBODY[@]}" test -x "$SDUMP" || skip "nobody cannot run $SDUMP (a directory on its path is private)"
mkdir "$WORK/nb"
chown nobody "$WORK/nb"

start_target_quiet memtarget --mib 4 --threads 1 --dir "$WORK"
pid=$TPID
start_time=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $20}')

echo "nobody dumps a root process:"
for cmd in pre-dump dump; do
	expect_error "pid $pid.*(Operation not permitted|permission)" "${NOBODY[@]}" "$SDUMP" "$cmd" -t "$pid" -D "$WORK/nb/$cmd"
	echo "  $cmd: $(cat "$WORK/stderr")"
	assert_running "$pid"
	assert_threads_running "$pid"
	[ ! -e "$WORK/nb/$cmd/inventory.img" ] || fail "$cmd as nobody left an image"
done

echo "image modes (umask 000):"
(umask 000 && "$SDUMP" pre-dump -t "$pid" -D "$WORK/m/1") || fail "pre-dump"
mkdir -m 0755 "$WORK/m/2"
(umask 000 && "$SDUMP" pre-dump -t "$pid" -D "$WORK/m/2" --parent "$WORK/m/1") || fail "pre-dump into an empty directory"
for d in "$WORK/m/1" "$WORK/m/2"; do
	[ "$(stat -c %a "$d")" = 700 ] || fail "$d has mode $(stat -c %a "$d")"
	n=0
	for f in "$d"/*.img; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "$f has mode $(stat -c %a "$f")"
		n=$((n + 1))
	done
	[ "$n" -ge 4 ] || fail "$d holds only $n image files"
done
echo "  directories 0700, $(ls "$WORK"/m/*/*.img | wc -l) files 0600"

echo "directories sdump refuses to write into:"
mkdir -m 0777 "$WORK/ww"
chmod 0777 "$WORK/ww"
expect_error "'$WORK/ww': permission denied: other users may write to it \(mode 0777\)" "$SDUMP" pre-dump -t "$pid" -D "$WORK/ww"
echo "  $(cat "$WORK/stderr")"
mkdir -m 0770 "$WORK/gw"
chmod 0770 "$WORK/gw"
chgrp "$nobody_gid" "$WORK/gw"
expect_error "permission denied: other users may write to it \(mode 0770\)" "$SDUMP" pre-dump -t "$pid" -D "$WORK/gw"
echo "  $(cat "$WORK/stderr")"
mkdir -m 0700 "$WORK/theirs"
chown nobody "$WORK/theirs"
expect_error "'$WORK/theirs': permission denied: it belongs to uid $nobody_uid" "$SDUMP" pre-dump -t "$pid" -D "$WORK/theirs"
echo "  $(cat "$WORK/stderr")"
for d in ww gw theirs; do
	[ -z "$(ls -A "$WORK/$d")" ] || fail "$d is not empty after a refused pass"
done
assert_running "$pid"

echo "a link planted where the tracking state goes:"
echo "precious" >"$WORK/victim"
mkdir -m 0777 "$WORK/st"
chmod 0777 "$WORK/st"
ln -s "$WORK/victim" "$WORK/st/track-$pid-$start_time.tmp"
ln -s "$WORK/victim" "$WORK/st/track-$pid-$start_time"
SDUMP_STATE_DIR=$WORK/st "$SDUMP" pre-dump -t "$pid" -D "$WORK/m/3" --parent "$WORK/m/2" 2>"$WORK/err" ||
	fail "pre-dump with an untrusted state directory: $(cat "$WORK/err")"
[ "$(cat "$WORK/victim")" = precious ] || fail "the tracking state was written through a planted link"
echo "  not written through (the directory is not ours alone: $(head -c 120 "$WORK/err"))"

# the final dump, as root: kills the target
tcmd "dirty anon 100 1"
"$SDUMP" dump -t "$pid" -D "$WORK/m/4" --parent "$WORK/m/3" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait "$pid" 2>/dev/null || true

echo "nobody restores a root process:"
cp -a "$WORK/m" "$WORK/nb/m"
chown -R nobody "$WORK/nb/m"
expect_error "cannot restore pid $pid: permission denied: it ran as uid 0" \
	"${NOBODY[@]}" timeout -k 5 60 "$SDUMP" restore -D "$WORK/nb/m/4" --shell-job -d
echo "  $(cat "$WORK/stderr")"
[ ! -e "/proc/$pid" ] || fail "pid $pid exists after a refused restore"

echo "links planted in the image directory:"
for f in mm.img pagemap.img process.img pages.img; do
	rm -rf "$WORK/l" && cp -a "$WORK/m" "$WORK/l"
	mv "$WORK/l/4/$f" "$WORK/l/real-$f"
	ln -s "$WORK/l/real-$f" "$WORK/l/4/$f"
	for cmd in show restore; do
		extra=()
		[ "$cmd" = restore ] && extra=(--shell-job -d)
		expect_error "$f.*(symbolic links|not a regular file)" timeout -k 5 60 "$SDUMP" "$cmd" -D "$WORK/l/4" "${extra[@]}"
	done
	echo "  $f: $(cat "$WORK/stderr")"
	[ ! -e "/proc/$pid" ] || fail "pid $pid exists after a refused restore"
done
rm -rf "$WORK/e"
mkdir -m 0700 "$WORK/e"
ln -s "$WORK/victim" "$WORK/e/inventory.img.tmp"
expect_error "not empty" "$SDUMP" pre-dump -t 1 -D "$WORK/e"
[ "$(cat "$WORK/victim")" = precious ] || fail "a pass wrote through a planted link"

echo "paths from an image are data:"
cat >"$WORK/evil" <<EOS
#!/bin/sh
touch "$WORK/ran"
EOS
chmod +x "$WORK/evil"
for p in "$WORK/evil" "$WORK/evil; touch $WORK/ran" "\$(touch $WORK/ran)" "|$WORK/evil"; do
	rm -rf "$WORK/p" && cp -a "$WORK/m" "$WORK/p"
	"$IMGFORGE" "$WORK/p/4" paths "$p" || fail "imgforge paths"
	"$SDUMP" show -D "$WORK/p/4" >"$WORK/show" || fail "show of an image with path '$p'"
	grep -qF -- "$p" "$WORK/show" || fail "show does not print the path '$p'"
	"$SDUMP" show -D "$WORK/p/4" --json >/dev/null || fail "show --json"
	"$SDUMP" coredump -D "$WORK/p/4" -o "$WORK/core" 2>/dev/null || true
	timeout -k 5 60 "$SDUMP" restore -D "$WORK/p/4" --shell-job -d 2>"$WORK/err" &&
		fail "a restore of an image whose files are '$p' succeeded"
	[ ! -e "$WORK/ran" ] || fail "a path from the image was run: '$p'"
	[ ! -e "/proc/$pid" ] || fail "pid $pid exists after a refused restore"
done
echo "  never run (restore refused: $(cat "$WORK/err"))"
# an escape sequence in a path reaches no terminal: show prints '?' for control characters
rm -rf "$WORK/p" && cp -a "$WORK/m" "$WORK/p"
"$IMGFORGE" "$WORK/p/4" paths "$WORK/"$'\e]0;owned\a\e[2J' || fail "imgforge paths"
"$SDUMP" show -D "$WORK/p/4" >"$WORK/show" || fail "show of an image with an escape sequence"
! grep -q $'\e' "$WORK/show" || fail "show printed an escape character from the image"
grep -qF "$WORK/?]0;owned??[2J" "$WORK/show" || fail "show does not print the path, control characters as '?'"
"$SDUMP" show -D "$WORK/p/4" --json | python3 -c 'import json,sys; json.load(sys.stdin)' ||
	fail "show --json of an image with an escape sequence is no JSON"
st=0
timeout -k 5 60 "$SDUMP" restore -D "$WORK/p/4" --shell-job -d 2>"$WORK/err" || st=$?
[ "$st" = 1 ] || fail "restore of an image with an escape sequence in its paths exited $st"
! grep -q $'\e' "$WORK/err" || fail "an error line carried an escape character from the image"
echo "  control characters in paths shown as '?' (restore: $(cat "$WORK/err"))"

echo "a process of nobody, restored by nobody:"
exec 7>&- 8<&-
rm -f "$WORK/target.in" "$WORK/target.out"
mkfifo -m 0666 "$WORK/target.in" "$WORK/target.out"
"${NOBODY[@]}" "$TARGETS_DIR/memtarget" --mib 2 --dir "$WORK/nb" <"$WORK/target.in" >"$WORK/target.out" 2>/dev/null &
TARGET_PIDS+=($!)
exec 7>"$WORK/target.in" 8<"$WORK/target.out"
read -r -t 60 word npid <&8 || fail "memtarget as nobody did not start"
[ "$word" = ready ] || fail "memtarget as nobody: $word"
"$SDUMP" dump -t "$npid" -D "$WORK/nb/own" 2>"$WORK/err" || fail "dump of nobody's process: $(cat "$WORK/err")"
wait_gone "$npid"
chown -R nobody "$WORK/nb/own"
expect_error "cannot restore pid $npid: permission denied: .*CAP_CHECKPOINT_RESTORE" \
	"${NOBODY[@]}" timeout -k 5 60 "$SDUMP" restore -D "$WORK/nb/own" --shell-job -d
echo "  $(cat "$WORK/stderr")"
[ ! -e "/proc/$npid" ] || [ "$(proc_state "$npid")" = Z ] || fail "pid $npid exists after a refused restore"
echo "ok"
