#!/bin/sh
# L2 on a Redis Cluster of three masters and three replicas: keys routed
# to their slot's master, a key's lock and remembered miss in its slot,
# one instrument's keys in one slot when asked, MOVED and ASK followed by
# a process whose map is old, a SIGKILLed master's keys served by its
# promoted replica. Then Sentinel: the master it names, and a switch
# followed by a process that was using the old one.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 32
: "${CW_BUILD:?}"

start_redis_cluster
counting_source "$T/source"
cat >"$T/cw.conf" <<CONF
[l2]
url = $CLUSTER_URL
timeout = 2s
failover_wait = 15s
[source]
url = exec:$T/source
CONF
export CW_CONFIG="$T/cw.conf"
calls() { wc -l <"$T/calls" | tr -d ' '; }
# fetched_since N: the fetches since the count was N.
fetched_since() { echo $(($(calls) - $1)); }
# A fresh L1 file, as if on another host: what follows reads L2.
fresh_l1() { rm -f "$T/l1"; }

k=labels:EUR_USD:H4:2024-01-02
run cw-get "$k"
is "$status:$(cat "$T/out")" "0:value of $k" "a miss filled through the cluster"
port=$(cluster_node_of "cw:{$k}")
is "$(redis-cli -p "$port" get "cw:{$k}")" "value of $k" \
	"stored on its slot's master, the key as its hash tag"

# 300 keys, spread over the three masters: filled once, then read back
# from L2 by another host.
i=0
while [ "$i" -lt 300 ]; do
	printf 'prices:K%03d:M1:2024-01-02\n' "$i"
	i=$((i + 1))
done >"$T/keys"
: >"$T/calls"
cw-get - <"$T/keys" >"$T/first" 2>"$T/err"
is "$?:$(calls)" "0:300" "a batch of 300 misses: 300 fetches"
used=0
for p in $(cluster_masters); do
	c=$(redis-cli -p "$p" dbsize)
	[ "$c" -gt 0 ] && used=$((used + 1))
done
is "$used" 3 "their values on all three masters"
fresh_l1
cw-get - <"$T/keys" >"$T/second" 2>"$T/err"
is "$?:$(calls)" "0:300" "read back by another host: no fetch"
is "$(cmp "$T/first" "$T/second" && echo same)" same "the same values"
# What that costs the masters: a key alone in its slot goes as a GET, and
# its life left (PTTL) only when it caps an L1 fill. ran VERB: the VERBs
# the masters ran since their counts were reset.
ran() {
	for p in $(cluster_masters); do
		redis-cli -p "$p" info commandstats | tr -d '\r'
	done | awk -F'[:=,]' -v v="cmdstat_$1" '$1 == v { n += $3 } END { print n + 0 }'
}
reset_counts() {
	for p in $(cluster_masters); do redis-cli -p "$p" config resetstat >/dev/null; done
}
fresh_l1
reset_counts
cw-get - <"$T/keys" >"$T/second" 2>"$T/err"
is "$(ran get) $(ran mget) $(ran pttl) $(cmp "$T/first" "$T/second" && echo same)" \
	"300 0 300 same" "filling L1: a GET and a PTTL a key"
fresh_l1
reset_counts
cw-get --no-fill - <"$T/keys" >"$T/second" 2>"$T/err"
is "$(ran get) $(ran mget) $(ran pttl) $(cmp "$T/first" "$T/second" && echo same)" \
	"300 0 0 same" "--no-fill: a GET a key, nothing else"
# Someone else's hash under a key's name: GET's WRONGTYPE is that key's,
# not the batch's.
h=prices:K007:M1:2024-01-02
redis-cli -p "$(cluster_node_of "cw:{$h}")" del "cw:{$h}" >/dev/null
redis-cli -p "$(cluster_node_of "cw:{$h}")" hset "cw:{$h}" f v >/dev/null
fresh_l1
: >"$T/calls"
cw-get --no-fill - <"$T/keys" >"$T/second" 2>"$T/err"
is "$?:$(calls):$(cmp "$T/first" "$T/second" >/dev/null && echo same):$(redis-cli -p "$(cluster_node_of "cw:{$h}")" type "cw:{$h}")" \
	"0:1:same:hash" "that key alone from the source, the hash left alone"

# A key the source has not: remembered beside its key, in its slot.
m=missing:A:B:2024-01-02
cw-get "$m" >/dev/null 2>&1
is "$(redis-cli -p "$(cluster_node_of "cw:{$m}")" exists "cw:{$m} none")" 1 \
	"a remembered miss on the master of its key's slot"
is "$(redis-cli -p "$port" cluster keyslot "cw:{$m} lock")" \
	"$(redis-cli -p "$port" cluster keyslot "cw:{$m}")" \
	"the lock's name shares its key's slot"

# The fence on a cluster: the lock, its fence and the value are one
# script's keys, in one slot.
run "$CW_BUILD/tests/l2fence" "$CLUSTER_URL"
is "$status:$(grep -c '^ok: ' "$T/out")" "0:11" \
	"a stalled lock holder never stores over a newer answer"

# Out of memory at every allocation of the levels on the cluster
# (tests/oom.h): the slot map, MOVED and each node's pipeline included.
printf '[l2]\nurl = %s\nfailover_wait = 200ms\n[source]\nurl = synthetic:0ms\n' \
	"$CLUSTER_URL" >"$T/oom.conf"
run "$CW_BUILD/tests/l2oom" "$T/oom.conf" "$T"
is "$status:$(sed 's/: [0-9]* runs/: N runs/' "$T/out")" \
	"0:ok: N runs failed an allocation, each ended well" \
	"out of memory anywhere on a cluster: CW_ENOMEM or carried on"

# By instrument: one instrument's keys in one slot.
cp "$T/cw.conf" "$T/inst.conf"
printf '[l2]\nslot_by_instrument = yes\n' >>"$T/inst.conf"
for d in 03 04 05 06; do echo "labels:GBP_USD:H1:2024-01-$d"; done |
	CW_CONFIG=$T/inst.conf cw-get - >/dev/null 2>&1
p=$(cluster_node_of "cw:{GBP_USD}")
is "$(redis-cli -p "$p" cluster getkeysinslot \
	"$(redis-cli -p "$p" cluster keyslot GBP_USD)" 100 | grep -vc ' ')" 4 \
	"slot_by_instrument: four days of one instrument in one slot"
is "$(redis-cli -p "$p" get "cw:{GBP_USD}labels:GBP_USD:H1:2024-01-05")" \
	"value of labels:GBP_USD:H1:2024-01-05" "named by the instrument's tag"

# node_id PORT: the cluster's id of the node on PORT.
node_id() { redis-cli -p "$1" cluster myid; }
# move_slot KEYNAME TO_PORT [keep_migrating]: move the slot of a Redis
# key to another master, as redis-cli --cluster reshard does; with a
# third argument the slot is left half-moved (MIGRATING, IMPORTING).
move_slot() {
	from=$(cluster_node_of "$1")
	slot=$(redis-cli -p "$from" cluster keyslot "$1")
	redis-cli -p "$2" cluster setslot "$slot" importing "$(node_id "$from")" >/dev/null
	redis-cli -p "$from" cluster setslot "$slot" migrating "$(node_id "$2")" >/dev/null
	redis-cli -p "$from" cluster getkeysinslot "$slot" 1000 |
		while IFS= read -r key; do
			redis-cli -p "$from" migrate 127.0.0.1 "$2" "$key" 0 \
				5000 >/dev/null
		done
	[ $# -gt 2 ] && return
	for p in $(cluster_masters); do
		redis-cli -p "$p" cluster setslot "$slot" node "$(node_id "$2")" >/dev/null
	done
}
other_master() {
	for p in $(cluster_masters); do
		[ "$p" != "$1" ] && { echo "$p"; return; }
	done
}

# MOVED: a process learns the map, the slot of a key it has not looked up
# yet moves, then it looks that key up.
a=prices:K001:M1:2024-01-02
b=prices:K002:M1:2024-01-02
fresh_l1
before=$(calls)
mkfifo "$T/fifo"
cw-get - <"$T/fifo" >"$T/moved" 2>"$T/err" &
getpid=$!
exec 3>"$T/fifo"
echo "$a" >&3
wait_for "the first answer" test -s "$T/moved"
bport=$(cluster_node_of "cw:{$b}")
move_slot "cw:{$b}" "$(other_master "$bport")"
echo "$b" >&3
exec 3>&-
wait "$getpid"
is "$?:$(fetched_since "$before")" "0:0" "MOVED followed: exit 0, no fetch"
is "$(sed -n 2p "$T/moved" | cut -f2)" "value of $b" \
	"the value from the slot's new master"
is "$(cluster_node_of "cw:{$b}")" "$(other_master "$bport")" \
	"(the slot did move)"

# ASK: a slot half-moved, its key already on the importing node.
c=prices:K003:M1:2024-01-02
fresh_l1
cport=$(cluster_node_of "cw:{$c}")
move_slot "cw:{$c}" "$(other_master "$cport")" half
is "$(redis-cli -p "$cport" cluster countkeysinslot "$slot")" 0 \
	"(the key has left the old master, which still owns the slot)"
run cw-get "$c"
is "$status:$(cat "$T/out"):$(fetched_since "$before")" "0:value of $c:0" \
	"ASK followed: the value from the importing node, no fetch"

# A master SIGKILLed: its replica is promoted, and its keys are served
# from the replica by a process that was waiting for it.
fresh_l1
d=prices:K004:M1:2024-01-02
dport=$(cluster_node_of "cw:{$d}")
redis-cli -p "$dport" wait 1 2000 >/dev/null
kill -KILL "$(cluster_pid_of "$dport")"
start=$(date +%s%N)
run cw-get "$d"
ms=$((($(date +%s%N) - start) / 1000000))

is "$status:$(cat "$T/out"):$(fetched_since "$before")" "0:value of $d:0" \
	"master killed: the value from its promoted replica, no fetch"
now=$(cluster_node_of "cw:{$d}")
if [ -n "$now" ] && [ "$now" != "$dport" ]; then
	ok "(waited $ms ms for the promotion; the slot now on $now)"
else
	not_ok "the slot on a new master (it is on '$now')"
fi
is "$(cat "$T/err")" "" "nothing said: the wait is the failover's"

# No node of the URL answers: tried again for failover_wait, then L2 is
# given up for the process, said once, and the source answers.
printf '[l2]\nurl = redis+cluster://127.0.0.1:%s,127.0.0.1:%s\nfailover_wait = 300ms\n[source]\nurl = exec:%s\n' \
	"$(free_port)" "$(free_port)" "$T/source" >"$T/dead.conf"
printf '%s\n' prices:K900:M1:2024-01-02 prices:K901:M1:2024-01-02 >"$T/two"
CW_L1_FILE=$T/dead.l1 cw-get -c "$T/dead.conf" - <"$T/two" >"$T/out" 2>"$T/err"
is "$?:$(cut -f2 "$T/out" | tr '\n' ' ')" \
	"0:value of prices:K900:M1:2024-01-02 value of prices:K901:M1:2024-01-02 " \
	"no node answers: both keys from the source, exit 0"
is "$(grep -c 'going on without it' "$T/err"):$(wc -l <"$T/err" | tr -d ' ')" "1:1" \
	"L2's loss said once"

# The cluster cannot take a prefix with braces (hash tags are ours).
printf '[l2]\nurl = %s\nprefix = c{w}:\n' "$CLUSTER_URL" >"$T/brace.conf"
run cw-stats -c "$T/brace.conf" config
is "$status:$(cat "$T/err")" \
	"78:cw-stats: $T/brace.conf:3: l2.prefix 'c{w}:': at most 63 bytes, no blanks or braces" \
	"a prefix with a brace: exit 78"
is "$(CW_REDIS_URL='redis+cluster://127.0.0.1:1/2' cw-stats config 2>&1)" \
	"cw-stats: l2.url 'redis+cluster://127.0.0.1:1/2': a cluster has database 0 alone" \
	"a cluster URL with a database: refused"

# ---- Sentinel ----
start_redis_sentinel
cat >"$T/sent.conf" <<CONF
[l2]
url = $SENTINEL_URL
timeout = 2s
failover_wait = 15s
[source]
url = exec:$T/source
CONF
export CW_CONFIG="$T/sent.conf"
fresh_l1
run cw-get "$a"
is "$status:$(redis-cli -p "$SENT_MASTER_PORT" get "cw:$a")" "0:value of $a" \
	"Sentinel: the value stored on the master it names"
e=prices:K005:M1:2024-01-02
fresh_l1
cw-get - <"$T/fifo" >"$T/switch" 2>"$T/err" &
getpid=$!
exec 3>"$T/fifo"
echo "$e" >&3
wait_for "the first answer" test -s "$T/switch"
redis-cli -p "$SENTINEL_PORT" sentinel failover cwmaster >/dev/null
wait_for "the switch" sh -c "redis-cli -p $SENTINEL_PORT sentinel get-master-addr-by-name cwmaster | grep -qx $SENT_REPLICA_PORT"
wait_for "the old master's demotion" sh -c "redis-cli -p $SENT_MASTER_PORT role | grep -qx slave"
f=prices:K006:M1:2024-01-02
echo "$f" >&3
exec 3>&-
wait "$getpid"
is "$?:$(sed -n 2p "$T/switch" | cut -f2)" "0:value of $f" \
	"after a switch, the process that used the old master goes on"
is "$(redis-cli -p "$SENT_REPLICA_PORT" get "cw:$f")" "value of $f" \
	"its fill on the new master"
is "$(cat "$T/err")" "" "and nothing said"
# A master name the sentinels do not know: L2 given up, said once, the
# source answers. (Asked again until failover_wait: 1 s here.)
sed -e 's|/cwmaster$|/nosuch|' -e 's|^failover_wait = .*|failover_wait = 1s|' \
	"$T/sent.conf" >"$T/nosuch.conf"
fresh_l1
run cw-get -c "$T/nosuch.conf" "$a"
is "$status:$(cat "$T/out"):$(cat "$T/err")" \
	"0:value of $a:cw-get: l2 redis+sentinel://127.0.0.1:$SENTINEL_PORT/nosuch: the sentinels know no master 'nosuch'; going on without it" \
	"a master the sentinels do not know: said once, the source answers"
finish
