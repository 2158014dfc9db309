#!/bin/sh
# coverage.sh BUILD_DIR: line and branch coverage of each lib/ module
# from the .gcda files a --coverage build left after the suite ran, then
# the totals. Used by make coverage.
set -eu
b=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$b/lib"
for f in "$root"/lib/*.c; do
	name=$(basename "$f")
	gcov -b -n -o . "$f" 2>/dev/null | awk -v f="$name" '
		/^File / { on = index($0, "/" f "\x27") > 0 }
		on && /^Lines executed:/ { split($0, a, /[:% ]+/); lp = a[3]; ln = a[5] }
		on && /^Taken at least once:/ { split($0, a, /[:% ]+/); bp = a[5]; bn = a[7]
			printf "%s %s %s %s %s\n", f, lp, ln, bp, bn; on = 0 }'
done | awk '{
	printf "%-16s lines %6.2f%% of %5d   branches %6.2f%% of %5d\n", $1, $2, $3, $4, $5
	lh += $2 * $3 / 100; lt += $3; bh += $4 * $5 / 100; bt += $5 }
	END { printf "%-16s lines %6.2f%% of %5d   branches %6.2f%% of %5d\n",
	    "lib/ total", 100 * lh / lt, lt, 100 * bh / bt, bt }'
