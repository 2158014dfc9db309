#!/bin/sh
# bench/run.sh: every benchmark, figures on stdout (make bench).
# Ratios are measured within one run: the machine is shared and noisy.
set -eu
: "${CW_BIN:?run through make bench}" "${CW_BUILD:?}"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(mktemp -d "${TMPDIR:-/tmp}/cwbench.XXXXXX")
trap 'rm -rf "$B"' EXIT INT TERM
export HOME="$B" XDG_CACHE_HOME="$B/cache" XDG_CONFIG_HOME="$B/config"
export CW_L1_FILE="$B/l1"
unset CW_CONFIG CW_SOURCE

echo "== L1 get, one process, 100k entries of 100 bytes (ns per get)"
"$CW_BUILD/bench/l1get" "$B"

echo "== cw-get answering one key from L1, whole process (median us)"
k=labels:EUR_USD:H4:2024-01-02
"$CW_BIN/cw-get" "$k" >/dev/null
"$CW_BUILD/bench/spawn" 300 -- "$CW_BUILD/bench/noop" --- \
	"$CW_BIN/cw-get" "$k" | tee "$B/spawn"
awk 'NR == 1 { floor = $2 } NR == 2 { printf "cw_get_over_noop %.2f\n", $2 / floor }' \
	"$B/spawn"

# million GRANULARITY_GLOB LABEL: 1M lookups of that data's keys, all hits.
million() {
	find "$ROOT/share/data/labels" -name "$1.csv" | while read -r f; do
		g=$(basename "$f" .csv)
		i=$(basename "$(dirname "$f")")
		cut -c1-10 "$f" | sed 1d | sort -u | sed "s/^/labels:$i:$g:/" |
			head -40
	done >"$B/keys"
	nkeys=$(wc -l <"$B/keys")
	"$CW_BIN/cw-get" -c "$B/cw.conf" - <"$B/keys" >"$B/values"
	bytes=$(wc -c <"$B/values")
	awk -v n="$nkeys" '{ for (i = 0; i < int(1000000 / n) + 1; i++) print }' \
		"$B/keys" | head -1000000 >"$B/million"
	t0=$(date +%s.%N)
	"$CW_BIN/cw-get" -c "$B/cw.conf" - <"$B/million" >/dev/null
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk -v n="$nkeys" -v b="$bytes" -v l="$2" '{
		printf "%s keys_per_s %.0f (%d distinct keys, %.0f output bytes per key, %.2f s)\n",
		    l, 1000000 / ($2 - $1), n, b / n, $2 - $1 }'
}

echo "== cw-get - with 1M keys on stdin, all L1 hits (keys per second)"
printf '[l1]\nmax_entries = 4096\nmax_bytes = 256M\nttl = 1h\n' >"$B/cw.conf"
million D daily_bars
million '*' all_granularities

echo "== Eviction quality on ../shared/traces (miss ratio)"
"$CW_BUILD/bench/evict" "$ROOT"/../shared/traces/cache2k_web12.csv \
	"$ROOT"/../shared/traces/cache2k_orm_busy_1m.csv \
	"$ROOT"/../shared/traces/cloudphysics_io.csv || true
