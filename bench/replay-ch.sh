#!/bin/sh
# bench/replay-ch.sh: cw-bench replay with L3 a real clickhouse-server
# (make bench runs it after bench/run.sh). The four-week workload's every
# key gets a row in a table, its value the synthetic source's (a day of
# bars of its granularity, so of realistic size), and each key type a
# template that reads it: a miss costs a query, as it would on a desk.
set -eu
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

start_redis
start_clickhouse
# A week by default (some 15 minutes here, every strategy); CW_BENCH_WEEKS=4
# for the four weeks the README's targets are judged on, and
# CW_BENCH_STRATEGIES (replay's --strategy list) for fewer rows.
weeks=${CW_BENCH_WEEKS:-1}
strategies=${CW_BENCH_STRATEGIES:-}
"$CW_BIN/cw-bench" generate --weeks "$weeks" >"$B/trace"
cut -d, -f2 "$B/trace" | sort -u >"$B/keys"
# The values, as TSV (cw-get's escapes are ClickHouse's TabSeparated's).
printf '[l1]\nmax_entries = 100000\nmax_bytes = 4G\n[source]\nurl = synthetic:0\n' \
	>"$B/synth.conf"
CW_L1_FILE=$B/synth.l1 "$CW_BIN/cw-get" -c "$B/synth.conf" --no-fill - \
	<"$B/keys" >"$B/values"
# A key is read alone: a granule of 8 rows, not 8192 (a day of M1 bars is
# 70 KB; with the default a lookup read some 70 MB and took 150 ms).
chq "CREATE TABLE workload (key String, value String)
	ENGINE = MergeTree ORDER BY key SETTINGS index_granularity = 8"
curl -sS --fail-with-body --data-binary @"$B/values" \
	"http://127.0.0.1:$CH_PORT/?query=INSERT%20INTO%20workload%20FORMAT%20TabSeparated"
rows=$(chq "SELECT count() FROM workload")
mb=$(chq "SELECT round(sum(length(value)) / 1048576) FROM workload")
{
	# A closed trading day's bars never change: the desk's lifetimes.
	printf '[l2]\nurl = %s\ntimeout = 2s\n[source]\nurl = %s\ntimeout = 5s\n' \
		"$REDIS_URL" "$CH_URL"
	printf 'closed_day_types = labels features signals ohlc orderbook\n'
	printf 'closed_day_ttl = 30d\n[templates]\n'
	cut -d: -f1 "$B/keys" | sort -u | while read -r type; do
		printf '%s = SELECT value FROM workload WHERE key = {key} FORMAT TabSeparatedRaw\n' \
			"$type"
	done
} >"$B/ch.conf"

echo "== cw-bench replay, L3 a clickhouse-server holding every key of the workload"
echo "-- $(wc -l <"$B/trace" | tr -d ' ') reads of $rows keys over $weeks weeks;" \
	"the table holds $mb MB of values; L2 a local redis-server;" \
	"closed days live 30 days"
"$CW_BIN/cw-bench" replay -c "$B/ch.conf" --trace "$B/trace" \
	${strategies:+--strategy "$strategies"}
