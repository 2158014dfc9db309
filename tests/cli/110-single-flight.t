#!/bin/sh
# Single flight: 50 processes missing one cold key at once cause one
# query of the source, whether they share an L1 file (one host) or not
# (many hosts); a key found nowhere likewise. Without Redis, each asks.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 21
: "${CW_BUILD:?}"

start_redis
# Slow enough for every process to miss while the first is fetching.
counting_source "$T/source" 0.5
# Redis's timeout is generous here: 50 processes on a loaded machine
# (or under ASan) must not time out, or they would each ask the source.
printf '[l2]\nurl = %s\ntimeout = 2s\n[source]\nurl = exec:%s\n' \
	"$REDIS_URL" "$T/source" >"$T/cw.conf"
export CW_CONFIG="$T/cw.conf"

# stampede KEY N: N concurrent cw-get of KEY, half of them on an L1 file
# of their own as if on another host; statuses into $T/status.
stampede() {
	: >"$T/calls"
	: >"$T/status"
	rm -f "$T"/out.* "$T"/err.*
	pids=""
	i=0
	while [ "$i" -lt "$2" ]; do
		if [ $((i % 2)) -eq 0 ]; then l1=$T/l1; else l1=$T/host$i.l1; fi
		(
			CW_L1_FILE=$l1 cw-get "$1" >"$T/out.$i" 2>"$T/err.$i"
			echo $? >>"$T/status"
		) &
		pids="$pids $!"
		i=$((i + 1))
	done
	# Not a bare wait: the servers are children of this shell too.
	for pid in $pids; do wait "$pid"; done
}

stampede one:A:B:2024-01-02 50
is "$(wc -l <"$T/calls" | tr -d ' ')" 1 "50 processes, one query of the source"
is "$(sort -u "$T/status" | tr '\n' ' ')" "0 " "every one of them exit 0"
is "$(for f in "$T"/out.*; do cat "$f"; echo; done | sort -u)" \
	"value of one:A:B:2024-01-02" \
	"with the value"

stampede missing:A:B:2024-01-02 50
is "$(wc -l <"$T/calls" | tr -d ' ')" 1 "a key found nowhere: one query too"
is "$(sort -u "$T/status" | tr '\n' ' ')" "1 " "every one of them exit 1"

# Eight warmers, as if eight hosts ran the same cron line, over the same
# 300 keys: each key is fetched once, in spread order or not.
counting_source "$T/fast" 0.01
printf '[l2]\nurl = %s\ntimeout = 2s\n[source]\nurl = exec:%s\n' \
	"$REDIS_URL" "$T/fast" >"$T/fast.conf"
i=0
while [ "$i" -lt 300 ]; do
	printf 'warm:K%03d:M1:2024-01-02\n' "$i"
	i=$((i + 1))
done >"$T/keys"
# warmers SPREAD: eight cw-warm at once; exit statuses into $T/status.
warmers() {
	: >"$T/calls"
	: >"$T/status"
	pids=""
	for h in 1 2 3 4 5 6 7 8; do
		(
			CW_L1_FILE=$T/warm$h.l1 cw-warm -c "$T/fast.conf" \
				${1:+"--spread=host$h"} - <"$T/keys" >/dev/null \
				2>"$T/err.warm$h"
			echo $? >>"$T/status"
		) &
		pids="$pids $!"
	done
	for pid in $pids; do wait "$pid"; done
}
warmers
is "$(wc -l <"$T/calls" | tr -d ' '):$(sort -u "$T/calls" | wc -l | tr -d ' ')" \
	"300:300" "8 warmers over 300 keys: 300 fetches, one a key"
rcli flushall >/dev/null
warmers spread
is "$(wc -l <"$T/calls" | tr -d ' '):$(sort -u "$T/status" | tr '\n' ' ')" \
	"300:0 " "the same with --spread: 300 fetches, every warmer exit 0"
# A warmer that starts late finds some keys fresh in L2 already.
is "$(cat "$T"/err.warm* | grep -c ': 300 keys: .* 0 failed, 0 expired in ')" \
	8 "each had all 300 warm, from L2 what another fetched"

# The fence: a holder that stalls past its lease and wakes after another
# took the key over has its older answer refused (tests/tools/l2fence).
run "$CW_BUILD/tests/l2fence" "$REDIS_URL"
is "$status:$(grep -c '^ok: ' "$T/out")" "0:11" \
	"a stalled lock holder never stores over a newer answer"

# Out of memory at every allocation of the levels with L2 (tests/oom.h).
printf '[l2]\nurl = %s\n[source]\nurl = synthetic:0ms\n' "$REDIS_URL" \
	>"$T/oom.conf"
run "$CW_BUILD/tests/l2oom" "$T/oom.conf" "$T"
is "$status:$(sed 's/: [0-9]* runs/: N runs/' "$T/out")" \
	"0:ok: N runs failed an allocation, each ended well" \
	"out of memory anywhere in cw-get's batch, a warming run or --quick with L2: CW_ENOMEM or carried on"

# A warmer paused (SIGSTOP) past its lease while it fetches: another
# takes the key over and stores the newer answer; when the paused one
# wakes, its older answer does not replace it.
cat >"$T/gen" <<EOF2
#!/bin/sh
g=\$(cat "$T/generation")
echo "\$1" >>"$T/calls"
sleep 0.3
printf 'generation %s' "\$g"
EOF2
chmod +x "$T/gen"
echo 1 >"$T/generation"
printf '[l2]\nurl = %s\ntimeout = 2s\n[source]\nurl = exec:%s\ntimeout = 1s\n' \
	"$REDIS_URL" "$T/gen" >"$T/gen.conf"
: >"$T/calls"
k=paused:A:B:2024-01-02
CW_L1_FILE=$T/paused.l1 cw-warm -c "$T/gen.conf" "$k" >/dev/null 2>&1 &
paused=$!
wait_for "the first fetch" test -s "$T/calls"
kill -STOP "$paused"
echo 2 >"$T/generation"
sleep 2.5	# past the lease: the source's timeout and a second
CW_L1_FILE=$T/other.l1 cw-warm -c "$T/gen.conf" "$k" >/dev/null 2>&1
kill -CONT "$paused"
wait "$paused"
is "$(wc -l <"$T/calls" | tr -d ' '):$(rcli get "cw:$k")" "2:generation 2" \
	"a warmer paused past its lease: the other's newer answer stays in L2"
CW_L1_FILE=$T/paused.l1 cw-get -c "$T/gen.conf" "$k" >"$T/out" 2>&1
is "$(cat "$T/out")" "generation 2" \
	"and the paused host's L1 did not keep its older one"

# The same without waiting out a lease: while a warmer fetches, another
# process takes the key over (its token in the fence, its newer answer
# stored). The first one's answer is refused in L2 and kept out of its
# own L1.
echo 3 >"$T/generation"
: >"$T/calls"
k=takeover:A:B:2024-01-02
CW_L1_FILE=$T/first.l1 cw-warm -c "$T/gen.conf" "$k" >/dev/null 2>&1 &
first=$!
wait_for "the first fetch" test -s "$T/calls"
rcli set "cw:$k fence" "another:1" >/dev/null
rcli set "cw:$k" "generation 4" px 60000 >/dev/null
wait "$first"
is "$(rcli get "cw:$k")" "generation 4" "taken over mid-fetch: the newer answer stays"
CW_L1_FILE=$T/first.l1 cw-get -c "$T/gen.conf" "$k" >"$T/out" 2>&1
is "$(cat "$T/out")" "generation 4" "and the first host's L1 has the newer too"

# --spread: each host's own order, the same on every run.
for run in a a2 b; do
	rm -f "$T/order.l1"
	rcli flushall >/dev/null
	CW_L1_FILE=$T/order.l1 cw-warm -c "$T/fast.conf" -j 1 \
		--spread="${run%2}" - <"$T/keys" 2>/dev/null | cut -f1 >"$T/order.$run"
done
is "$(cmp -s "$T/order.a" "$T/keys" || echo moved):$(sort "$T/order.a" | cmp -s - "$T/keys" && echo all):$(cmp -s "$T/order.a" "$T/order.a2" && echo again)" \
	"moved:all:again" "--spread: every key, in an order of the host's own, every run"
is "$(cmp -s "$T/order.a" "$T/order.b" || echo differ)" "differ" \
	"another host, another order"

# A holder that never answers (its lock left, 60 s): the waiter gives
# up after the lock's lease (the source's timeout of 200 ms, plus 1 s),
# exit 75, and never asks the source itself.
w=waited:A:B:2024-01-02
rcli set "cw:$w lock" "someone" px 60000 >/dev/null
cp "$T/cw.conf" "$T/wait.conf"
printf 'timeout = 200ms\n' >>"$T/wait.conf"
: >"$T/calls"
t0=$(date +%s)
run cw-get -c "$T/wait.conf" "$w"
took=$(($(date +%s) - t0))
is "$status:$(cat "$T/err"):$(wc -l <"$T/calls" | tr -d ' ')" \
	"75:cw-get: $w: waited 1200 ms for another process to fetch it:0" \
	"a lock held past its lease by another: exit 75, said, the source not asked"
is "$([ "$took" -ge 1 ] && [ "$took" -le 6 ] && echo about)" about \
	"after about the lease ($took s)"
rcli del "cw:$w lock" >/dev/null

# Redis down: no lock to share, each process asks the source itself.
kill "$REDIS_PID"
while kill -0 "$REDIS_PID" 2>/dev/null; do sleep 0.05; done
stampede two:A:B:2024-01-02 4
is "$(sort -u "$T/status" | tr '\n' ' ')" "0 " "Redis down: still answered, exit 0"
is "$(wc -l <"$T/calls" | tr -d ' ')" 4 "each asked the source (no stampede control without Redis)"
is "$(cat "$T"/err.* | grep -c 'going on without it')" 4 "each said once that L2 is gone"
finish
