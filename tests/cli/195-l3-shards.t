#!/bin/sh
# L3 on ClickHouse shards: two servers, a Distributed table over them,
# and a source with several endpoints. An endpoint that cannot be
# reached hands its queries to the next; a shard that is down makes the
# query fail, even where the server's profile would skip it and answer
# with the other shard's rows, and nothing of that is cached anywhere.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 13

start_redis
start_clickhouse_shards
# shellcheck disable=SC2086 # a list of words
set -- $SHARD_PORTS
s1=$1
s2=$2
# shellcheck disable=SC2086
set -- $SHARD_PIDS
pid2=$2
# Each day's rows are split over the two shards.
CH_PORT=$s1 chq "INSERT INTO labels_local VALUES
	('EUR_USD', 'H4', '2024-01-02 00:00:00', 1, 'a'),
	('EUR_USD', 'H4', '2024-01-02 04:00:00', -1, 'b'),
	('EUR_USD', 'H4', '2024-01-03 00:00:00', 0, 'c')"
CH_PORT=$s2 chq "INSERT INTO labels_local VALUES
	('EUR_USD', 'H4', '2024-01-02 08:00:00', 1, 'd'),
	('EUR_USD', 'H4', '2024-01-03 04:00:00', 1, 'e')"
dead=$(free_port)
cat >"$T/cw.conf" <<CONF
[l2]
url = $REDIS_URL
[source]
url = clickhouse://127.0.0.1:$dead,127.0.0.1:$s1,127.0.0.1:$s2/default
timeout = 5s
[templates]
labels = SELECT ts, label, note FROM labels_all
  WHERE instrument_id = {instrument} AND granularity = {granularity}
  AND toDate(ts) = {date} ORDER BY ts FORMAT CSVWithNames
CONF
export CW_CONFIG="$T/cw.conf"

k2=labels:EUR_USD:H4:2024-01-02
run cw-get "$k2"
is "$status:$(tail -n +2 "$T/out" | cut -d, -f3 | tr -d '"\n')" "0:abd" \
	"the first endpoint refuses: the next answers, every shard's rows"
is "$(cat "$T/err")" "" "the failover is silent"
is "$(CH_PORT=$s1 ch_count "2024-01-02" 1)" 1 \
	"asked of the second endpoint, once"

# Shard 2 down. The servers' profile skips unavailable shards: a query
# that does not ask otherwise gets shard 1's rows alone, and no error.
kill "$pid2"
while kill -0 "$pid2" 2>/dev/null; do sleep 0.05; done
k3=labels:EUR_USD:H4:2024-01-03
is "$(CH_PORT=$s1 chq "SELECT note FROM labels_all WHERE toYYYYMMDD(ts) = 20240103 ORDER BY ts FORMAT TSV" | tr -d '\n')" \
	"c" "(with the profile's setting, a shard down gives a partial result)"
run cw-get "$k3"
is "$status:$(cat "$T/out")" "69:" \
	"through cachewarm, a shard down is an error: exit 69, no value"
case $(cat "$T/err") in
*"clickhouse 127.0.0.1:$s1: HTTP 500:"*) ok "naming the endpoint and ClickHouse's error" ;;
*) not_ok "naming the endpoint and ClickHouse's error: $(cat "$T/err")" ;;
esac
is "$(rcli exists "cw:$k3" "cw:$k3 none")" 0 \
	"nothing of it in L2, not even a 'not found'"

# The shard back: the key is fetched whole, so nothing was kept in L1.
rm -rf "$T/shard2/stdout"
clickhouse_server "$T/shard2" "$s2" "$(sed -n 's:.*<tcp_port>\(.*\)</tcp_port>.*:\1:p' "$T/shard2/config.xml")" \
	"$(sed -n '/<remote_servers>/,/<\/remote_servers>/p' "$T/shard2/config.xml")"
run cw-get "$k3"
is "$status:$(tail -n +2 "$T/out" | cut -d, -f3 | tr -d '"\n')" "0:ce" \
	"shard 2 back: the whole day"
is "$(CH_PORT=$s1 ch_count "2024-01-03" 2)" 2 \
	"fetched again: no partial answer had been kept in L1"

# random_endpoint: each process starts at one endpoint of its own, so
# that a thousand hosts do not all query the first.
cp "$T/cw.conf" "$T/random.conf"
printf '[source]\nrandom_endpoint = yes\nurl = clickhouse://127.0.0.1:%s,127.0.0.1:%s/default\n' \
	"$s1" "$s2" >>"$T/random.conf"
failed=0
for d in 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
	# Found or not (exit 0 or 1), ClickHouse answered.
	CW_L1_FILE=$T/host$d.l1 cw-get -c "$T/random.conf" --no-fill \
		"labels:GBP_USD:M$d:2024-01-02" >/dev/null 2>&1
	[ $? -le 1 ] || failed=$((failed + 1))
done
is "$failed" 0 "random_endpoint: ClickHouse answered the 16 processes"
# Queries a server was sent (not those a Distributed table sent it).
sent_to() {
	CH_PORT=$1 chq "SYSTEM FLUSH LOGS" >/dev/null
	CH_PORT=$1 chq "SELECT count() FROM system.query_log WHERE type = 1
		AND is_initial_query AND query LIKE '%GBP_USD%'
		AND query NOT LIKE '%query_log%'"
}
# The logs are counted until they hold all 16, for at most 10 s: a
# loaded server may show a query after its flush has returned.
tries=0
while :; do
	a=$(sent_to "$s1")
	b=$(sent_to "$s2")
	[ $((a + b)) -ge 16 ] || [ "$tries" -ge 50 ] && break
	tries=$((tries + 1))
	sleep 0.2
done
# (At least 16: a query whose connection is lost before its answer is
# sent to the other endpoint too.)
is "$([ $((a + b)) -ge 16 ] && echo all):$([ "$a" -gt 0 ] && [ "$b" -gt 0 ] && echo both)" \
	"all:both" \
	"random_endpoint: 16 processes' queries spread over both endpoints ($a and $b)"

# Every endpoint down: one error naming the last, exit 69.
printf '[source]\nurl = clickhouse://127.0.0.1:%s,127.0.0.1:%s/default\n' \
	"$dead" "$(free_port)" >"$T/down.conf"
cat >>"$T/down.conf" <<'CONF'
[templates]
labels = SELECT 1 FORMAT CSV
CONF
run cw-get -c "$T/down.conf" labels:EUR_USD:H4:2024-01-04
is "$status:$(grep -c 'Couldn.t connect' "$T/err")" "69:1" \
	"every endpoint refuses: exit 69, said once"
printf '[source]\nurl = clickhouse://a,b,c,d,e,f,g,h,i/default\n' >"$T/many.conf"
run cw-stats -c "$T/many.conf" config
is "$status" 78 "more endpoints than the source takes: exit 78"
finish
