#!/bin/sh
# bench/evictgen and bench/evict: the shapes are what they say, the same
# seed gives the same trace, and the reference policies replay a trace
# small enough to count by hand to the exact figures.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 10

gen=$CW_BUILD/bench/evictgen
evict=$CW_BUILD/bench/evict
"$gen" --shape burst --requests 20000 --keys 500 --seed 7 >"$T/a"
"$gen" --shape burst --requests 20000 --keys 500 --seed 7 >"$T/b"
"$gen" --shape burst --requests 20000 --keys 500 --seed 8 >"$T/c"
is "$(cmp -s "$T/a" "$T/b" && echo same)" same "the same seed, the same trace"
is "$(cmp -s "$T/a" "$T/c" || echo differ)" differ "another seed, another trace"
is "$(cksum <"$T/a")" "2541671791 259277" "seed 7's burst trace, exactly"
"$gen" --shape loop --share 1 --loop 3 --requests 7 >"$T/loop"
is "$(cut -d, -f2 "$T/loop" | tr '\n' ' ')" "key l0 l1 l2 l0 l1 l2 l0 " \
	"a pure loop reads its keys in order, over and over"
"$gen" --shape scan --share 0.5 --loop 100 --requests 10000 >"$T/scan"
is "$(grep -c ',s[0-9]' "$T/scan") $(grep ',s[0-9]' "$T/scan" | cut -d, -f2 | sort -u |
	wc -l | tr -d ' ')" "5000 5000" "a scan's keys are read once each"

# a b a b c a b in a cache of 2: LRU, FIFO, CLOCK and SIEVE miss 5 of 7;
# ARC and LIRS keep a or b and miss 4, and so does Belady, which must
# store c (as the L1 must) and evicts b, used last.
printf 'ts,key,size\n0,a,1\n1,b,1\n2,a,1\n3,b,1\n4,c,1\n5,a,1\n6,b,1\n' \
	>"$T/tiny.csv"
run "$evict" --sizes 66.67 "$T/tiny.csv"
is "$(grep '^| tiny' "$T/out" | cut -d'|' -f2-14)" \
	" tiny | 66.67% | 2 | 0.7143 | 0.7143 | 0.7143 | 0.7143 | 0.7143 | 0.5714 | 0.5714 | 0.5714 | 0.7143 | 0.5714 " \
	"the reference policies on a trace counted by hand"
# Any trace gets its rows, at 1% and 10% of its keys by default.
run "$evict" "$T/a"
is "$(grep -c '^| a |' "$T/out")" 2 "a trace of any name: a row per size"
run "$evict"
is "$status" 64 "no trace: usage, exit 64"
run "$evict" --sizes 0 "$T/a"
is "$status" 64 "a size of 0%: usage, exit 64"
run "$evict" "$T/missing"
is "$status:$(cat "$T/err")" \
	"74:evict: $T/missing: No such file or directory" \
	"a trace that cannot be read: exit 74, saying why"
finish
