# servers.sh: real redis-server and clickhouse-server for the CLI tests
# and the benchmarks, sourced after $T is set. Each runs on a free
# loopback port with its files under $T; the caller's exit trap runs
# stop_servers, so they stop also when a test fails. A missing server
# binary fails the test ("Bail out!"): run make deps.

# shellcheck disable=SC2034
SERVER_PIDS=""

# Stop every server started; a stopped (SIGSTOP) one is woken first.
stop_servers() {
	for pid in $SERVER_PIDS; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	for pid in $SERVER_PIDS; do
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	done
	SERVER_PIDS=""
}

need() {
	command -v "$1" >/dev/null 2>&1 ||
		{ echo "Bail out! $1 not found: run 'make deps'"; exit 1; }
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for WHAT CMD...: retry CMD for up to 10 s.
wait_for() {
	what=$1
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 200 ]; then
			echo "Bail out! $what did not start"
			exit 1
		fi
		sleep 0.05
	done
}

# start_redis: sets REDIS_PORT, REDIS_PID, REDIS_URL; rcli runs redis-cli.
start_redis() {
	need redis-server
	need redis-cli
	REDIS_PORT=$(free_port)
	mkdir -p "$T/redis"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$T/redis" --logfile "$T/redis/log" \
		--daemonize no &
	REDIS_PID=$!
	SERVER_PIDS="$SERVER_PIDS $REDIS_PID"
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
	wait_for redis-server rcli ping
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# start_memcached: sets MC_PORT (the benchmarks' peer; no test needs it).
# As root, memcached wants to be told whom to run as.
start_memcached() {
	need memcached
	MC_PORT=$(free_port)
	memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 1024 -t 1 \
		-u "$(id -un)" &
	SERVER_PIDS="$SERVER_PIDS $!"
	wait_for memcached python3 -c "import socket
socket.create_connection(('127.0.0.1', $MC_PORT)).close()"
}

# start_clickhouse: sets CH_PORT, CH_PID, CH_URL; chq SQL runs a query
# over HTTP and prints the result. A labels table is loaded.
start_clickhouse() {
	need clickhouse-server
	need curl
	CH_PORT=$(free_port)
	ch=$T/clickhouse
	mkdir -p "$ch/data" "$ch/tmp" "$ch/user_files" "$ch/format_schemas"
	cat >"$ch/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$ch/server.log</log>
    <errorlog>$ch/error.log</errorlog><console>0</console></logger>
  <http_port>$CH_PORT</http_port>
  <tcp_port>$(free_port)</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$ch/data/</path>
  <tmp_path>$ch/tmp/</tmp_path>
  <user_files_path>$ch/user_files/</user_files_path>
  <format_schema_path>$ch/format_schemas/</format_schema_path>
  <users_config>$ch/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>104857600</mark_cache_size>
  <query_log><database>system</database><table>query_log</table>
    <flush_interval_milliseconds>100</flush_interval_milliseconds></query_log>
</yandex>
XML
	cat >"$ch/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles><default><log_queries>1</log_queries></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota></default>
    <cw><password>s3cret</password><networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota></cw>
  </users>
  <quotas><default></default></quotas>
</yandex>
XML
	clickhouse-server --config-file="$ch/config.xml" >"$ch/stdout" 2>&1 &
	CH_PID=$!
	SERVER_PIDS="$SERVER_PIDS $CH_PID"
	CH_URL="clickhouse://127.0.0.1:$CH_PORT/default"
	wait_for clickhouse-server curl -sf "http://127.0.0.1:$CH_PORT/ping"
	chq "CREATE TABLE labels (instrument_id String, granularity String,
		ts DateTime, label Int8, note String)
		ENGINE = MergeTree ORDER BY (instrument_id, granularity, ts)"
	chq "INSERT INTO labels VALUES
		('EUR_USD', 'H4', '2024-01-02 00:00:00', 1, 'first'),
		('EUR_USD', 'H4', '2024-01-02 04:00:00', -1, 'say \"hi\", twice'),
		('EUR_USD', 'H4', '2024-01-03 00:00:00', 0, 'next day'),
		('GBP_USD', 'H1', '2024-01-02 13:00:00', 1, 'london')"
}

chq() {
	printf '%s' "$1" | curl -sS --fail-with-body \
		"http://127.0.0.1:$CH_PORT/" --data-binary @-
}

# ch_count TEXT WANT: how many times ClickHouse ran a query containing
# TEXT. The query log is written asynchronously, so it is read again
# (for up to 5 s) until it shows WANT: a slow flush is not a wrong
# count, and a count above WANT still shows at once.
ch_count() {
	i=0
	while :; do
		chq "SYSTEM FLUSH LOGS" >/dev/null
		c=$(chq "SELECT count() FROM system.query_log WHERE type = 1 AND
			query LIKE '%$1%' AND query NOT LIKE '%query_log%'")
		if [ "$c" -ge "$2" ] || [ "$i" -ge 50 ]; then
			echo "$c"
			return
		fi
		i=$((i + 1))
		sleep 0.1
	done
}

# A configuration with L2 and ClickHouse, in $T/cw.conf.
write_config() {
	cat >"$T/cw.conf" <<CONF
[l2]
url = $REDIS_URL
[source]
url = $CH_URL
timeout = 2s
[templates]
labels = SELECT ts, label, note FROM labels
  WHERE instrument_id = {instrument} AND granularity = {granularity}
  AND toDate(ts) = {date} ORDER BY ts FORMAT CSVWithNames
CONF
	export CW_CONFIG="$T/cw.conf"
}
