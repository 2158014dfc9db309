#!/bin/sh
# The L1 file from the command line: refusals never touch the file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 10

k=labels:EUR_USD:H4:2024-01-02
printf 'precious\n' >"$T/foreign"
run cw-get -f "$T/foreign" "$k"
is "$status" 74 "a foreign L1 file: exit 74"
has "$T/err" "not a cachewarm L1 file" "the refusal says why"
is "$(cat "$T/foreign")" precious "the foreign file is untouched"

ln -s "$T/l1" "$T/link"
run cw-get -f "$T/link" "$k"
is "$status" 74 "a symlinked L1 file is refused"

run cw-get "$k"
is "$(stat -c %a "$CW_L1_FILE")" 600 "the L1 file is created mode 0600"
run cw-get -f "$T/made/for/it/l1" "$k"
is "$status:$(stat -c %a "$T/made" "$T/made/for/it" | tr '\n' ' ')" "0:700 700 " \
	"the directories made for it are the user's alone (0700)"

# A directory the user cannot write. Root may write anywhere, so as root
# (CI) the lookup runs as nobody, with a home of its own.
mkdir "$T/ro" && chmod 555 "$T/ro"
if [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$T"
	mkdir "$T/nobody" && chown nobody "$T/nobody"
	run env HOME="$T/nobody" XDG_CACHE_HOME="$T/nobody" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		cw-get -f "$T/ro/l1" "$k"
else
	run cw-get -f "$T/ro/l1" "$k"
fi
is "$status" 74 "an L1 file that cannot be created: exit 74"
has "$T/err" "cw-get: create $T/ro/l1: Permission denied; going on without it" \
	"saying why, once, and serving the key from the source"

# Six processes at once on a fresh file: all answer, same bytes.
rm -f "$CW_L1_FILE"
for i in 1 2 3 4 5 6; do
	cw-get "$k" >"$T/par.$i" 2>&1 &
done
wait
bad=0
for i in 2 3 4 5 6; do cmp -s "$T/par.1" "$T/par.$i" || bad=1; done
is "$bad" 0 "concurrent first lookups agree"
has "$T/par.1" "2024-01-02T00:00:00Z" "and carry the value"
finish
