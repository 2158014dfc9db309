#!/bin/sh
# bench/run.sh: every benchmark, figures on stdout (make bench).
# Ratios are measured within one run: the machine is shared and noisy.
set -eu
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

echo "== L1 get, one process, 100k entries of 100 bytes (ns per get)"
"$CW_BUILD/bench/l1get" "$B"

echo "== cw-get answering one key from L1, whole process (median us)"
k=labels:EUR_USD:H4:2024-01-02
"$CW_BIN/cw-get" "$k" >/dev/null
"$CW_BUILD/bench/spawn" 300 -- "$CW_BUILD/bench/noop" --- \
	"$CW_BIN/cw-get" "$k" | tee "$B/spawn"
awk 'NR == 1 { floor = $2 } NR == 2 { printf "cw_get_over_noop %.2f\n", $2 / floor }' \
	"$B/spawn"

echo "== what linking libcurl would add to every start (median us)"
"$CW_BUILD/bench/spawn" 300 -- "$CW_BUILD/bench/noop" --- \
	"$CW_BUILD/bench/noop-curl" | tee "$B/spawn"
awk 'NR == 1 { floor = $2 } NR == 2 { printf "libcurl_link_cost_us %.0f (%.2fx a no-op)\n", $2 - floor, $2 / floor }' \
	"$B/spawn"

# An awk function: med(v, n), the median of v[1..n] (sorts v).
MEDIAN='function med(v, n,  i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return v[int((n + 1) / 2)] }'

# million GRANULARITY_GLOB LABEL: 1M lookups of that data's keys, all hits,
# by cw-get - from L1 and by a memcached multi-get client holding the same
# bytes, three rounds of each in turn; the medians, and their ratio.
million() {
	find "$ROOT/share/data/labels" -name "$1.csv" | while read -r f; do
		g=$(basename "$f" .csv)
		i=$(basename "$(dirname "$f")")
		cut -c1-10 "$f" | sed 1d | sort -u | sed "s/^/labels:$i:$g:/" |
			head -40
	done >"$B/keys"
	nkeys=$(wc -l <"$B/keys")
	"$CW_BIN/cw-get" -c "$B/cw.conf" - <"$B/keys" >"$B/values"
	"$CW_BUILD/bench/mcget" "$MC_PORT" set <"$B/values"
	bytes=$(wc -c <"$B/values")
	awk -v n="$nkeys" '{ for (i = 0; i < int(1000000 / n) + 1; i++) print }' \
		"$B/keys" | head -1000000 >"$B/million"
	cp "$B/million" "$B/million.$2"
	"$CW_BIN/cw-get" -c "$B/cw.conf" - <"$B/million" >"$B/cw.out"
	"$CW_BUILD/bench/mcget" "$MC_PORT" get <"$B/million" >"$B/mc.out"
	cmp -s "$B/cw.out" "$B/mc.out" ||
		echo "$2: memcached's answers differ from cw-get's" >&2
	: >"$B/times"
	for run in 1 2 3; do
		t0=$(date +%s.%N)
		"$CW_BIN/cw-get" -c "$B/cw.conf" - <"$B/million" >/dev/null
		t1=$(date +%s.%N)
		"$CW_BUILD/bench/mcget" "$MC_PORT" get <"$B/million" >/dev/null
		t2=$(date +%s.%N)
		echo "$t0 $t1 $t2" >>"$B/times"
	done
	awk -v n="$nkeys" -v b="$bytes" -v l="$2" '
		{ cw[NR] = $2 - $1; mc[NR] = $3 - $2 }
		'"$MEDIAN"'
		END { c = med(cw, NR); m = med(mc, NR)
		printf "%s keys_per_s %.0f (%d distinct keys, %.0f output bytes per key, %.2f s); memcached multi-get %.2f s; cw_get_over_memcached %.2f\n",
		    l, 1000000 / c, n, b / n, c, m, c / m }' "$B/times"
}

echo "== cw-get - with 1M keys on stdin, all L1 hits, beside memcached (keys per second)"
printf '[l1]\nmax_entries = 4096\nmax_bytes = 256M\nttl = 1h\n' >"$B/cw.conf"
start_memcached
million D daily_bars
million '*' all_granularities

echo "== instructions per key of cw-get - on L1 hits of daily bars (callgrind)"
if command -v valgrind >/dev/null 2>&1; then
	head -20000 "$B/million.daily_bars" >"$B/k20k"
	head -1 "$B/million.daily_bars" >"$B/k1"
	for f in k1 k20k; do
		valgrind --tool=callgrind --callgrind-out-file="$B/cg.$f" \
			"$CW_BIN/cw-get" -c "$B/cw.conf" - <"$B/$f" >/dev/null \
			2>"$B/cg.$f.err"
		sed -n 's/.*Collected : //p' "$B/cg.$f.err" >"$B/ir.$f"
	done
	awk '{ v[FILENAME] = $1 } END {
		printf "batch_hit_path_instructions_per_key %.0f (target 1500)\n",
		    (v[ARGV[2]] - v[ARGV[1]]) / 19999 }' "$B/ir.k1" "$B/ir.k20k"
fi

echo "== L1 beside LMDB: lone and batched gets, batched stores (ns)"
"$CW_BUILD/bench/lmdb" "$B"

# make bench-peers: the paths measured beside their peers, and no more.
ONLY=${CW_BENCH_ONLY:-}
if [ "$ONLY" != peers ]; then
echo "== Eviction quality on ../shared/traces (miss ratio)"
"$CW_BUILD/bench/evict" "$ROOT"/../shared/traces/cache2k_web12.csv \
	"$ROOT"/../shared/traces/cache2k_orm_busy_1m.csv \
	"$ROOT"/../shared/traces/cloudphysics_io.csv || true

g="$CW_BUILD/bench/evictgen"
# shapes: lines "NAME EVICTGEN-OPTIONS" on stdin, each trace made into
# $B/NAME.csv, then all of them replayed in one bench/evict table.
shapes() {
	set --
	while read -r name options; do
		# shellcheck disable=SC2086 # the options are words
		"$g" $options >"$B/$name.csv"
		set -- "$@" "$B/$name.csv"
	done
	"$CW_BUILD/bench/evict" "$@" || true
}
echo "== Eviction quality on generated shapes (bench/evictgen, seed 1)"
shapes <<'SHAPES'
zipf --shape zipf
loopmix --shape loop --share 0.5
loop --shape loop --share 1 --keys 1 --loop 10000 --requests 300000
scan --shape scan --share 0.3
burst --shape burst --share 0.7
shift --shape shift --share 0.7
SHAPES
echo "-- other seeds and mixes, which nothing was tuned on"
shapes <<'SHAPES'
zipf2 --shape zipf --zipf 1.0 --seed 2
loopmix2 --shape loop --share 0.3 --loop 3000 --seed 2
burst3 --shape burst --share 0.5 --seed 3
scan3 --shape scan --share 0.5 --seed 3
shift2 --shape shift --share 0.5 --seed 2
loopmix3 --shape loop --share 0.8 --loop 20000 --seed 3
SHAPES
echo "-- seeds and mixes drawn after the choice's last setting was fixed (held out)"
shapes <<'SHAPES'
zipf09 --shape zipf --zipf 0.9 --seed 11
loopmix4 --shape loop --share 0.4 --loop 5000 --seed 12
burst4 --shape burst --share 0.6 --seed 13
scan4 --shape scan --share 0.4 --seed 14
shift4 --shape shift --share 0.6 --seed 15
zipf12 --shape zipf --zipf 1.2 --seed 16
SHAPES
echo "-- a loop over 1.5 times the cache (the optimum misses 1 - 1/1.5)"
"$g" --shape loop --share 1 --keys 1 --loop 15000 --requests 300000 >"$B/loop1p5x.csv"
"$CW_BUILD/bench/evict" --sizes 66.67 "$B/loop1p5x.csv" || true
echo "== Issue 19's design study, simulated: S3-FIFO's variants and a selector among them (bench/adaptsim)"
"$CW_BUILD/bench/adaptsim" "$ROOT"/../shared/traces/cache2k_web12.csv \
	"$ROOT"/../shared/traces/cache2k_orm_busy_1m.csv \
	"$ROOT"/../shared/traces/cloudphysics_io.csv "$B/zipf.csv" \
	"$B/loopmix.csv" "$B/loop.csv" "$B/scan.csv" "$B/burst.csv" \
	"$B/shift.csv"
"$CW_BUILD/bench/adaptsim" --sizes 66.67 "$B/loop1p5x.csv"
echo "-- the selector as the L1 sizes it, among its three S3-FIFO policies (tinylfu is not simulated)"
"$CW_BUILD/bench/adaptsim" --mini-max 4096 --among 0,2,4 --margin 0.01 \
	--freeze-margin 0.2 "$ROOT"/../shared/traces/cache2k_web12.csv \
	"$ROOT"/../shared/traces/cache2k_orm_busy_1m.csv \
	"$ROOT"/../shared/traces/cloudphysics_io.csv "$B/zipf.csv" \
	"$B/loopmix.csv" "$B/loop.csv" "$B/scan.csv" "$B/burst.csv" \
	"$B/shift.csv"

fi

echo "== Levels below L1: real redis-server and clickhouse-server"
start_redis
start_clickhouse
write_config
k=labels:EUR_USD:H4:2024-01-02
"$CW_BIN/cw-get" "$k" >/dev/null

echo "-- one key from L2, whole process, next to redis-cli GET (median us)"
"$CW_BUILD/bench/spawn" 300 -- redis-cli -p "$REDIS_PORT" GET "cw:$k" --- \
	"$CW_BIN/cw-get" --no-fill "$k" | tee "$B/spawn"
awk 'NR == 1 { floor = $2 } NR == 2 { printf "cw_get_l2_over_redis_cli %.2f\n", $2 / floor }' \
	"$B/spawn"

echo "-- 10,000 keys through cw-get - answered from L2, beside a pipelined hiredis client"
v=$(head -c 200 /dev/zero | tr '\0' v)
i=0
while [ $i -lt 10000 ]; do
	printf 'SET cw:bench-%d %s\n' $i "$v"
	i=$((i + 1))
done | rcli >/dev/null
i=0
while [ $i -lt 10000 ]; do echo "bench-$i"; i=$((i + 1)); done >"$B/keys10k"
: >"$B/times"
for run in 1 2 3 4 5; do
	t0=$(date +%s.%N)
	"$CW_BIN/cw-get" --no-fill - <"$B/keys10k" >"$B/out10k"
	t1=$(date +%s.%N)
	"$CW_BUILD/bench/redisget" "$REDIS_PORT" cw: <"$B/keys10k" >"$B/peer10k"
	t2=$(date +%s.%N)
	echo "$t0 $t1 $t2" >>"$B/times"
done
cmp -s "$B/out10k" "$B/peer10k" || echo "the hiredis client's answers differ" >&2
awk -v n="$(wc -l <"$B/out10k")" '{ cw[NR] = $2 - $1; pr[NR] = $3 - $2 }
	'"$MEDIAN"'
	END { c = med(cw, NR); p = med(pr, NR)
	printf "%d keys: cw-get - %.1f ms, pipelined hiredis %.1f ms; cw_get_l2_over_hiredis %.2f (target 1.3)\n",
	    n, c * 1000, p * 1000, c / p }' "$B/times"

[ "$ONLY" = peers ] && exit 0

echo "-- 200 distinct cold keys from ClickHouse, next to curl (ms per key)"
chq "INSERT INTO labels SELECT 'BENCH', 'H1',
	toDateTime('2024-01-01 00:00:00') + number * 3600, 1, 'bench'
	FROM numbers(4800)"
chq "SELECT DISTINCT toString(toDate(ts)) FROM labels
	WHERE instrument_id = 'BENCH' ORDER BY 1" >"$B/dates"
sed 's/^/labels:BENCH:H1:/' "$B/dates" >"$B/keys200"
: >"$B/curl.cfg"
while read -r d; do
	q="SELECT ts, label, note FROM labels WHERE instrument_id = 'BENCH' AND granularity = 'H1' AND toDate(ts) = toDate('$d') ORDER BY ts FORMAT CSVWithNames"
	echo "$q" >>"$B/queries"
	printf 'url = "http://127.0.0.1:%s/?database=default"\ndata-binary = "%s"\noutput = /dev/null\nnext\n' \
		"$CH_PORT" "$q" >>"$B/curl.cfg"
done <"$B/dates"
sed -i '$d' "$B/curl.cfg"	# no "next" after the last transfer
for run in 1 2 3; do
	rcli flushall >/dev/null
	rm -f "$CW_L1_FILE"
	t0=$(date +%s.%N)
	"$CW_BIN/cw-get" - <"$B/keys200" >"$B/out200"
	t1=$(date +%s.%N)
	curl -s -K "$B/curl.cfg"
	t2=$(date +%s.%N)
	while read -r q; do
		curl -s "http://127.0.0.1:$CH_PORT/?database=default" \
			--data-binary "$q" >/dev/null
	done <"$B/queries"
	t3=$(date +%s.%N)
	echo "$t0 $t1 $t2 $t3" | awk -v r=$run -v n="$(wc -l <"$B/keys200")" '{
		a = ($2 - $1) * 1000 / n; b = ($3 - $2) * 1000 / n; c = ($4 - $3) * 1000 / n
		printf "run %d: cw-get - %.2f ms/key; curl one process %.2f ms/query (%.2fx); curl per query %.2f ms (%.2fx)\n",
		    r, a, b, a / b, c, a / c }'
done

echo "== cw-warm: 1,000 cold keys from ClickHouse at 20 ms a query, by -j"
cat >>"$B/servers/cw.conf" <<'CONF'
slow = SELECT sleep(0.02), {instrument}, {date} FORMAT CSV
fast = SELECT {instrument}, {date} FORMAT CSV
CONF
d=0
while [ "$d" -lt 100 ]; do
	date -u -d "2024-01-01 + $d days" +%F
	d=$((d + 1))
done >"$B/days100"
keys() {	# keys TYPE INSTRUMENTS: TYPE:I0..I(n-1):G:each of 100 days
	i=0
	while [ "$i" -lt "$2" ]; do
		sed "s/^/$1:I$i:G:/" "$B/days100"
		i=$((i + 1))
	done
}
keys slow 10 >"$B/slow1k"
for j in 1 2 4 8 16 32; do
	rcli flushall >/dev/null
	rm -f "$CW_L1_FILE"
	t0=$(date +%s.%N)
	"$CW_BIN/cw-warm" -j "$j" - <"$B/slow1k" >"$B/warm.out" 2>/dev/null
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk -v j="$j" -v n="$(grep -c '	warmed	' "$B/warm.out")" \
		'{ printf "warm_j%d keys_per_s %.1f (%d warmed, %.2f s)\n", j, n / ($2 - $1), n, $2 - $1 }'
done | tee "$B/curve"
awk '{ v[NR] = $3 } END { r = v[4] / v[1]
	up = v[2] > v[1] && v[3] > v[2] && v[4] > v[3] && v[5] > v[4] && v[6] > v[5]
	printf "j8_over_j1 %.2f (>= 6: %s); rising to 32: %s\n", r,
	    (r >= 6) ? "met" : "NOT met", up ? "met" : "NOT met" }' "$B/curve"

echo "== cw-warm: 10,000 cold keys from ClickHouse without sleep, next to curl"
keys fast 100 >"$B/fast10k"
: >"$B/curl10k.cfg"
while read -r k; do
	i=${k#fast:}; i=${i%%:*}; d=${k##*:}
	printf 'url = "http://127.0.0.1:%s/?database=default"\ndata-binary = "SELECT %s, %s FORMAT CSV"\noutput = /dev/null\nnext\n' \
		"$CH_PORT" "'$i'" "toDate('$d')" >>"$B/curl10k.cfg"
done <"$B/fast10k"
sed -i '$d' "$B/curl10k.cfg"
for run in 1 2; do
	rcli flushall >/dev/null
	rm -f "$CW_L1_FILE"
	t0=$(date +%s.%N)
	"$CW_BIN/cw-warm" -j 16 - <"$B/fast10k" >"$B/warm.out" 2>/dev/null
	t1=$(date +%s.%N)
	curl -s -K "$B/curl10k.cfg"
	t2=$(date +%s.%N)
	echo "$t0 $t1 $t2" | awk -v r=$run -v n="$(grep -c '	warmed	' "$B/warm.out")" '{
		a = n / ($2 - $1); b = 10000 / ($3 - $2)
		printf "run %d: cw-warm -j 16 %.0f keys/s (%d warmed, into L1 and L2); curl one query at a time %.0f queries/s; ratio %.2f\n",
		    r, a, n, b, a / b }'
done

echo "== cw-warm: a session warm-up of the sample data (the seed: 1.1 s)"
unset CW_CONFIG
: >"$B/session.times"
: >"$B/task.ms"
for run in $(seq 1 30); do
	rm -f "$CW_L1_FILE"
	t0=$(date +%s.%N)
	"$CW_BIN/cw-warm" --session newyork --at 2024-01-03T12:45Z >"$B/warm.out" 2>/dev/null
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.6f\n", ($2 - $1) * 1000 }' >>"$B/session.times"
	cut -f4 "$B/warm.out" >>"$B/task.ms"
done
for f in session task; do
	sort -n "$B/$f"* | awk -v what="$f" '{ v[NR] = $1; s += $1 }
		END { p = int(NR * 0.99 + 0.5); if (p < 1) p = 1
		printf "%s_ms mean %.3f p99 %.3f (%d samples)\n", what, s / NR, v[p], NR }'
done
echo "(a New York session: 5 instruments x 4 granularities x 2 days = 40 keys, from CSV)"

echo "== cw-predict: learning and forecasting speed"
"$CW_BUILD/bench/predict"

echo "== cw-predict backtest: four weeks across a clock change, two workloads"
for w in "--seed 1 --start 2024-03-04" \
	"--seed 9 --start 2024-10-14 --instruments EUR_USD,USD_JPY,AUD_NZD,GBP_CHF,USD_CAD,EUR_JPY --rate 250"; do
	echo "-- cw-bench generate $w"
	# shellcheck disable=SC2086
	"$CW_BIN/cw-bench" generate $w >"$B/trace"
	"$CW_BIN/cw-predict" --state "$B/predict.state" backtest "$B/trace" |
		tee "$B/bt"
	awk -F '\t' '$1 == "model" { c = $2; b = $3 }
		$1 == "last_hour" || $1 == "week_ago" {
			if ($2 > bc) bc = $2; if (bb == 0 || $3 < bb) bb = $3 }
		END { printf "coverage %.4f (>= 0.90 and above %.4f: %s); Brier %.5f, %.0f%% below the better baseline %.5f (>= 20%%: %s)\n",
		    c, bc, (c >= 0.9 && c > bc) ? "met" : "NOT met", b,
		    (1 - b / bb) * 100, bb, (1 - b / bb >= 0.2) ? "met" : "NOT met" }' "$B/bt"
done

echo "== cw-predict backtest: the time of a backtest of 1M reads (target: under 10 s)"
"$CW_BIN/cw-bench" generate --seed 1 --rate 425 >"$B/trace1m"
t0=$(date +%s.%N)
"$CW_BIN/cw-predict" --state "$B/predict1m.state" backtest "$B/trace1m" >/dev/null
t1=$(date +%s.%N)
awk -v n="$(wc -l <"$B/trace1m")" -v t0="$t0" -v t1="$t1" 'BEGIN {
	printf "backtest of %d reads: %.2f s (%s)\n", n, t1 - t0,
	    (t1 - t0 < 10 ? "met" : "NOT met") }'

echo "== cw-bench replay: what warming is worth, four simulated weeks per workload"
# L1 and L2 local (the Redis above); the source is the replay's synthetic
# one at 1 ms an answer, so that a miss costs a stated, steady amount.
printf '[l2]\nurl = %s\ntimeout = 2s\n[source]\nurl = synthetic:1ms\n' \
	"$REDIS_URL" >"$B/replay.conf"
for w in "--seed 1 --start 2024-03-04" \
	"--seed 9 --start 2024-10-14 --instruments EUR_USD,USD_JPY,AUD_NZD,GBP_CHF,USD_CAD,EUR_JPY --rate 250"; do
	echo "-- cw-bench generate $w | cw-bench replay"
	# shellcheck disable=SC2086
	"$CW_BIN/cw-bench" generate $w >"$B/trace"
	"$CW_BIN/cw-bench" replay -c "$B/replay.conf" --trace "$B/trace"
done
echo "-- the same four weeks with closed-day lifetimes: none, backfill and combined"
"$CW_BIN/cw-bench" generate >"$B/trace"
printf 'closed_day_types = labels features signals ohlc orderbook\nclosed_day_ttl = 30d\n' \
	>>"$B/replay.conf"
"$CW_BIN/cw-bench" replay -c "$B/replay.conf" --trace "$B/trace" \
	--strategy none,backfill,combined
