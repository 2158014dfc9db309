#!/bin/sh
# cw-stats resize under a running reader; the hot list: dump, lose the
# file, warm it back; cw-warm --refresh-ahead from the readers' log.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 18

conf() {
	printf '[l1]\nfile = %s\nmax_entries = %s\nmax_bytes = %s\n' \
		"$CW_L1_FILE" "$1" "$2" >"$T/cw.conf"
}
conf 100 1M
run cw-warm -c "$T/cw.conf" --session london --at 2024-01-03T07:45Z
is "$status" 0 "16 sample keys warmed into a 100-entry file"
cut -f1 "$T/out" >"$T/keys"
# Three keys read more than the rest: the hottest.
hot="labels:GBP_USD:H4:2024-01-02 labels:EUR_USD:D:2024-01-03 labels:GBP_USD:M15:2024-01-02"
for k in $hot $hot; do cw-get -c "$T/cw.conf" "$k" >/dev/null; done
hot_sorted=$(echo "$hot" | tr ' ' '\n' | sort | tr '\n' ' ')

# A reader that stays up across the resize, its keys fed through a fifo.
mkfifo "$T/fifo"
cw-get -c "$T/cw.conf" - <"$T/fifo" >"$T/read" 2>"$T/read.err" &
reader=$!
exec 3>"$T/fifo"
cat "$T/keys" >&3
sleep 0.3
conf 400 4M
run cw-stats -c "$T/cw.conf" resize
is "$status:$(cat "$T/out")" \
	"0:$CW_L1_FILE: 100 entries, 1048576 bytes -> 400 entries, 4194304 bytes; kept 16 of 16 fresh entries" \
	"resize: the line, every fresh entry kept"
cat "$T/keys" >&3
exec 3>&-
wait "$reader"
is "$?:$(cat "$T/read.err")" "0:" "the reader ran across it: exit 0, nothing on stderr"
cw-get -c "$T/cw.conf" - <"$T/keys" >"$T/want"
is "$(cat "$T/want" "$T/want" | cksum)" "$(cksum <"$T/read")" \
	"and read every value right, before and after"
run cw-stats -c "$T/cw.conf" -o json
is "$(grep -o '"max_entries":[0-9]*' "$T/out")" '"max_entries":400' \
	"cw-stats sees the new capacity"
hits=0
while read -r k; do
	cw-get -v -c "$T/cw.conf" "$k" 2>&1 >/dev/null | grep -q ': l1 hit' &&
		hits=$((hits + 1))
done <"$T/keys"
is "$hits" 16 "right after: every key an L1 hit"
run cw-stats -c "$T/cw.conf" resize
is "$status:$(cat "$T/out")" \
	"0:$CW_L1_FILE: already 400 entries, 4194304 bytes: nothing to do" \
	"the same capacity again: nothing to do"

# The hot list. The access marks count to three, so the reads above
# have made every key as hot as can be: start again from a file warmed
# afresh, where the keys read twice are the hottest.
rm -f "$CW_L1_FILE"
cw-warm -c "$T/cw.conf" - <"$T/keys" >/dev/null 2>&1
for k in $hot $hot; do cw-get -c "$T/cw.conf" "$k" >/dev/null; done
run cw-stats -c "$T/cw.conf" keys --hot 3
is "$(cut -f1 "$T/out" | sort | tr '\n' ' ')" "$hot_sorted" \
	"keys --hot 3: the three read most"
# A resize carries the access counts over: the new file's hot list is
# the old one's.
conf 200 2M
cw-stats -c "$T/cw.conf" resize >/dev/null 2>&1
run cw-stats -c "$T/cw.conf" keys --hot 3
is "$(cut -f1 "$T/out" | sort | tr '\n' ' ')" "$hot_sorted" \
	"resized: the same three read most"
run cw-stats -c "$T/cw.conf" dump "$T/hot.keys"
is "$status:$(wc -l <"$T/hot.keys" | tr -d ' ')" "0:16" "dump: every resident value's key"
is "$(head -n 3 "$T/hot.keys" | sort | tr '\n' ' ')" "$hot_sorted" \
	"hottest first"
rm -f "$CW_L1_FILE"
run sh -c "cw-warm -c '$T/cw.conf' - <'$T/hot.keys'"
is "$status:$(cut -f2 "$T/out" | sort | uniq -c | tr -s ' ')" "0: 16 warmed" \
	"a lost file: cw-warm - takes the list back"
run cw-stats -c "$T/cw.conf" dump
is "$status" 2 "dump without a file: usage error"

# Refresh-ahead: what the readers read in the last 15 minutes (the log
# every cw-get writes; cw-warm's own fills are not in it).
rm -f "$XDG_CACHE_HOME/cw/access.log"
# shellcheck disable=SC2086 # three keys, split on purpose
cw-get -c "$T/cw.conf" $hot >/dev/null
run cw-warm -c "$T/cw.conf" --refresh-ahead
is "$status:$(cut -f1,2 "$T/out" | sort | tr '\t\n' ': ')" \
	"0:labels:EUR_USD:D:2024-01-03:fresh labels:GBP_USD:H4:2024-01-02:fresh labels:GBP_USD:M15:2024-01-02:fresh " \
	"--refresh-ahead: the three keys read, each with most of its lifetime left"
run cw-warm -c "$T/cw.conf" --refresh-ahead --below 1
is "$status:$(cut -f2 "$T/out" | sort | uniq -c | tr -s ' ')" "0: 3 warmed" \
	"--below 1: every one refetched"
rm -f "$XDG_CACHE_HOME/cw/access.log"
run cw-warm -c "$T/cw.conf" --refresh-ahead --below 1
is "$status:$(cat "$T/out")" "0:" "nothing read lately: nothing refreshed"
run cw-warm --refresh-ahead labels:EUR_USD:D:2024-01-03
is "$status" 2 "--refresh-ahead with keys: usage error"
run cw-warm --below 0.5 labels:EUR_USD:D:2024-01-03
is "$status" 2 "--below without --refresh-ahead: usage error"
finish
