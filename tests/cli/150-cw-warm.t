#!/bin/sh
# cw-warm with a real Redis and a counting exec source: sessions from the
# sample data, priority order, deadlines, freshness, refresh and drop,
# low priority never evicting, the pipe from cw-predict, the journal
# after a SIGKILL, a failing source, two runs at once.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 75

# ---- a session from the sample data, no L2 ----
run cw-warm --session london --at 2024-01-03T07:45Z
is "$status" 0 "a London warm-up on the sample data: exit 0"
is "$(wc -l <"$T/out" | tr -d ' ')" 16 "16 keys: 2 instruments x 4 granularities x 2 days"
is "$(head -n 3 "$T/out" | cut -f1-3)" "labels:EUR_USD:M15:2024-01-03	warmed	l1
labels:EUR_USD:M15:2024-01-02	warmed	l1
labels:EUR_USD:H1:2024-01-03	warmed	l1" "in order, each warmed into L1"
is "$(summary "$T/err")" \
	"cw-warm: 16 keys: 16 warmed, 0 fresh, 0 refreshed, 0 dropped, 0 failed, 0 expired in T" \
	"the summary line"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "and nothing else on stderr"
run cw-get -v labels:GBP_USD:H4:2024-01-02
is "$(untimed "$T/err")" "cw-get: labels:GBP_USD:H4:2024-01-02: l1 hit in T us" \
	"a warmed key is an L1 hit"
run cw-warm --session london --at 2024-01-03T07:45Z
is "$status:$(cut -f2 "$T/out" | sort -u)" "0:fresh" "the second run: every key fresh"
run cw-warm -n --session auto --at 2024-01-06T07:45Z
is "$status:$(cat "$T/out")" "0:" "a Saturday: no session opens"
run cw-warm -n -v --session auto --at 2024-01-08T07:45Z
is "$(cat "$T/err")" "cw-warm: session london opens 2024-01-08T08:00:00Z" \
	"a Monday: London"
is "$(head -n 2 "$T/out")" "labels:EUR_USD:M15:2024-01-08	warm	critical
labels:EUR_USD:M15:2024-01-05	warm	critical" \
	"a dry run: the plan, Friday as the day before, critical"
# --max-rate: 6 keys at 5 a second take a second (the first at once).
t0=$(date +%s%3N)
run cw-warm --force --max-rate 5 labels:EUR_USD:H4:2024-01-02 labels:EUR_USD:H4:2024-01-03 \
	labels:EUR_USD:H4:2024-01-04 labels:EUR_USD:H4:2024-01-05 labels:EUR_USD:H4:2024-01-08 \
	labels:EUR_USD:H4:2024-01-09
took=$(($(date +%s%3N) - t0))
is "$status:$(cut -f2 "$T/out" | sort -u)" "0:refreshed" "--max-rate: every key done"
is "$([ "$took" -ge 950 ] && echo capped)" capped "at most 5 started a second (${took} ms)"
# A release: the FOMC at 14:00 New York, on EDT since the 8th (18:00Z),
# warms every USD instrument's keys, critical, within the lead.
run cw-warm -n -v --session auto --at 2026-03-18T17:30Z
is "$status:$(cat "$T/err")" "0:cw-warm: release fomc at 2026-03-18T18:00:00Z" \
	"--session auto: the FOMC release ahead, said with -v"
is "$(cut -f1 "$T/out" | cut -d: -f2 | uniq | tr '\n' ' ')" \
	"AUD_USD USD_JPY EUR_USD GBP_USD USD_CAD " "the keys of every USD instrument"
is "$(wc -l <"$T/out" | tr -d ' '):$(cut -f2,3 "$T/out" | sort -u | tr '\t' ' ')" \
	"40:warm critical" "40 keys (5 x 4 granularities x 2 days), all critical"
run cw-warm -n --session boe --at 2026-04-30T08:00Z
is "$(head -n 1 "$T/out")" "labels:GBP_USD:M15:2026-04-30	warm	critical" \
	"--session boe: that release's own keys"
# A task a JSON line as it ends: the key, what became of it, where it
# went, how long, its priority, tries and error (Saturday's key: none).
run cw-warm -o json labels:EUR_USD:H4:2024-01-10 labels:EUR_USD:H4:2024-01-06
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(d["key"], d["result"], d["filled"], d["priority"], d["tries"],
          repr(d["error"]), isinstance(d["ms"], float))
PY
is "$status:$(cat "$T/parsed")" "1:labels:EUR_USD:H4:2024-01-10 warmed l1 high 1 '' True
labels:EUR_USD:H4:2024-01-06 failed l1 high 1 'not found' True" \
	"-o json: a line a task; a key not found fails the run (exit 1)"
run cw-warm --session mars
is "$status" 2 "an unknown session: usage error"
is "$(head -n 1 "$T/err" | sed 's/ calendar .*/ calendar/')" \
	"cw-warm: --session 'mars': not in the calendar" "saying so"
run cw-warm -j 0 labels:EUR_USD:H4:2024-01-10
is "$status:$(head -n 1 "$T/err")" "2:cw-warm: -j '0': out of range 1..1024" \
	"a count out of range: usage error, naming the option and its range"

# ---- a counting source, Redis as L2 ----
start_redis
cat >"$T/source" <<EOF
#!/bin/sh
echo "\$1" >>"$T/calls"
[ -e "$T/fail" ] && { echo "source broken" >&2; exit 3; }
[ -e "$T/slow" ] && sleep "\$(cat "$T/slow")"
case \$1 in
missing:*) exit 1 ;;
esac
printf 'value %s of %s' "\$(wc -l <"$T/calls" | tr -d ' ')" "\$1"
EOF
chmod +x "$T/source"
cat >"$T/cw.conf" <<EOF
[l2]
url = $REDIS_URL
timeout = 2s
[source]
url = exec:$T/source
timeout = 5s
EOF
export CW_CONFIG="$T/cw.conf"
fresh() { rm -f "$CW_L1_FILE"; rcli flushall >/dev/null; : >"$T/calls"; }
calls() { wc -l <"$T/calls" | tr -d ' '; }

# Priority order, and the same order every time: one job, so the source
# sees the order the tasks start in.
printf 'p:A:B:2024-01-01\t1\t0.2\tlow\np:A:B:2024-01-02\t1\t0.9\tcritical\np:A:B:2024-01-03\t1\t0.9\nnot a key\np:A:B:2024-01-04\t1\t0.4\np:A:B:2024-01-05\t1\t0.9\tcritical\n' \
	>"$T/forecast"
fresh
run cw-warm -j 1 - <"$T/forecast"
is "$status" 65 "a malformed line: exit 65"
is "$(head -n 1 "$T/err")" \
	"cw-warm: stdin:4: key 'not a key': whitespace or control character" \
	"naming the line"
is "$(tr '\n' ' ' <"$T/calls")" "p:A:B:2024-01-02 p:A:B:2024-01-05 p:A:B:2024-01-03 p:A:B:2024-01-04 p:A:B:2024-01-01 " \
	"critical first (input order among them), high (0.9), medium (0.4), low"
cp "$T/calls" "$T/order1"
fresh
cw-warm -j 1 - <"$T/forecast" >/dev/null 2>&1
is "$(cat "$T/calls")" "$(cat "$T/order1")" "the same input: the same order"
# The warm-up's five fetches are cw-warm's, not the readers': a reader's
# one lookup after it is the only one judged, a hit.
cw-get p:A:B:2024-01-02 >/dev/null
cw-stats -o json | python3 -c 'import json,sys; d=json.load(sys.stdin)
w, r = d["warmer"]["levels"], d["levels"]
print(w["l3"]["requests"], w["l3"]["hits"], r["l3"]["requests"],
      d["overall"]["lookups"], d["overall"]["hit_rate"],
      d["window"]["overall"]["hit_rate"])' >"$T/parsed"
is "$(cat "$T/parsed")" "5 5 0 1 1 1" \
	"warming counted apart: the readers' hit rate is the one reader's"
cw-stats -o prom | grep 'level="l3",result="hit"' >"$T/parsed"
is "$(cat "$T/parsed")" 'cw_requests_total{level="l3",result="hit",role="reader"} 0
cw_requests_total{level="l3",result="hit",role="warmer"} 5' \
	"prom: a role label tells them apart"
run cw-stats --check --memory-warning 100
is "$status:$(sed 's/ | .*//' "$T/out")" "0:CACHEWARM OK - all within thresholds" \
	"the check judges the readers, not the warm-up"

# Freshness: skipped unless --force, and then re-read from the source.
k=f:A:B:2024-01-01
fresh
cw-warm "$k" >/dev/null 2>&1
is "$(rcli get "cw:$k")" "value 1 of $k" "warmed into L2"
rcli config resetstat >/dev/null
run cw-warm "$k"
is "$(cut -f2,3 "$T/out"):$(calls)" "fresh	-:1" "fresh in both levels: skipped"
is "$(rcli info commandstats | sed -n 's/^cmdstat_\([a-z]*get\|pttl\):calls=\([0-9]*\).*/\1=\2/p' | sort | tr '\n' ' ')" \
	"pttl=1 " "the fresh check asks L2 for the key's life (PTTL), not its value"
run cw-warm --force "$k"
is "$(cut -f2,3 "$T/out"):$(calls)" "refreshed	l1,l2:2" "--force: re-read, both levels filled"
is "$(rcli get "cw:$k")" "value 2 of $k" "L2 holds the new value"
# L2's copy about to go: the source's answer, not a copy of it.
rm -f "$CW_L1_FILE"
rcli pexpire "cw:$k" 100000 >/dev/null
run cw-warm "$k"
is "$(cut -f2,3 "$T/out"):$(calls)" "refreshed	l1,l2:3" "L2 at 3% of its TTL: refreshed from the source"
# L2 fresh, L1 empty: copied from L2, no query.
rm -f "$CW_L1_FILE"
rcli config resetstat >/dev/null
run cw-warm "$k"
is "$(cut -f2,3 "$T/out"):$(calls)" "warmed	l1:3" "L2 fresh, L1 empty: L1 filled from L2"
is "$(rcli info commandstats | sed -n 's/^cmdstat_\([a-z]*\):calls=\([0-9]*\).*/\1=\2/p' | sort | tr '\n' ' ')" \
	"get=1 pttl=2 " "and without the key's lock: its life checked, then value and life read in one round trip"

# --refresh and --drop across both levels.
run cw-warm --refresh "$k"
is "$(cut -f2 "$T/out"):$(rcli get "cw:$k")" "refreshed:value 4 of $k" "--refresh overwrites L2"
is "$(cw-get "$k")" "value 4 of $k" "and L1"
cw-get missing:A:B:2024-01-01 2>/dev/null
run cw-warm --drop "$k" missing:A:B:2024-01-01
is "$status:$(cut -f1,2 "$T/out" | tr '\n' ' ')" "0:$k	dropped missing:A:B:2024-01-01	dropped " "--drop: both dropped"
is "$(rcli exists "cw:$k" "cw:missing:A:B:2024-01-01 none")" 0 "gone from L2, the remembered miss too"
is "$(cw-stats keys)" "" "and from L1"

# A key the source does not have: failed, not found, exit 1.
run cw-warm missing:A:B:2024-01-02
is "$status:$(cut -f2,5 "$T/out")" "1:failed	not found" "not in the source: failed, exit 1"

# Deadline: what is left is reported expired, exit 75.
fresh
echo 0.4 >"$T/slow"
run cw-warm -j 1 --deadline 2s d:A:B:2024-01-01 d:A:B:2024-01-02 d:A:B:2024-01-03 d:A:B:2024-01-04 \
	d:A:B:2024-01-05 d:A:B:2024-01-06 d:A:B:2024-01-07 d:A:B:2024-01-08
rm "$T/slow"
is "$status" 75 "past the deadline: exit 75"
is "$(wc -l <"$T/out" | tr -d ' '):$(head -n 1 "$T/out" | cut -f2):$(tail -n 1 "$T/out" | cut -f2)" \
	"8:warmed:expired" "the first warmed, the last expired, none dropped silently"
# How many expire depends on the machine's speed; their reason does not.
is "$(awk -F'\t' '$2 == "expired" { print $5 }' "$T/out" | sort -u)" \
	"deadline passed" "each expired one with the reason"

# Low priority never evicts: an L1 of 4 entries, full.
printf '[l1]\nmax_entries = 4\n' >>"$T/cw.conf"
fresh
cw-get l:A:B:2024-01-01 l:A:B:2024-01-02 l:A:B:2024-01-03 l:A:B:2024-01-04 >/dev/null
cw-stats keys | cut -f1 | sort >"$T/before"
run cw-warm --strategy background l:A:B:2024-01-05 l:A:B:2024-01-06
is "$status:$(cut -f2,3 "$T/out" | tr '\n' ' ')" "0:warmed	l2 warmed	l2 " \
	"background into a full L1: warmed into L2 only"
is "$(cw-stats keys | cut -f1 | sort)" "$(cat "$T/before")" "L1 kept every entry it had"
run cw-warm l:A:B:2024-01-07
is "$(cut -f3 "$T/out"):$(cw-stats keys | wc -l | tr -d ' ')" "l1,l2:4" \
	"a high-priority key evicts as usual"
sed -i '/^\[l1\]$/,$d' "$T/cw.conf"

# The source failing mid-run: the cached values stay; the run says so.
fresh
cw-warm c:A:B:2024-01-01 >/dev/null 2>&1
touch "$T/fail"
run cw-warm --force c:A:B:2024-01-01 c:A:B:2024-01-02
rm "$T/fail"
is "$status" 69 "the source failing: exit 69"
is "$(cut -f1,2 "$T/out" | sort | tr '\n' ' ')" "c:A:B:2024-01-01	failed c:A:B:2024-01-02	failed " \
	"both failed"
is "$(cut -f5 "$T/out" | sed "s|$T/||" | sort | tr '\n' ' ')" \
	"exec source c:A:B:2024-01-01: exit 3 exec source c:A:B:2024-01-02: exit 3 " \
	"with the source's reason"
is "$(rcli get "cw:c:A:B:2024-01-01"):$(cw-get c:A:B:2024-01-01)" \
	"value 1 of c:A:B:2024-01-01:value 1 of c:A:B:2024-01-01" \
	"L1 and L2 keep what they had"

# Two runs at once, one host: each key fetched once.
fresh
echo 0.2 >"$T/slow"
i=0
while [ $i -lt 10 ]; do echo "t:A:B:2024-01-$((i + 10))"; i=$((i + 1)); done >"$T/ten"
cw-warm -j 4 - <"$T/ten" >"$T/run1" 2>"$T/run1.err" &
r1=$!
cw-warm -j 4 - <"$T/ten" >"$T/run2" 2>"$T/run2.err" &
r2=$!
wait "$r1"
s1=$?
wait "$r2"
s2=$?
rm "$T/slow"
is "$s1:$s2" "0:0" "two concurrent runs: both exit 0"
is "$(calls):$(sort -u "$T/calls" | wc -l | tr -d ' ')" "10:10" \
	"each of the 10 keys fetched once in all"

# Redis writes pipelined: a session of 16 sample keys at -j 16 is one
# look for freshness (and a second for the remembered misses of the keys
# it found no value for), a lock (with its look) a key, and one round
# trip for every fill of L2 with the locks' release.
printf '[l2]\nurl = %s\n' "$REDIS_URL" >"$T/samplel2.conf"
rcli flushall >/dev/null
rm -f "$CW_L1_FILE"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" CW_CONFIG=$T/samplel2.conf \
	strace -f -e trace=connect,write -o "$T/strace" \
	cw-warm -j 16 --session london --at 2024-01-03T07:45Z >/dev/null 2>&1
fd=$(awk -v p="htons($REDIS_PORT)" 'index($0, "connect(") && index($0, p) {
	sub(/.*connect\(/, ""); sub(/,.*/, ""); print; exit }' "$T/strace")
is "$(grep -c "write($fd," "$T/strace")" 19 "16 keys warmed into L2 in 19 round trips: 2 + 16 locks + 1 for the fills"

# The journal: a run killed mid-way, its status, and its resumption.
# No L2 here: the killed run's locks would hold its keys for a while.
printf '[source]\nurl = exec:%s\ntimeout = 5s\n' "$T/source" >"$T/nol2.conf"
export CW_CONFIG="$T/nol2.conf"
fresh
echo 0.15 >"$T/slow"
cw-warm -j 1 - <"$T/ten" >"$T/killed" 2>/dev/null &
victim=$!
sleep 0.9
kill -9 "$victim"
wait "$victim" 2>/dev/null
rm "$T/slow"
run cw-warm --status
is "$status" 0 "--status of a killed run: exit 0"
is "$(awk -F'\t' '$1 == "state" { print $2 }' "$T/out")" interrupted \
	"it was interrupted"
is "$(awk -F'\t' '$1 == "tasks" { print $2 }' "$T/out")" 10 "with its 10 tasks"
id=$(sed -n 's/^run	//p' "$T/out")
done_before=$(grep -c '^key	.*	warmed	' "$T/out")
pending=$(sed -n 's/^pending	//p' "$T/out")
is "$([ "$done_before" -ge 1 ] && [ "$pending" -ge 1 ] && [ $((done_before + pending)) -eq 10 ] && echo yes)" yes \
	"some warmed ($done_before), the rest pending ($pending)"
grep '^key	.*	warmed	' "$T/out" | cut -f2 | sort >"$T/warmed_before"
run cw-warm --resume "$id"
is "$status" 0 "--resume: exit 0"
is "$(wc -l <"$T/out" | tr -d ' ')" "$pending" "it warms only what was left"
dup=$(sort "$T/calls" | uniq -d | comm -12 - "$T/warmed_before")
is "$dup" "" "no key the first run completed was fetched again"
run cw-warm --status "$id"
is "$(sed -n 's/^state	//p; s/^warmed	//p' "$T/out" | tr '\n' ' ')" "finished 10 " \
	"now finished, all 10 warmed"
run cw-warm --status -o json "$id"
is "$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["state"], d["tasks"], d["warmed"], len(d["keys"]))' "$T/out")" \
	"finished 10 10 10" "--status -o json"
run cw-warm --status nosuchrun
is "$status" 1 "--status of an unknown run: exit 1"

# cw-predict's forecast on a pipe.
export CW_CONFIG="$T/cw.conf"
fresh
cw-bench generate --weeks 2 --instruments EUR_USD,USD_JPY --start 2024-03-04 >"$T/trace"
cw-predict --learn --log "$T/trace" --state "$T/model" --at 2024-03-18T06:00Z 2>/dev/null
cw-predict --state "$T/model" --no-learn --at 2024-03-18T07:00Z --look-ahead 2h --top 60 >"$T/fc"
run sh -c "cw-predict --state '$T/model' --no-learn --at 2024-03-18T07:00Z --look-ahead 2h --top 60 | cw-warm -j 8 -"
is "$status" 0 "cw-predict | cw-warm -: exit 0"
is "$(cut -f1 "$T/out" | sort)" "$(cut -f1 "$T/fc" | sort -u)" "every forecast key warmed once"
is "$(cut -f2 "$T/out" | sort -u)" "warmed" "all warmed"

# --optimize: what L2 keeps answering goes into L1; expired entries go.
fresh
rm -f "$T/cache/cw/access.log"
cw-warm o:A:B:2024-01-01 o:A:B:2024-01-02 >/dev/null 2>&1
for i in 1 2 3; do rm -f "$CW_L1_FILE"; cw-get o:A:B:2024-01-01 >/dev/null; done
rm -f "$CW_L1_FILE"
cw-get o:A:B:2024-01-02 >/dev/null
rm -f "$CW_L1_FILE"
cw-get --ttl 1s o:A:B:2024-01-03 >/dev/null
sleep 1.2
run cw-warm --optimize
is "$status:$(cut -f1-3 "$T/out")" "0:o:A:B:2024-01-01	warmed	l1" \
	"--optimize: the key L2 answered three times is promoted into L1"
is "$(head -n 1 "$T/err")" \
	"cw-warm: optimize: 1 expired L1 entries reclaimed, 1 keys L2 kept answering to promote" \
	"and the expired entry reclaimed"
is "$(cw-stats keys | cut -f1)" "o:A:B:2024-01-01" "L1 holds the promoted key alone"

# cw-stats sums the journal: every run above, failures and expiries too.
run cw-stats -o json
is "$(python3 -c 'import json,sys; w=json.load(sys.stdin)["warming"]; print(w["runs"] > 10, w["failed"] >= 3, w["expired"] >= 3, 0 < w["success_rate"] < 1, w["latency"]["count"] > 0)' <"$T/out")" \
	"True True True True True" "cw-stats -o json: the journal's runs, failures, expiries, success rate, task times"
run cw-stats
is "$(tail -n 3 "$T/out" | head -n 1 | sed -E 's/[0-9]+(\.[0-9]+)?/N/g')" \
	"warming     N runs, N tasks: N done, N failed, N expired, N% success" \
	"the table ends with the warming figures"
# A journal of its own: one key of four warmed.
printf '[warm]\njournal = %s\n' "$T/j2" >>"$T/cw.conf"
fresh
cw-warm missing:A:B:2024-01-03 missing:A:B:2024-01-04 j:A:B:2024-01-01 >/dev/null 2>&1
touch "$T/fail"
cw-warm j:A:B:2024-01-02 >/dev/null 2>&1
rm "$T/fail"
run cw-stats --check --hit-rate-critical 0 --p99-critical 100000 --memory-warning 100
is "$status:$(grep -o 'WARNING - warming failures 75.0% > 5.0%' "$T/out")" \
	"1:WARNING - warming failures 75.0% > 5.0%" "--check: the seed's fourth alert, warming failures above 5%"
run cw-stats --check --hit-rate-critical 0 --p99-critical 100000 --memory-warning 100 --warm-failure-warning 80
is "$status" 0 "--warm-failure-warning overrides it"
# A waiter whose key another process fills into L1 frees its slot for
# the next task at once: with one job, key a waits on a lock someone
# else holds, a cw-get without L2 fills a into the shared L1 file, and
# b must then start, not wait for the deadline.
export CW_CONFIG="$T/cw.conf"
fresh
rcli set "cw:w:A:B:2024-01-01 lock" someone px 20000 >/dev/null
printf '[source]\nurl = exec:%s\n' "$T/source" >"$T/nol2.conf"
t0=$(date +%s%3N)
cw-warm -j 1 --deadline 8s w:A:B:2024-01-01 w:A:B:2024-01-02 >"$T/w.out" 2>/dev/null &
w=$!
sleep 0.5
cw-get -c "$T/nol2.conf" w:A:B:2024-01-01 >/dev/null
wait "$w"
took=$(($(date +%s%3N) - t0))
is "$(cut -f1,2 "$T/w.out" | tr '\n' ' ')$([ "$took" -lt 5000 ] && echo soon)" \
	"w:A:B:2024-01-01	warmed w:A:B:2024-01-02	warmed soon" \
	"a waiter answered from L1 lets the next task start at once (${took} ms)"
finish
