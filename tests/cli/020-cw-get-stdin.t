#!/bin/sh
# cw-get -: keys from stdin, TSV columns, blank lines, pipes.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 10

printf '%s\n' labels:EUR_USD:H4:2024-01-02 '' \
	"labels:GBP_USD:H1:2024-01-03	0.93	high	session" \
	labels:AUD_USD:D:2024-01-04 >"$T/keys"
run cw-get - <"$T/keys"
is "$status" 0 "stdin batch exits 0"
is "$(wc -l <"$T/out" | tr -d ' ')" 3 "one line per key, blank lines skipped"
is "$(cut -f1 "$T/out" | sed -n 2p)" labels:GBP_USD:H1:2024-01-03 \
	"only the first TSV column is the key"

run cw-get -o json - <"$T/keys"
is "$(grep -c '^{"key":' "$T/out")" 3 "-o json with stdin: JSON Lines"

# Values round-trip through the TSV escaping: decode and compare.
cw-get labels:EUR_USD:H4:2024-01-02 >"$T/raw"
printf 'labels:EUR_USD:H4:2024-01-02\n' | cw-get - | cut -f2- |
	sed 's/\\n/\n/g' | sed '$d' >"$T/decoded"
is "$(cmp -s "$T/raw" "$T/decoded" && echo same)" same \
	"a TSV value decodes to the raw value"

# A pipe closed early ends quietly.
i=0
while [ $i -lt 3000 ]; do
	echo labels:EUR_USD:H4:2024-01-02
	i=$((i + 1))
done >"$T/many"
cw-get - <"$T/many" 2>"$T/err" | head -1 >/dev/null
is "$(cat "$T/err")" "" "closing the pipe early prints no error"

run cw-get - </dev/null
is "$status" 0 "empty stdin exits 0"

run cw-get - labels:EUR_USD:H4:2024-01-02
is "$status" 2 "'-' mixed with keys is a usage error"

printf 'labels:EUR_USD:H4:2024-01-02\nbad key\n' | cw-get - >"$T/out" 2>"$T/err"
is "$?" 65 "a bad key on stdin: exit 65, the rest answered"

# An operator's key file: comments and blank lines are not keys.
printf '# London morning\n\nlabels:EUR_USD:H4:2024-01-02\n  \n# end\n' |
	cw-get - >"$T/out" 2>"$T/err"
is "$?:$(cut -f1 "$T/out"):$(cat "$T/err")" "0:labels:EUR_USD:H4:2024-01-02:" \
	"# comments and blank lines on stdin are skipped"
finish
