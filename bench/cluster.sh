#!/bin/sh
# bench/cluster.sh: past one host (make bench-cluster; make bench runs it
# too). A Redis Cluster of three masters and three replicas on loopback:
# cw-get - beside redis-benchmark --cluster, the round trips of a batch,
# a master killed in the middle of a warming run, and eight warmers over
# the same keys. Figures on stdout.
set -eu
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
now_ms() { echo $(($(date +%s%N) / 1000000)); }

start_redis_cluster
# shellcheck disable=SC2086 # a list of words
set -- $CLUSTER_PORTS
port=$1
N=10000
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
	printf "bench:K%05d:D:2024-01-02\n", i }' >"$B/keys"
cat >"$B/cl.conf" <<CONF
[l1]
max_entries = 20000
[l2]
url = $CLUSTER_URL
timeout = 2s
failover_wait = 10s
[source]
url = synthetic:0
CONF
CW_L1_FILE=$B/fill.l1 "$CW_BIN/cw-get" -c "$B/cl.conf" - <"$B/keys" >"$B/expected"
size=$(redis-cli -p "$port" -c get "cw:{bench:K00000:D:2024-01-02}" | wc -c)
# redis-benchmark's keys, of the same size, nearly all of 0..N-1 set.
redis-benchmark --cluster -h 127.0.0.1 -p "$port" -t set -n $((5 * N)) \
	-c 3 -P 64 -d "$size" -r $N -q >/dev/null 2>&1

echo "== cw-get - of $N keys from a three-master cluster, beside redis-benchmark --cluster GET"
echo "-- both with three connections (one a master), values of $size bytes; cw-get's" \
	"whole run (start, L1 lookups, output) against redis-benchmark's steady rate;" \
	"--no-fill (it stores nothing, as GET does) on an existing L1 file it leaves empty"
rm -f "$B/r.l1"
CW_L1_FILE=$B/r.l1 "$CW_BIN/cw-get" -c "$B/cl.conf" - </dev/null
: >"$B/frates"
for round in 1 2 3; do
	t0=$(date +%s%N)
	CW_L1_FILE=$B/r.l1 "$CW_BIN/cw-get" --no-fill -c "$B/cl.conf" - \
		<"$B/keys" >"$B/got"
	t1=$(date +%s%N)
	cmp -s "$B/got" "$B/expected" || echo "cw-get: WRONG VALUES"
	cw=$((N * 1000000000 / (t1 - t0)))
	# The same filling L1 (a new file each round, so that L2 answers):
	# a PTTL a key more, for the life left that caps each L1 entry.
	rm -f "$B/f.l1"
	t0=$(date +%s%N)
	CW_L1_FILE=$B/f.l1 "$CW_BIN/cw-get" -c "$B/cl.conf" - \
		<"$B/keys" >"$B/got"
	t1=$(date +%s%N)
	cmp -s "$B/got" "$B/expected" || echo "cw-get: WRONG VALUES"
	echo "$((N * 1000000000 / (t1 - t0)))" >>"$B/frates"
	# Ten times the requests: at N, its rate is mostly its start.
	rb=$(redis-benchmark --cluster -h 127.0.0.1 -p "$port" -t get \
		-n $((10 * N)) -c 3 -P 1024 -d "$size" -r $N --csv 2>/dev/null |
		awk -F'"' '/GET/ { printf "%d", $4 }')
	echo "round $round: cw-get $cw keys/s (filling L1: $(tail -n 1 "$B/frates")), redis-benchmark $rb requests/s"
	echo "$cw $rb" >>"$B/rates"
done
sort -n "$B/rates" | awk '{ cw[NR] = $1; rb[NR] = $2 } END {
	printf "median: redis-benchmark / cw-get per connection %.2f (within 1.5: %s)\n",
	    rb[2] / cw[2], rb[2] / cw[2] <= 1.5 ? "met" : "NOT met" }'
sort -n "$B/frates" | awk -v rb="$(sort -n "$B/rates" | awk 'NR == 2 { print $2 }')" '
	{ v[NR] = $1 } END { printf "filling L1: median redis-benchmark / cw-get %.2f\n", rb / v[2] }'
echo "-- the same with slot_by_instrument = yes: 100 instruments of 100 days, each" \
	"instrument's in one slot (an MGET a run of them)"
awk 'BEGIN { split("31 29 31 30", len)
	for (i = 0; i < 100; i++) { n = 0
		for (m = 1; m <= 4 && n < 100; m++)
			for (d = 1; d <= len[m] && n < 100; d++) {
				printf "bench:I%03d:D:2024-%02d-%02d\n", i, m, d
				n++ } } }' >"$B/ikeys"
cp "$B/cl.conf" "$B/inst.conf"
printf '[l2]\nslot_by_instrument = yes\n' >>"$B/inst.conf"
CW_L1_FILE=$B/ifill.l1 "$CW_BIN/cw-get" -c "$B/inst.conf" - <"$B/ikeys" >/dev/null
: >"$B/irates"
for round in 1 2 3; do
	t0=$(date +%s%N)
	CW_L1_FILE=$B/r.l1 "$CW_BIN/cw-get" --no-fill -c "$B/inst.conf" - \
		<"$B/ikeys" >/dev/null
	t1=$(date +%s%N)
	echo "$((N * 1000000000 / (t1 - t0)))" >>"$B/irates"
done
sort -n "$B/irates" | awk -v rb="$(sort -n "$B/rates" | awk 'NR == 2 { print $2 }')" '
	{ v[NR] = $1 } END { printf "cw-get %d %d %d keys/s; redis-benchmark / cw-get %.2f (within 1.5: %s)\n",
	    v[1], v[2], v[3], rb / v[2], rb / v[2] <= 1.5 ? "met" : "NOT met" }'
rm -f "$B/r.l1"
strace -f -e trace=write -e signal=none -o "$B/strace" \
	env CW_L1_FILE="$B/r.l1" "$CW_BIN/cw-get" --no-fill -c "$B/cl.conf" - \
	<"$B/keys" >/dev/null
writes=$(grep -c 'write([0-9]*, "\*' "$B/strace" || true)
batches=$(((N + 1023) / 1024))
echo "round trips: $writes writes of commands for $batches batches over 3 masters" \
	"($(awk -v w="$writes" -v b=$batches 'BEGIN { printf "%.2f", w / b / 3 }') a batch a node;" \
	"the map's CLUSTER SLOTS is one, and a write the socket takes in part is two)"

echo "== a master SIGKILLed during a warming run of $N keys"
redis-cli -p "$port" -c flushall >/dev/null 2>&1 || true
for p in $(cluster_masters); do redis-cli -p "$p" flushall >/dev/null; done
sed 's/^url = synthetic:0$/url = synthetic:1ms/' "$B/cl.conf" >"$B/slow.conf"
rm -f "$B/w.l1"
# Each ended task's line, stamped with the clock in ms.
CW_L1_FILE=$B/w.l1 "$CW_BIN/cw-warm" -c "$B/slow.conf" -j 20 - <"$B/keys" \
	2>"$B/warm.err" | while IFS= read -r line; do
	echo "$(now_ms) $line"
done >"$B/warm.out" &
warm=$!
sleep 1
victim=$(cluster_node_of "cw:{bench:K09999:D:2024-01-02}")
kill -KILL "$(cluster_pid_of "$victim")"
killed=$(now_ms)
promoted=""
while [ -z "$promoted" ]; do
	now=$(cluster_node_of "cw:{bench:K09999:D:2024-01-02}")
	if [ -n "$now" ] && [ "$now" != "$victim" ]; then promoted=$(now_ms); fi
	sleep 0.01
done
wait "$warm" || true
resumed=$(awk -v k="$promoted" '$1 >= k { print $1; exit }' "$B/warm.out")
echo "killed at +0 ms; replica promoted at +$((promoted - killed)) ms;" \
	"warming resumed at +$((resumed - killed)) ms ($((resumed - promoted)) ms after the promotion; within 1000: $([ $((resumed - promoted)) -le 1000 ] && echo met || echo NOT met))"
echo "tasks: $(awk '{ print $3 }' "$B/warm.out" | sort | uniq -c | tr '\n' ' ')"
rm -f "$B/r.l1"
CW_L1_FILE=$B/r.l1 "$CW_BIN/cw-get" --no-fill -c "$B/cl.conf" - \
	<"$B/keys" >"$B/got" 2>/dev/null || true
sort "$B/got" >"$B/got.s"
sort "$B/expected" >"$B/expected.s"
echo "values read back after the run: $(wc -l <"$B/got" | tr -d ' ') of $N," \
	"wrong: $(comm -23 "$B/got.s" "$B/expected.s" | wc -l | tr -d ' ')"

echo "== eight warmers over the same $N keys (an exec source that counts its calls)"
for p in $(cluster_masters); do redis-cli -p "$p" flushall >/dev/null; done
cat >"$B/count" <<EOF
#!/bin/sh
echo "\$1" >>"$B/calls"
printf 'value of %s' "\$1"
EOF
chmod +x "$B/count"
printf '[l2]\nurl = %s\ntimeout = 2s\nfailover_wait = 10s\n[source]\nurl = exec:%s\ntimeout = 5s\n' \
	"$CLUSTER_URL" "$B/count" >"$B/count.conf"
for spread in "" spread; do
	for p in $(cluster_masters); do redis-cli -p "$p" flushall >/dev/null; done
	: >"$B/calls"
	t0=$(now_ms)
	pids=""
	for h in 1 2 3 4 5 6 7 8; do
		rm -f "$B/h$h.l1"
		CW_L1_FILE=$B/h$h.l1 "$CW_BIN/cw-warm" -c "$B/count.conf" -j 10 \
			${spread:+"--spread=host$h"} - <"$B/keys" >/dev/null \
			2>"$B/h$h.err" &
		pids="$pids $!"
	done
	for pid in $pids; do wait "$pid" || true; done
	calls=$(wc -l <"$B/calls" | tr -d ' ')
	echo "${spread:-in order}: $calls L3 queries for $N keys" \
		"($(awk -v c="$calls" -v n=$N 'BEGIN { printf "%.2f%%", (c - n) * 100 / n }') above;" \
		"at most 1%: $([ $((calls * 100)) -le $((N * 101)) ] && echo met || echo NOT met))," \
		"$(($(now_ms) - t0)) ms for all eight"
done
echo "-- a lock holder stalled past its lease (tests/tools/l2fence on the cluster)"
"$CW_BUILD/tests/l2fence" "$CLUSTER_URL" >"$B/fence" || true
echo "stale overwrites: $(grep -c '^FAILED' "$B/fence" || true) of $(wc -l <"$B/fence" | tr -d ' ') checks failed"
