# servers.sh: real redis-server and clickhouse-server for the CLI tests
# and the benchmarks, sourced after $T is set. Each runs on a free
# loopback port with its files under $T; the caller's exit trap runs
# stop_servers, so they stop also when a test fails. A missing server
# binary fails the test ("Bail out!"): run make deps.

# shellcheck disable=SC2034
SERVER_PIDS=""

# Stop every server started; a stopped (SIGSTOP) one is woken first.
stop_servers() {
	# One a test killed is gone already: not an error, under set -e too.
	for pid in $SERVER_PIDS; do
		kill -CONT "$pid" 2>/dev/null || :
		kill "$pid" 2>/dev/null || :
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

# start_redis_cluster: three masters and three replicas (sets
# CLUSTER_PORTS, CLUSTER_PIDS in the same order, CLUSTER_URL naming
# them all). A one-second node timeout makes a failover take about two.
# Every slot need not be served for the rest to be (full coverage off):
# a dead master's slots wait for its replica, the others go on.
start_redis_cluster() {
	need redis-server
	need redis-cli
	CLUSTER_PORTS=""
	CLUSTER_PIDS=""
	for node in 1 2 3 4 5 6; do
		port=$(free_port)
		dir=$T/cluster/$node
		mkdir -p "$dir"
		redis-server --port "$port" --cluster-port "$(free_port)" \
			--bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
			--logfile "$dir/log" --daemonize no --cluster-enabled yes \
			--cluster-config-file "$dir/nodes.conf" \
			--cluster-node-timeout 1000 \
			--cluster-require-full-coverage no \
			--cluster-replica-validity-factor 0 \
			--repl-diskless-sync-delay 0 &
		CLUSTER_PIDS="$CLUSTER_PIDS $!"
		SERVER_PIDS="$SERVER_PIDS $!"
		CLUSTER_PORTS="$CLUSTER_PORTS $port"
	done
	nodes=""
	for port in $CLUSTER_PORTS; do
		wait_for redis-server redis-cli -p "$port" ping
		nodes="$nodes 127.0.0.1:$port"
	done
	# shellcheck disable=SC2086
	redis-cli --cluster create $nodes --cluster-replicas 1 \
		--cluster-yes >"$T/cluster/create.log" 2>&1 ||
		{ echo "Bail out! redis-cli --cluster create failed"; exit 1; }
	for port in $CLUSTER_PORTS; do
		wait_for "the cluster" cluster_ok "$port"
	done
	# A replica that has not synchronised yet cannot stand in.
	for port in $CLUSTER_PORTS; do
		wait_for "the replicas" sh -c "redis-cli -p $port role |
			grep -qx master || redis-cli -p $port info replication |
			grep -q 'master_link_status:up'"
	done
	# Every node, as an operator would list them: a client that knew
	# one alone could not learn the map while that one is down.
	CLUSTER_URL="redis+cluster://$(for port in $CLUSTER_PORTS; do
		printf '127.0.0.1:%s,' "$port"; done | sed 's/,$//')"
}

cluster_ok() {
	redis-cli -p "$1" cluster info | grep -q '^cluster_state:ok'
}

# cluster_pid_of PORT: the pid of the cluster's node on PORT.
cluster_pid_of() {
	# shellcheck disable=SC2086 # the lists are words
	set -- "$1" $CLUSTER_PORTS -- $CLUSTER_PIDS
	port=$1
	shift
	i=0
	while [ "$1" != "$port" ]; do i=$((i + 1)); shift; done
	while [ "$1" != -- ]; do shift; done
	shift $((i + 1))
	echo "$1"
}

# cluster_live: the port of a node that answers.
cluster_live() {
	for port in $CLUSTER_PORTS; do
		if redis-cli -p "$port" ping >/dev/null 2>&1; then
			echo "$port"
			return
		fi
	done
}

# cluster_masters: the ports of the nodes that are masters now.
cluster_masters() {
	redis-cli -p "$(cluster_live)" cluster nodes |
		awk '$3 ~ /master/ && $3 !~ /fail/ { sub(/@.*/, "", $2);
			sub(/.*:/, "", $2); print $2 }' | sort -n
}

# cluster_node_of NAME: the port of the master holding Redis key NAME.
cluster_node_of() {
	set -- "$1" "$(cluster_live)"
	redis-cli -p "$2" cluster nodes | awk -v slot="$(redis-cli -p "$2" \
		cluster keyslot "$1")" '$3 ~ /master/ && $3 !~ /fail/ {
		for (i = 9; i <= NF; i++) { n = split($i, r, "-");
			lo = r[1]; hi = n > 1 ? r[2] : r[1];
			if (slot + 0 >= lo + 0 && slot + 0 <= hi + 0) {
				sub(/@.*/, "", $2); sub(/.*:/, "", $2);
				print $2 } } }'
}

# start_redis_sentinel: a master, its replica and one sentinel watching
# it as "cwmaster" (quorum 1); sets SENTINEL_PORT, SENTINEL_URL,
# SENT_MASTER_PORT, SENT_REPLICA_PORT.
start_redis_sentinel() {
	need redis-server
	need redis-cli
	SENT_MASTER_PORT=$(free_port)
	SENT_REPLICA_PORT=$(free_port)
	SENTINEL_PORT=$(free_port)
	mkdir -p "$T/sentinel/m" "$T/sentinel/r" "$T/sentinel/s"
	redis-server --port "$SENT_MASTER_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$T/sentinel/m" --logfile "$T/sentinel/m/log" &
	SERVER_PIDS="$SERVER_PIDS $!"
	redis-server --port "$SENT_REPLICA_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$T/sentinel/r" --logfile "$T/sentinel/r/log" \
		--replicaof 127.0.0.1 "$SENT_MASTER_PORT" &
	SERVER_PIDS="$SERVER_PIDS $!"
	wait_for redis-server redis-cli -p "$SENT_MASTER_PORT" ping
	# The sentinel learns of the replica from the master's first INFO.
	wait_for "the replica" sh -c "redis-cli -p $SENT_REPLICA_PORT info replication | grep -q 'master_link_status:up'"
	cat >"$T/sentinel/s/sentinel.conf" <<SCONF
port $SENTINEL_PORT
bind 127.0.0.1
dir $T/sentinel/s
logfile $T/sentinel/s/log
sentinel monitor cwmaster 127.0.0.1 $SENT_MASTER_PORT 1
sentinel down-after-milliseconds cwmaster 1000
sentinel failover-timeout cwmaster 5000
SCONF
	redis-server "$T/sentinel/s/sentinel.conf" --sentinel &
	SERVER_PIDS="$SERVER_PIDS $!"
	wait_for "the sentinel" sh -c "redis-cli -p $SENTINEL_PORT sentinel replicas cwmaster | grep -qx $SENT_REPLICA_PORT"
	SENTINEL_URL="redis+sentinel://127.0.0.1:$SENTINEL_PORT/cwmaster"
}

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

# clickhouse_server DIR HTTP_PORT TCP_PORT [XML [PROFILE_XML]]: one
# clickhouse-server with its files under DIR, XML added to its
# configuration and PROFILE_XML to its default profile; sets CH_PID.
clickhouse_server() {
	need clickhouse-server
	need curl
	ch=$1
	mkdir -p "$ch/data" "$ch/tmp" "$ch/user_files" "$ch/format_schemas"
	cat >"$ch/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$ch/server.log</log>
    <errorlog>$ch/error.log</errorlog><console>0</console></logger>
  <http_port>$2</http_port>
  <tcp_port>$3</tcp_port>
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
  ${4:-}
</yandex>
XML
	cat >"$ch/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><log_queries>1</log_queries>${5:-}</default></profiles>
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
	wait_for clickhouse-server curl -sf "http://127.0.0.1:$2/ping"
}

# start_clickhouse: sets CH_PORT, CH_PID, CH_URL; chq SQL runs a query
# over HTTP and prints the result. A labels table is loaded.
start_clickhouse() {
	CH_PORT=$(free_port)
	clickhouse_server "$T/clickhouse" "$CH_PORT" "$(free_port)"
	CH_URL="clickhouse://127.0.0.1:$CH_PORT/default"
	chq "CREATE TABLE labels (instrument_id String, granularity String,
		ts DateTime, label Int8, note String)
		ENGINE = MergeTree ORDER BY (instrument_id, granularity, ts)"
	chq "INSERT INTO labels VALUES
		('EUR_USD', 'H4', '2024-01-02 00:00:00', 1, 'first'),
		('EUR_USD', 'H4', '2024-01-02 04:00:00', -1, 'say \"hi\", twice'),
		('EUR_USD', 'H4', '2024-01-03 00:00:00', 0, 'next day'),
		('GBP_USD', 'H1', '2024-01-02 13:00:00', 1, 'london')"
}

# start_clickhouse_shards: two servers, each a shard of cluster
# cw_shards, each with a labels_local table and a Distributed table
# labels_all over both. Their profile skips unavailable shards, as an
# operator's might: the source must ask for whole results itself. Sets
# SHARD_PORTS (HTTP, in order) and SHARD_PIDS.
start_clickhouse_shards() {
	http1=$(free_port)
	tcp1=$(free_port)
	http2=$(free_port)
	tcp2=$(free_port)
	remote="<remote_servers><cw_shards>
	  <shard><replica><host>127.0.0.1</host><port>$tcp1</port></replica></shard>
	  <shard><replica><host>127.0.0.1</host><port>$tcp2</port></replica></shard>
	</cw_shards></remote_servers>"
	skip="<skip_unavailable_shards>1</skip_unavailable_shards>"
	clickhouse_server "$T/shard1" "$http1" "$tcp1" "$remote" "$skip"
	SHARD_PIDS=$CH_PID
	clickhouse_server "$T/shard2" "$http2" "$tcp2" "$remote" "$skip"
	SHARD_PIDS="$SHARD_PIDS $CH_PID"
	SHARD_PORTS="$http1 $http2"
	for port in $SHARD_PORTS; do
		CH_PORT=$port chq "CREATE TABLE labels_local (instrument_id
			String, granularity String, ts DateTime, label Int8,
			note String) ENGINE = MergeTree
			ORDER BY (instrument_id, granularity, ts)"
		CH_PORT=$port chq "CREATE TABLE labels_all AS labels_local
			ENGINE = Distributed(cw_shards, default, labels_local)"
	done
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
