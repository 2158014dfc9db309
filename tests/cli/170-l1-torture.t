#!/bin/sh
# The L1 file's ordeal, CI's slice of make torture (tests/tools/l1torture.c
# says what each mode does and checks): a few hundred kills of writers, a
# few seconds of every operation at once, a writer stopped inside the lock.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 6

torture=$CW_BUILD/tests/l1torture

run "$torture" kill "$T" 300
is "$status:$(cat "$T/err")" 0: "300 writers SIGKILLed: no error"
is "$(cat "$T/out")" \
	"kill: 300 kills survived, every file verified whole and every value intact" \
	"every file verified whole after each kill"

run "$torture" mixed "$T" 4 3
is "$status:$(cat "$T/err")" 0: "4 processes of every operation for 3 s: no deadlock, no torn value"
is "$(sed -E 's/^mixed: [0-9]+ operations, [0-9]+ reads \(slowest [0-9.]+ [mu]?s, [0-9]+ over 250 ms\), //' "$T/out")" \
	"0 torn, 0 lock timeouts, 0 other errors" \
	"no lock timed out, nothing failed"

run "$torture" stop "$T" 4
is "$status:$(cat "$T/err")" 0: \
	"a writer stopped inside the lock: readers never over 250 ms, writers told, file whole"
stops=$(sed -n 's/^stop: writer stopped \([0-9]*\) times$/\1/p' "$T/out")
is "$([ "${stops:-0}" -ge 2 ] && echo yes)" yes "stopped at least twice in 4 s ($stops), the first time for 2.5 s"
finish
