#!/bin/sh
# Hardening: what the caller, the disk or another process does never
# hangs, crashes or damages the shared L1 file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 27

k=labels:EUR_USD:H4:2024-01-02
cw-get "$k" >"$T/value"

# Closed standard descriptors: the L1 file must never be opened onto one
# and written over by the program's own output.
for fd in 0 1 2; do
	rm -f "$CW_L1_FILE"
	case $fd in
	0) cw-get "$k" <&- >/dev/null 2>&1 ;;
	1) cw-get "$k" >&- 2>/dev/null ;;
	2) cw-get -v "$k" 2>&- >/dev/null ;;
	esac
	run cw-get "$k"
	is "$status:$(cmp -s "$T/out" "$T/value" && echo same)" 0:same \
		"cw-get with fd $fd closed: the file it made serves the value"
done
cw-stats -o prom >&-
cw-stats >&-
cw-stats verify 2>&- >/dev/null
run cw-stats verify
is "$status" 0 "cw-stats with stdout or stderr closed: the file verifies"
run cw-get "$k"
is "$(cmp -s "$T/out" "$T/value" && echo same)" same "and still serves the value"
cw-predict --learn >&- 2>&-
cw-bench generate --weeks 1 >&- 2>&-
run cw-stats verify
is "$status" 0 "cw-predict and cw-bench with stdout closed: the file verifies"
# A closed stdout is /dev/null: writing there is not an error.
cw-get "$k" >&-
is "$?" 0 "cw-get with stdout closed: exit 0"
head -c 8 "$CW_L1_FILE" | od -An -c | tr -d ' \n' >"$T/magic"
is "$(cat "$T/magic")" 'CWL1\r\n032\n' "the header's magic is intact"
run cw-get "$k" "$k"
is "$status" 0 "and a batch still reads the file"

# A full disk: the 100 MB file cannot be made on a 64 KiB filesystem.
# It is refused at creation (its space allocated then, not at some later
# write, which would be SIGBUS), and the value still comes from below.
# A private mount namespace: nothing is left mounted, even on failure.
mkdir "$T/full"
# shellcheck disable=SC2016
unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" &&
	CW_L1_FILE=$1/l1 cw-get "$2" >"$3/out" 2>"$3/err"; echo $? >"$3/status"
	ls -A "$1" >"$3/left"' sh "$T/full" "$k" "$T"
is "$(cat "$T/status")" 74 "a full disk: exit 74"
is "$(cat "$T/err")" "cw-get: create $T/full/l1: No space left on device; going on without it" \
	"said once, in one line"
is "$(cmp -s "$T/out" "$T/value" && echo same)" same "the value is served from the source"
is "$(cat "$T/left")" "" "no file or temporary is left on the full disk"

# A killed creator's temporary: removed at the next creation once it is
# over a minute old; one that may still be in the making is left alone.
rm -f "$CW_L1_FILE"
head -c 4096 /dev/zero >"$CW_L1_FILE.ab12CD"
touch -d '2 minutes ago' "$CW_L1_FILE.ab12CD"
: >"$CW_L1_FILE.zz99YY"
cw-get "$k" >/dev/null
is "$(test -e "$CW_L1_FILE.ab12CD" || echo gone)" gone "a stale temporary is removed"
is "$(test -e "$CW_L1_FILE.zz99YY" && echo kept)" kept "a fresh one is left alone"
rm -f "$CW_L1_FILE.zz99YY"

# A file that is not ours: refused untouched, and the value still served.
printf 'precious\n' >"$T/foreign"
run cw-get -f "$T/foreign" "$k"
is "$status:$(cmp -s "$T/out" "$T/value" && echo same):$(cat "$T/foreign")" \
	74:same:precious "a foreign L1 file: exit 74, value served, file untouched"

# An L1 file planted by another user is refused (the value still comes
# from the source), unless shared through l1.group and not writable by
# others. Planting one takes root (CI runs as root).
if [ "$(id -u)" -eq 0 ]; then
	cw-get "$k" >/dev/null
	cp "$CW_L1_FILE" "$T/planted"
	chown nobody:nogroup "$T/planted"
	chmod 0666 "$T/planted"
	run cw-get -f "$T/planted" "$k"
	is "$status:$(cmp -s "$T/out" "$T/value" && echo same)" 74:same \
		"another user's L1 file: refused, exit 74, the value still served"
	is "$(cat "$T/err")" \
		"cw-get: $T/planted: owned by uid $(id -u nobody), not this user, nor shared through l1.group without others' write permission (refused); going on without it" \
		"saying whose it is"
	chmod 0660 "$T/planted"
	printf '[l1]\ngroup = nogroup\n' >"$T/group.conf"
	run cw-get -c "$T/group.conf" -f "$T/planted" "$k"
	is "$status:$(cat "$T/err")" "0:" "shared through l1.group, others unable to write: used"
else
	for i in 1 2 3; do ok "# SKIP planting another user's file takes root"; done
fi

# A monitoring user with read access alone: the figures and the keys are
# read without the writer lock and without writing a byte; what writes
# (--reset, verify) says it cannot open the file. Root may write anything,
# so as root (CI) the reader is nobody; otherwise the file's mode is enough.
rm -f "$CW_L1_FILE"
cw-get "$k" >/dev/null
mkdir "$T/mon"
cp "$CW_L1_FILE" "$T/mon/l1"
chmod 0444 "$T/mon/l1"
chmod 755 "$T" "$T/mon"
cp "$T/mon/l1" "$T/mon.before"
as_reader() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
	else
		"$@"
	fi
}
run as_reader cw-stats -f "$T/mon/l1" -o json
is "$status:$(grep -c '"entries":1,' "$T/out")" 0:1 "read access alone: cw-stats -o json"
run as_reader cw-stats -f "$T/mon/l1" keys
is "$status:$(cut -f1,2 "$T/out")" "0:$k	$(wc -c <"$T/value" | tr -d ' ')" \
	"read access alone: cw-stats keys lists the key and its size"
# (The first line: a coverage build's nobody adds that it cannot write
# its profile.)
run as_reader cw-stats -f "$T/mon/l1" --reset
is "$status:$(head -n 1 "$T/err")" "74:cw-stats: open $T/mon/l1: Permission denied" \
	"--reset needs write access: exit 74, said so"
run as_reader cw-stats -f "$T/mon/l1" verify
is "$status:$(head -n 1 "$T/err")" "74:cw-stats: open $T/mon/l1: Permission denied" \
	"verify needs write access: exit 74, said so"
is "$(cmp -s "$T/mon/l1" "$T/mon.before" && echo same)" same \
	"the reader wrote nothing into the file"
rm -f "$T/mon/l1"
run as_reader cw-stats -f "$T/mon/l1"
is "$status:$(test -e "$T/mon/l1" || echo absent)" 74:absent \
	"a missing file is not created by a reader"

# cw-stats keys into a pipe nobody reads holds no lock while it waits: a
# writer goes on. 300 entries with 240-byte keys overflow the pipe's
# 64 KiB buffer.
printf '#!/bin/sh\nprintf v\n' >"$T/any"
chmod +x "$T/any"
export CW_SOURCE="exec:$T/any"
rm -f "$CW_L1_FILE"
pad=$(printf '%0230d' 0)
i=0
while [ $i -lt 300 ]; do echo "key-$i-$pad"; i=$((i + 1)); done |
	cw-get - >/dev/null
mkfifo "$T/fifo"
cw-stats keys >"$T/fifo" &
lister=$!
exec 3<"$T/fifo"	# opened, never read: the lister blocks in write
sleep 0.3
t0=$(date +%s%3N)
run timeout 10 cw-get new-key-after-the-listing
took=$(($(date +%s%3N) - t0))
is "$status" 0 "a fill while cw-stats keys is blocked on its output"
is "$([ "$took" -lt 1500 ] && echo quick)" quick "does not wait for it (${took} ms)"
kill "$lister" 2>/dev/null
exec 3<&-
wait "$lister" 2>/dev/null
unset CW_SOURCE
finish
