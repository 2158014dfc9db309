#!/bin/sh
# Hardening: what the caller, the disk or another process does never
# hangs, crashes or damages the shared L1 file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 9

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
finish
