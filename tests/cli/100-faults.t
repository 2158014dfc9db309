#!/bin/sh
# Faults, each with real servers: Redis slow and stopped, ClickHouse slow,
# failing and stopped, a malformed template. L1 hits are always served,
# misses fail within the configured time with 69 or 75 and one clear
# line, and nothing cached is lost or overwritten.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 33

start_redis
start_clickhouse
write_config
cat >>"$T/cw.conf" <<'CONF'
slow = SELECT sleep(2), {date} FORMAT CSV
broken = SELECT * FROM nosuch WHERE d = {date} FORMAT CSV
CONF
sed -i 's/^timeout = 2s$/timeout = 500ms\nconnect_timeout = 200ms/' "$T/cw.conf"

ms() { date +%s%3N; }
# timed CMD...: run, and set took to its milliseconds.
timed() {
	t0=$(ms)
	run "$@"
	took=$(($(ms) - t0))
}

k=labels:EUR_USD:H4:2024-01-02
cw-get "$k" >"$T/cached"
l2_before=$(rcli get "cw:$k")

# Redis answering slowly (stopped with SIGSTOP: it accepts, never answers).
kill -STOP "$REDIS_PID"
timed cw-get "$k"
is "$status" 0 "Redis stalled: an L1 hit is served"
is "$([ "$took" -lt 1000 ] && echo fast)" fast "without waiting for Redis (${took} ms)"
timed cw-get labels:GBP_USD:H1:2024-01-02
is "$status" 0 "a miss is answered by ClickHouse"
is "$(cat "$T/err")" "cw-get: l2 redis://127.0.0.1:$REDIS_PORT/0: no answer within 50 ms; going on without it" \
	"saying once that L2 is slow"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "in one line"
is "$([ "$took" -lt 2000 ] && echo bounded)" bounded "bounded by L2's timeouts (${took} ms)"
kill -CONT "$REDIS_PID"

# Redis stopped in the middle of a run: the run goes on without it.
{
	echo labels:EUR_USD:H4:2024-01-03
	sleep 0.3
	kill "$REDIS_PID"
	while kill -0 "$REDIS_PID" 2>/dev/null; do sleep 0.05; done
	echo labels:EUR_USD:H4:2024-01-05
	echo "$k"
	echo labels:EUR_USD:H4:2024-01-06
} | cw-get - >"$T/out" 2>"$T/err"
status=$?
is "$status" 1 "Redis stopped mid-run: the run goes on (two keys not in ClickHouse)"
is "$(cut -f1 "$T/out" | tr '\n' ' ')" "labels:EUR_USD:H4:2024-01-03 $k " \
	"every key that exists is answered"
is "$(grep -c 'going on without it' "$T/err")" 1 "L2's loss is said once"
is "$(head -n 1 "$T/err")" "cw-get: l2 redis://127.0.0.1:$REDIS_PORT/0: Connection refused; going on without it" \
	"with the reason"

timed cw-get "$k"
is "$status" 0 "Redis gone: an L1 hit is served"
is "$(cmp "$T/out" "$T/cached" && echo same)" same "the same bytes as cached"

# ClickHouse slow: a query that sleeps past source.timeout.
timed cw-get slow:A:B:2024-01-02
is "$status" 75 "ClickHouse too slow: exit 75"
is "$(sed 1d "$T/err")" "cw-get: clickhouse 127.0.0.1:$CH_PORT: no answer within 500 ms" \
	"saying how long it waited"
is "$([ "$took" -lt 1500 ] && echo bounded)" bounded "within the timeout (${took} ms)"

# ClickHouse failing: its exception's first line, exit 69.
run cw-get broken:A:B:2024-01-02
is "$status" 69 "a ClickHouse exception: exit 69"
is "$(sed 1d "$T/err")" \
	"cw-get: clickhouse 127.0.0.1:$CH_PORT: HTTP 404: Code: 60, e.displayText() = DB::Exception: Table default.nosuch doesn't exist., e.what() = DB::Exception" \
	"with the exception's text"
is "$(wc -l <"$T/err" | tr -d ' ')" 2 "one line for it (and one for L2's absence)"

# A key whose L1 lifetime is one second, for stale-if-error below (in
# an L1 file of its own: the shared one has it for longer already).
old=labels:EUR_USD:H4:2024-01-03
stale_l1=$T/stale.l1
cw-get -f "$stale_l1" --ttl 1s "$old" >"$T/old"

# ClickHouse stopped.
kill "$CH_PID"
while kill -0 "$CH_PID" 2>/dev/null; do sleep 0.05; done
timed cw-get labels:EUR_USD:H4:2024-01-04
is "$status" 69 "ClickHouse down: a miss is exit 69"
is "$(sed 1d "$T/err")" "cw-get: clickhouse 127.0.0.1:$CH_PORT: Couldn't connect to server" \
	"with the reason"
is "$([ "$took" -lt 1500 ] && echo bounded)" bounded "within the connect timeout (${took} ms)"
run cw-get "$k"
is "$status" 0 "every level below down: L1 still serves"
is "$(cmp "$T/out" "$T/cached" && echo same)" same \
	"nothing cached was lost or overwritten"

# Stale if error: every level below down, a key past its L1 lifetime.
sleep 1.1
run cw-get -f "$stale_l1" "$old"
is "$status:$(wc -c <"$T/out" | tr -d ' '):$([ -s "$T/old" ] && echo had)" 69:0:had \
	"off (the default): exit 69, nothing served of what L1 had"
cp "$T/cw.conf" "$T/stale.conf"
printf '[l1]\nstale_if_error = 1h\n' >>"$T/stale.conf"
run cw-get -c "$T/stale.conf" -f "$stale_l1" -v "$old"
is "$status:$(cmp -s "$T/out" "$T/old" && echo same)" 69:same \
	"stale_if_error = 1h: the old value served, still exit 69"
is "$(sed -n 2p "$T/err")" \
	"cw-get: clickhouse 127.0.0.1:$CH_PORT: Couldn't connect to server; serving from L1 past its lifetime (stale_if_error)" \
	"said on stderr"
is "$(untimed "$T/err" | sed -n '3s/([0-9]* s past/(N s past/p')" \
	"cw-get: $old: l1 stale (N s past its lifetime) in T us" "and by -v"
printf 'stale_exit_ok = yes\n' >>"$T/stale.conf"
run cw-get -c "$T/stale.conf" -f "$stale_l1" "$old"
is "$status:$(cmp -s "$T/out" "$T/old" && echo same)" 0:same \
	"stale_exit_ok = yes: exit 0 for it"
run cw-stats -f "$stale_l1" -o json
is "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["memory"]["stale_served"])' <"$T/out")" 2 \
	"cw-stats counts the stale answers"
printf '[l1]\nstale_if_error = 1s\n' >"$T/short.conf"
cat "$T/cw.conf" >>"$T/short.conf"
sleep 1
run cw-get -c "$T/short.conf" -f "$stale_l1" "$old"
is "$status:$(wc -c <"$T/out" | tr -d ' ')" 69:0 "past the bound: not served"

# A template that names an unknown part: a config error before anything.
printf '[templates]\nlabels = SELECT {instrumnet}\n' >"$T/bad.conf"
run cw-get -c "$T/bad.conf" "$k"
is "$status" 78 "a malformed template: exit 78, even for a key L1 holds"
is "$(cat "$T/err")" \
	"cw-get: $T/bad.conf:2: template names unknown part {instrumnet} (known: {type} {instrument} {granularity} {date} {key})" \
	"naming the part"

is "$l2_before" "$(cat "$T/cached")" "L2 had held the same bytes as L1"
finish
