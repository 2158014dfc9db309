#!/bin/sh
# The three levels with real servers: L1 -> Redis -> ClickHouse, filling
# upward, TTLs cascading, misses remembered, batches in one round trip.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 42

start_redis
start_clickhouse
write_config
k=labels:EUR_USD:H4:2024-01-02

run cw-get -v "$k"
is "$status" 0 "a cold key: exit 0"
is "$(untimed "$T/err")" "cw-get: $k: l3 hit in T us" "answered by ClickHouse"
is "$(cat "$T/out")" '"ts","label","note"
"2024-01-02 00:00:00",1,"first"
"2024-01-02 04:00:00",-1,"say ""hi"", twice"' "the value is ClickHouse's CSV"
is "$(rcli get "cw:$k")" "$(cat "$T/out")" "L2 holds the same bytes under cw:"
ttl=$(rcli pttl "cw:$k")
is "$([ "$ttl" -gt 3200000 ] && [ "$ttl" -le 3960000 ] && echo ok)" ok \
	"L2 TTL is 3600 s +-10% ($ttl ms)"
left=$(cw-stats keys "$k" | cut -f3)
is "$([ "$left" -le 300 ] && [ "$left" -gt 290 ] && echo ok)" ok \
	"L1 TTL is L1's 300 s ($left s)"

run cw-get -v "$k"
is "$(untimed "$T/err")" "cw-get: $k: l1 hit in T us" "the second lookup: L1"
LD_DEBUG=libs cw-get "$k" 2>"$T/ld" >/dev/null
is "$(grep -c 'libcurl' "$T/ld")" 0 "an L1 hit does not load libcurl"
LD_DEBUG=libs cw-get labels:GBP_USD:H1:2024-01-02 2>"$T/ld" >/dev/null
is "$(grep -q 'calling init: .*libcurl' "$T/ld" && echo loaded)" loaded \
	"a ClickHouse query does"
rm "$CW_L1_FILE"
run cw-get -v "$k"
is "$(untimed "$T/err")" "cw-get: $k: l2 hit in T us" "with L1 gone: L2"
is "$(ch_count "EUR_USD" 1)" 1 "ClickHouse was asked once in all"

# L1 never outlives L2: an L2 entry with 20 s left gives L1 at most 20 s.
rcli pexpire "cw:$k" 20000 >/dev/null
rm "$CW_L1_FILE"
cw-get "$k" >/dev/null
left=$(cw-stats keys "$k" | cut -f3)
is "$([ "$left" -le 20 ] && echo ok)" ok "L1 TTL capped by what L2 has left ($left s)"

# A key that ClickHouse has no rows for: exit 1, remembered in both levels.
m=labels:EUR_USD:H4:2023-06-01
run cw-get "$m"
is "$status" 1 "an empty result is not found: exit 1"
is "$(cat "$T/err")" "cw-get: $m: not found" "and says so"
is "$(rcli exists "cw:$m none")" 1 "L2 remembers the miss"
run cw-get "$m"
is "$status" 1 "still not found"
rm "$CW_L1_FILE"
run cw-get -v "$m"
is "$(untimed "$T/err")" "cw-get: $m: not found
cw-get: $m: none not found in T us" \
	"...from L2's memory, with L1 gone"
is "$(ch_count "2023-06-01" 1)" 1 "ClickHouse was asked once for the missing key"

# A batch from L2: 300 keys, one write to Redis for all the lookups.
i=0
while [ $i -lt 300 ]; do
	printf 'SET cw:opaque-%d v%d\n' $i $i
	i=$((i + 1))
done | rcli >/dev/null
rm "$CW_L1_FILE"
i=0
while [ $i -lt 300 ]; do echo "opaque-$i"; i=$((i + 1)); done >"$T/keys"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -e trace=connect,write -o "$T/strace" cw-get - <"$T/keys" >"$T/out"
is "$(wc -l <"$T/out" | tr -d ' ')" 300 "300 keys from L2"
fd=$(awk -v p="htons($REDIS_PORT)" 'index($0, "connect(") && index($0, p) {
	sub(/.*connect\(/, ""); sub(/,.*/, ""); print; exit }' "$T/strace")
writes=$(grep -c "write($fd," "$T/strace")
is "$writes" 1 "in one round trip (writes to Redis: $writes)"
awk '{ print $0 "\tv" substr($0, 8) }' "$T/keys" >"$T/want"
is "$(cmp "$T/out" "$T/want" && echo same)" same \
	"each key with its own value, across MGETs of 256 keys"

# What the batch asks Redis: a value's life left only when it caps an L1
# fill. calls VERB: how many VERBs Redis ran since the last resetstat.
calls() {
	rcli info commandstats | tr -d '\r' | awk -F'[:=,]' -v v="cmdstat_$1" '
		$1 == v { n = $3 } END { print n + 0 }'
}
rm "$CW_L1_FILE"
rcli config resetstat >/dev/null
cw-get - <"$T/keys" >"$T/out"
is "$(calls mget) $(calls pttl) $(cmp "$T/out" "$T/want" && echo same)" \
	"2 300 same" "filling L1: 2 MGETs and a PTTL a key (its life caps L1's)"
rm "$CW_L1_FILE"
rcli config resetstat >/dev/null
cw-get --no-fill - <"$T/keys" >"$T/out"
is "$(calls mget) $(calls pttl) $(cmp "$T/out" "$T/want" && echo same)" \
	"2 0 same" "--no-fill: the 2 MGETs alone, no life asked"

# The same batch with a remembered miss, a key L2 has nothing for and
# someone else's hash under the prefix: the rest is still answered.
rcli del cw:opaque-100 cw:opaque-200 cw:opaque-250 >/dev/null
rcli set "cw:opaque-100 none" 1 px 60000 >/dev/null
rcli hset cw:opaque-250 f v >/dev/null
rm "$CW_L1_FILE"
run cw-get --no-fill - <"$T/keys"
grep -v -e '^opaque-100	' -e '^opaque-200	' -e '^opaque-250	' "$T/want" \
	>"$T/want297"
is "$status:$(cmp "$T/out" "$T/want297" && echo same)" 1:same \
	"297 values answered, exit 1 for the three without one"
is "$(grep -c ': not found$' "$T/err")" 3 "each of the three: not found"
is "$(rcli type cw:opaque-250)" hash "the hash under the prefix is left alone"

# Hostile keys never reach ClickHouse: the grammar refuses them first.
run cw-get "labels:EUR_USD';DROP_TABLE_labels:H4:2024-01-02"
is "$status" 65 "a key with a quote: exit 65"
is "$(chq 'EXISTS TABLE labels')" 1 "and the table is still there"

# The quoting itself, sent to the real server: each literal comes back
# as the very bytes it was made from.
printf '%s\n' "x' OR 1=1 --" "\\'; DROP TABLE labels; --" 'tab	and \\t' \
	"a\\\\'\\" '{instrument}' >"$T/hostile"
"$CW_BUILD/tests/sqlquote" <"$T/hostile" >"$T/queries"
: >"$T/back"
while IFS= read -r q; do chq "SELECT $q FORMAT TSVRaw" >>"$T/back"; done \
	<"$T/queries"
is "$(cat "$T/back")" "$(cat "$T/hostile")" "hostile text round-trips as a literal"
is "$(chq 'SELECT count() FROM labels')" 4 "and the table is untouched"

# Credentials from the environment, as headers.
g=labels:GBP_USD:H1:2024-01-02
rm "$CW_L1_FILE"
rcli flushall >/dev/null
run env CW_CLICKHOUSE_USER=cw CW_CLICKHOUSE_PASSWORD=wrong cw-get "$g"
is "$status" 69 "a wrong ClickHouse password: exit 69"
is "$(sed 's/:[0-9]*: HTTP/:PORT: HTTP/' "$T/err")" \
	"cw-get: clickhouse 127.0.0.1:PORT: HTTP 401: Code: 193, e.displayText() = DB::Exception: Wrong password for user cw, e.what() = DB::Exception" \
	"with ClickHouse's reason"
run env CW_CLICKHOUSE_USER=cw CW_CLICKHOUSE_PASSWORD=s3cret cw-get -v "$g"
is "$(untimed "$T/err")" "cw-get: $g: l3 hit in T us" "the right one: answered"

# An answer over source.max_value_size: refused whole, exit 65, nothing
# of it cached in either level.
cp "$T/cw.conf" "$T/small.conf"
printf '[source]\nmax_value_size = 40\n' >>"$T/small.conf"
b=labels:EUR_USD:H4:2024-01-03
rm "$CW_L1_FILE"
run cw-get -c "$T/small.conf" "$b"
is "$status:$(cat "$T/out"):$(sed 's/:[0-9]*: answer/:PORT: answer/' "$T/err"):$(rcli exists "cw:$b" "cw:$b none")" \
	"65::cw-get: clickhouse 127.0.0.1:PORT: answer over 40 bytes (source.max_value_size):0" \
	"an answer over source.max_value_size: exit 65, said, nothing cached"

# clickhouses:// speaks TLS: to a server that does not, the handshake
# fails and nothing is cached. The server mostly drops the ClientHello
# at once ("SSL connect error", exit 69); now and then it waits for the
# rest of a request that never comes, and the source's timeout ends it
# (exit 75). Either way the endpoint is named.
sed 's|^url = clickhouse://|url = clickhouses://|' "$T/cw.conf" >"$T/tls.conf"
rm "$CW_L1_FILE"
run cw-get -c "$T/tls.conf" "$b"
is "$(case $status in 69|75) echo failed ;; *) echo "$status" ;; esac):$(sed 's/127.0.0.1:[0-9]*: .*/127.0.0.1:PORT: .../' "$T/err"):$(rcli exists "cw:$b" "cw:$b none")" \
	"failed:cw-get: clickhouse 127.0.0.1:PORT: ...:0" \
	"clickhouses:// to a plain server: fails (69 or 75), the endpoint named, nothing cached"

# A database of its own: redis://host:port/3 selects it on connecting.
sed 's|^url = \(redis://.*\)/0$|url = \1/3|' "$T/cw.conf" >"$T/db3.conf"
rm "$CW_L1_FILE"
before=$(rcli -n 3 dbsize)
run cw-get -c "$T/db3.conf" "$g"
is "$status:$before:$(rcli -n 3 exists "cw:$g")" "0:0:1" \
	"l2.url's /3: the value filled into database 3"
rm "$CW_L1_FILE"
run cw-get -v -c "$T/db3.conf" "$g"
is "$(untimed "$T/err")" "cw-get: $g: l2 hit in T us" "and read back from it"

# A Redis that wants a password: from CW_REDIS_PASSWORD or the file.
rcli config set requirepass pw >/dev/null
rm "$CW_L1_FILE"
run cw-get -v "$g"
is "$(head -n 1 "$T/err")" \
	"cw-get: l2 redis://127.0.0.1:$REDIS_PORT/0: NOAUTH Authentication required.; going on without it" \
	"no Redis password: said once, and on without L2"
is "$(untimed "$T/err" | sed 1d)" "cw-get: $g: l3 hit in T us" "answered by the source"
rm "$CW_L1_FILE"
run env CW_REDIS_PASSWORD=pw cw-get -v "$g"
is "$(untimed "$T/err")" "cw-get: $g: l2 hit in T us" "CW_REDIS_PASSWORD: L2 answers"
printf 'pw\n' >"$T/redis.pass"
printf '[l2]\npassword_file = %s\n' "$T/redis.pass" >>"$T/cw.conf"
rm "$CW_L1_FILE"
run cw-get -v "$g"
is "$(untimed "$T/err")" "cw-get: $g: l2 hit in T us" "l2.password_file: L2 answers"

# Out of memory at every allocation path with ClickHouse as the source
# and this Redis, its password file included (tests/tools/l2oom).
run "$CW_BUILD/tests/l2oom" "$T/cw.conf" "$T" "$k" "$g" \
	labels:USD_JPY:D:2023-06-01 ohlc:EUR_USD:D:2024-01-02
is "$status:$(sed 's/: [0-9]* runs/: N runs/' "$T/out")" \
	"0:ok: N runs failed an allocation, each ended well" \
	"out of memory anywhere with ClickHouse as the source: CW_ENOMEM or carried on"
finish
