#!/bin/sh
# cw-bench generate: deterministic, sorted, valid keys, sessions in their
# own time zones, weekends quiet.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 15

cw-bench generate --seed 3 --weeks 2 --rate 50 >"$T/a"
cw-bench generate --seed 3 --weeks 2 --rate 50 >"$T/b"
cw-bench generate --seed 4 --weeks 2 --rate 50 >"$T/c"
is "$(cmp -s "$T/a" "$T/b" && echo same)" same "the same seed, the same trace"
is "$(cmp -s "$T/a" "$T/c" || echo differ)" differ "another seed, another trace"
# Byte for byte the trace this generator has always made for seed 3:
# a benchmark's workload must not move under its figures.
is "$(cksum <"$T/a")" "2002515744 2556231" "seed 3's trace, exactly"
is "$(cut -d, -f1 "$T/a" | sort -c -n 2>&1 && echo sorted)" sorted \
	"in time order"
run cw-predict --learn --rebuild --log "$T/a" --at 2024-03-18T00:00Z
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "every line a valid ts,key"
is "$(awk -F, '{ d = int($1 / 86400); w = (d + 3) % 7; n[w >= 5]++ }
	END { print (n[1] * 20 < n[0]) }' "$T/a")" 1 "weekends are quiet"
# London-only pairs: busiest at 08 UTC in March (GMT), 07 UTC in April
# (BST): the sessions move with their own clocks.
cw-bench generate --seed 1 --weeks 2 --start 2024-03-25 --rate 400 \
	--instruments EUR_GBP >"$T/dst"
peak() {
	awk -F, -v day="$1" '$1 >= day && $1 < day + 86400 {
		h = int(($1 - day) / 3600); n[h]++ }
		END { for (h in n) if (n[h] > best) { best = n[h]; at = h }
		print at }' "$T/dst"
}
is "$(peak 1711324800)" 8 "Monday 25 March (GMT): peak at 08 UTC"
is "$(peak 1711929600)" 7 "Monday 1 April (BST): peak at 07 UTC"
# The wide desk: its own trace, deterministic, reading weekend dates;
# the classic trace above is unmoved by it. Its truth: every hour from
# the first, largest first, each line hour_s,key,expected.
cw-bench generate --seed 3 --weeks 1 --rate 50 --wide --truth "$T/truth" \
	>"$T/w1"
cw-bench generate --seed 3 --weeks 1 --rate 50 --wide >"$T/w2"
is "$(cmp -s "$T/w1" "$T/w2" && echo same)" same "--wide: the same seed, the same trace"
is "$(awk -F, '{ split($2, k, ":"); split(k[4], d, "-")
	t = mktime(d[1] " " d[2] " " d[3] " 12 00 00")
	if (strftime("%u", t, 1) >= 6) n++ } END { print (n > 0) }' "$T/w1")" 1 \
	"--wide reads dates of weekends (calendar days back)"
is "$(awk -F, 'NR == 1 { first = $1 } $1 != h { h = $1; n++; prev = 1e99 }
	$3 > prev { bad++ } { prev = $3 }
	END { print first, n, bad + 0 }' "$T/truth")" "1709510400 168 0" \
	"the truth: 168 hours from the first, each largest first"
run cw-bench generate --truth /nonexistent/dir/truth
is "$status" 73 "an unwritable truth file: exit 73"
run cw-bench generate --instruments 'EUR USD'
is "$status" 2 "a bad instrument: exit 2"
run cw-bench generate --weeks 0
is "$status" 2 "--weeks 0: exit 2"
run cw-bench
is "$status" 2 "no command: exit 2"
finish
