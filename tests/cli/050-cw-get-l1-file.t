#!/bin/sh
# The L1 file from the command line: refusals never touch the file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 15

k=labels:EUR_USD:H4:2024-01-02
printf 'precious\n' >"$T/foreign"
run cw-get -f "$T/foreign" "$k"
is "$status" 74 "a foreign L1 file: exit 74"
is "$(cat "$T/err")" \
	"cw-get: $T/foreign: not a cachewarm L1 file (refusing to touch it); going on without it" \
	"the refusal says why"
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
# (Under make coverage, gcov adds its own complaint: nobody cannot write
# the profile.)
is "$(grep -v '^profiling:' "$T/err")" \
	"cw-get: create $T/ro/l1: Permission denied; going on without it" \
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
is "$(sed -n 2p "$T/par.1")" \
	"2024-01-02T00:00:00Z,EUR_USD,H4,1.10561,1.10721,1.10561,1.10631,3738,0.000419,0" \
	"and carry the value"
# The host-wide setup shipped in share/ (cw-host.conf, cachewarm.tmpfiles),
# laid in $T: a setgid directory of the group, two users, one L1 file and
# one access log. Run as root (as CI does): root and nobody, in nogroup.
if [ "$(id -u)" -eq 0 ]; then
	sed -e "s|/var/cache/cw|$T/hostcw|g" -e 's/^group = cw$/group = nogroup/' \
		"$ROOT/share/cw-host.conf" >"$T/host.conf"
	mkdir "$T/hostcw" && chgrp nogroup "$T/hostcw" && chmod 2770 "$T/hostcw"
	# CW_L1_FILE would override the file's l1.file.
	env -u CW_L1_FILE cw-get -c "$T/host.conf" "$k" >/dev/null
	is "$(stat -c '%a %G' "$T/hostcw/l1" "$T/hostcw/access.log" | tr '\n' ' ')" \
		"660 nogroup 660 nogroup " "the first user's L1 file and log: 0660, the group's"
	run env -u CW_L1_FILE HOME="$T/nobody" XDG_CACHE_HOME="$T/nobody" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		cw-get -v -c "$T/host.conf" "$k" labels:EUR_USD:H4:2024-01-03
	is "$status:$(grep -c ': l1 hit\|: l3 hit' "$T/err"):$(grep -c 'l1 hit' "$T/err")" "0:2:1" \
		"another user of the group: the first one's entry from L1, its own from the source"
	run env -u CW_L1_FILE cw-get -v -c "$T/host.conf" labels:EUR_USD:H4:2024-01-03
	is "$(untimed "$T/err")" "cw-get: labels:EUR_USD:H4:2024-01-03: l1 hit in T us" \
		"and the first user reads the other's"
	is "$(cut -d, -f2,3 "$T/hostcw/access.log" | tr '\n' ' ')" \
		"$k,l3 $k,l1 labels:EUR_USD:H4:2024-01-03,l3 labels:EUR_USD:H4:2024-01-03,l1 " \
		"one access log for both, every lookup in it"
else
	for _ in 1 2 3 4; do ok "# skip the shared setup needs two users (run as root)"; done
fi
# An access log that cannot be opened costs the log, not the answers.
: >"$T/not-a-dir"
printf '[log]\nfile = %s/not-a-dir/access.log\n' "$T" >"$T/badlog.conf"
run cw-get -c "$T/badlog.conf" "$k"
is "$status:$(cat "$T/err")" \
	"0:cw-get: open $T/not-a-dir/access.log: Not a directory; going on without it" \
	"an access log that cannot be opened: said once, the key answered, exit 0"
finish
