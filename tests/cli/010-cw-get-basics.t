#!/bin/sh
# cw-get: one key, several keys, formats, levels and exit codes.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 26

k=labels:EUR_USD:H4:2024-01-01
data="$ROOT/share/data/labels/EUR_USD/H4.csv"

run cw-get "$k"
is "$status" 0 "found key exits 0"
{ head -1 "$data"; grep '^2024-01-01T' "$data"; } >"$T/want"
is "$(cmp -s "$T/out" "$T/want" && echo same)" same \
	"one key prints the header and the day's rows, raw"
is "$(wc -l <"$T/out" | tr -d ' ')" 7 "an H4 day has six bars and a header"
is "$(cat "$T/err")" "" "nothing on stderr"

run cw-get -v "$k"
is "$status" 0 "second lookup exits 0"
is "$(untimed "$T/err")" "cw-get: $k: l1 hit in T us" \
	"-v shows the second lookup answered by l1"

rm -f "$CW_L1_FILE"
run cw-get -v "$k"
is "$(untimed "$T/err")" "cw-get: $k: l3 hit in T us" \
	"-v shows a cold lookup answered by the source"

run cw-get labels:EUR_USD:H4:2024-01-06
is "$status" 1 "a Saturday (market closed) is not found: exit 1"
is "$(cat "$T/err")" "cw-get: labels:EUR_USD:H4:2024-01-06: not found" \
	"not found is said on stderr"
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "not found prints nothing on stdout"

run cw-get -q labels:XAU_USD:H4:2024-01-02
is "$status" 1 "unknown instrument: exit 1"
is "$(cat "$T/err")" "" "-q silences not found"

run cw-get "$k" labels:GBP_USD:D:2024-01-02 labels:EUR_USD:H4:2024-01-06
is "$status" 1 "several keys with one missing: exit 1"
is "$(wc -l <"$T/out" | tr -d ' ')" 2 "several keys: one TSV line per key found"
is "$(cut -f1 "$T/out" | tr '\n' ' ')" "$k labels:GBP_USD:D:2024-01-02 " \
	"TSV lines start with the key, in order"
is "$(head -1 "$T/out" | cut -f2 | cut -c1-103)" \
	'ts,instrument,granularity,open,high,low,close,volume,fwd_return,label\n2024-01-01T00:00:00Z,EUR_USD,H4,' \
	"TSV values escape newlines"

run cw-get -o json "$k"
is "$status" 0 "json exits 0"
is "$(cut -c1-80 "$T/out"):$(wc -l <"$T/out" | tr -d ' ')" \
	"{\"key\":\"$k\",\"value\":\"ts,instrument,granularity,open,hi:1" \
	"-o json is one JSON line"

run cw-get "bad key" "$k"
is "$status" 65 "a malformed key: exit 65"
is "$(cat "$T/err")" "cw-get: key 'bad key': whitespace or control character" \
	"the malformed key is named"
is "$(wc -l <"$T/out" | tr -d ' ')" 1 "the good key is still answered"

run cw-get "labels:EUR'USD:H4:2024-01-01" missing:EUR_USD:H4:2024-01-01
is "$status" 65 "65 outranks 1 in a batch"

run cw-get --no-fill labels:USD_JPY:H1:2024-02-01
rm -f "$T/out"
run cw-get -v --no-fill labels:USD_JPY:H1:2024-02-01
is "$(untimed "$T/err")" "cw-get: labels:USD_JPY:H1:2024-02-01: l3 hit in T us" \
	"--no-fill leaves L1 empty"

run cw-get -v --ttl 1s labels:USD_JPY:H1:2024-02-02
is "$(untimed "$T/err")" "cw-get: labels:USD_JPY:H1:2024-02-02: l3 hit in T us" \
	"--ttl accepted"

# A value over source.max_value_size from the CSV source: refused (65),
# named, and not cached: the next lookup asks the source again.
printf '[source]\nmax_value_size = 10\n' >"$T/small.conf"
run cw-get -c "$T/small.conf" labels:AUD_USD:H4:2024-01-02
is "$status:$(cat "$T/err")" \
	"65:cw-get: csv labels:AUD_USD:H4:2024-01-02: value of 555 bytes, over source.max_value_size" \
	"a CSV value over source.max_value_size: exit 65, named"
run cw-get -v labels:AUD_USD:H4:2024-01-02
is "$(untimed "$T/err")" "cw-get: labels:AUD_USD:H4:2024-01-02: l3 hit in T us" \
	"and not cached"
finish
