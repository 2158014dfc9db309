#!/bin/sh
# cw-stats: every form parsed back, --check statuses, keys, verify, reset.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 47

run cw-stats
is "$status" 74 "no L1 file yet: exit 74"
is "$(cat "$T/err")" "cw-stats: open $CW_L1_FILE: No such file or directory" \
	"and the reason"
is "$(test -e "$CW_L1_FILE" || echo absent)" absent "cw-stats never creates it"
run cw-stats --check
is "$status" 3 "--check without an L1 file: UNKNOWN (3)"
is "$(cat "$T/out")" \
	"CACHEWARM UNKNOWN - open $CW_L1_FILE: No such file or directory" \
	"with a status line on stdout"

# 3 misses filled from the source, then 5 hits, 1 key found nowhere.
for k in labels:EUR_USD:H4:2024-01-02 labels:EUR_USD:M15:2024-01-03 \
	labels:GBP_USD:D:2024-01-04; do
	cw-get "$k" >/dev/null
done
for _ in 1 2 3 4 5; do cw-get labels:EUR_USD:H4:2024-01-02 >/dev/null; done
cw-get -q labels:EUR_USD:H4:2024-01-06

run env TZ=UTC cw-stats
is "$status" 0 "table: exit 0"
is "$(head -n 1 "$T/out" | sed 's/[0-9]/N/g')" \
	"counters since NNNN-NN-NN NN:NN:NN UTC (file created)" \
	"a time for people carries its zone"
is "$(sed -n '2,15p' "$T/out")" "readers' lookups in the last 5m, then since the counters started

last 5m    requests       hits     misses     hit%   errors timeouts
l1                9          5          4    55.6%        0        0
l2                0          0          0        -        0        0
l3                4          3          1    75.0%        0        0
all               9   served without L3: 55.6%

all time   requests       hits     misses     hit%   errors timeouts
l1                9          5          4    55.6%        0        0
l2                0          0          0        -        0        0
l3                4          3          1    75.0%        0        0
all               9   served without L3: 55.6%" \
	"table: the window's levels first, then all time"
is "$(grep '^eviction' "$T/out")" "eviction    s3-fifo, 0 switches" \
	"table: the eviction policy in force (S3-FIFO until a loop freezes it)"
is "$(grep '^memory' "$T/out")" "memory      4/1000 entries, 8.6K/100.0M, 0.4% full" \
	"table: entries of capacity (the key found nowhere is remembered)"
is "$(sed -n '/^largest/,/^warming/p' "$T/out" | sed '$d')" "largest     7.6K labels:EUR_USD:M15:2024-01-03
            552B labels:EUR_USD:H4:2024-01-02
            150B labels:GBP_USD:D:2024-01-04
            0B labels:EUR_USD:H4:2024-01-06" \
	"table: the largest value first"

run cw-stats -o json
is "$status" 0 "json: exit 0"
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
l1, l3 = d["levels"]["l1"], d["levels"]["l3"]
print(l1["requests"], l1["hits"], l3["hits"], l3["misses"],
      d["overall"]["lookups"], round(d["overall"]["hit_rate"], 4),
      d["memory"]["entries"], d["memory"]["largest"][0]["key"],
      d["overall"]["latency"]["count"])
l2 = d["levels"]["l2"]["latency"]
print(l2["count"], sorted(set(v for k, v in l2.items() if k != "count")))
PY
is "$(cat "$T/parsed")" \
	"9 5 3 1 9 0.5556 4 labels:EUR_USD:M15:2024-01-03 9
0 [None]" \
	"json parses back with the exact counts; a level without data: every figure null"

run cw-stats -o prom
is "$status" 0 "prom: exit 0"
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import re, sys
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_]+="[^"]*"'
                    r'(,[a-zA-Z_]+="[^"]*")*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$')
typed, helped, values, errors = {}, set(), {}, []
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        helped.add(line.split()[2])
    elif line.startswith("# TYPE "):
        _, _, name, kind = line.split()
        typed[name] = kind
    else:
        m = sample.match(line)
        if not m:
            errors.append("line %d: %s" % (n, line))
            continue
        name = m.group(1)
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        if name not in typed and base not in typed:
            errors.append("untyped " + name)
        values[(name, m.group(3) or "")] = float(m.group(5))
# Buckets are cumulative and end at the count.
for lv in ("l1", "l3", "all"):
    b = [v for (n, l), v in values.items()
         if n == "cw_lookup_duration_seconds_bucket" and 'level="%s"' % lv in l]
    if b != sorted(b):
        errors.append("buckets not cumulative for " + lv)
    if max(b) != values[("cw_lookup_duration_seconds_count", 'level="%s"' % lv)]:
        errors.append("+Inf != count for " + lv)
print("errors:", errors)
print(set(typed) <= helped,
      values[("cw_requests_total", 'level="l1",result="hit",role="reader"')],
      values[("cw_lookup_duration_seconds_count", 'level="all"')],
      values[("cw_l1_entries", "")])
print(values[("cw_up", "")], values[("cw_l1_events_total", 'event="repair"')],
      values[("cw_counters_reset_timestamp_seconds", "")] > 1.7e9)
print(values[("cw_l1_eviction_policy", 'policy="s3-fifo"')],
      values[("cw_l1_eviction_policy", 'policy="s3-fifo-frozen"')],
      values[("cw_l1_policy_switches_total", "")])
PY
is "$(cat "$T/parsed")" "errors: []
True 5.0 9.0 4.0
1.0 0.0 True
1.0 0.0 0.0" "prom parses: HELP/TYPE, cumulative buckets, exact counts, up, repairs, since when"
run cw-stats -f "$T/no-such.l1" -o prom
is "$status:$(grep -v '^#' "$T/out")" "0:cw_up 0" \
	"no L1 file: prom says cw_up 0 and exits 0, so a cron scrape replaces the old file"

run cw-stats --check
is "$status" 2 "hit rate 55.6% < 90%: CRITICAL (2)"
is "$(sed 's/ p99=[0-9.]*us;/ p99=Tus;/' "$T/out")" \
	"CACHEWARM CRITICAL - hit rate 55.6% < 90.0% in the last 5m | hit_rate=55.56%;95.00:;90.00: p99=Tus;50000;100000 l1_fill=0.4%;85.0 lookups=9c" \
	"the status line says why and over what window, perfdata after | with units"
run cw-stats --check --hit-rate-critical 50
is "$status:$(sed 's/ | .*//' "$T/out")" \
	"1:CACHEWARM WARNING - hit rate 55.6% < 95.0% in the last 5m" \
	"between the warning and the critical hit rate: WARNING (1)"
run cw-stats --check --hit-rate-warning 50 --hit-rate-critical 40
is "$status:$(sed 's/ p99=[0-9.]*us;/ p99=Tus;/' "$T/out")" \
	"0:CACHEWARM OK - all within thresholds | hit_rate=55.56%;50.00:;40.00: p99=Tus;50000;100000 l1_fill=0.4%;85.0 lookups=9c" \
	"with both hit-rate limits below: OK, the limits in the perfdata"
run cw-stats --check --hit-rate-critical 50 --hit-rate-warning 50 --memory-warning 0.1
is "$status" 1 "L1 fuller than the memory limit: WARNING (1)"
run cw-stats --check --hit-rate-critical 50 --hit-rate-warning 50 --p99-critical 0.001
is "$status:$(sed 's/ | .*//; s/p99 [0-9.]* ms/p99 T ms/' "$T/out")" \
	"2:CACHEWARM CRITICAL - p99 T ms > 0.00 ms in the last 5m" \
	"P99 above the critical limit (the warning follows it down): CRITICAL"
run cw-stats --check --hit-rate-warning 80 --hit-rate-critical 90
is "$status:$(cat "$T/out")" \
	"3:CACHEWARM UNKNOWN - --hit-rate-warning 80 is below --hit-rate-critical 90" \
	"a warning limit the critical one passes first: UNKNOWN"
run cw-stats --check --p99-warning 200 --p99-critical 100
is "$status:$(cat "$T/out")" \
	"3:CACHEWARM UNKNOWN - --p99-warning 200 is above --p99-critical 100" \
	"the same for P99"
run cw-stats --check --window 90s
is "$status:$(cat "$T/out")" \
	"3:CACHEWARM UNKNOWN - --window '90s': whole minutes from 1m to 15m" \
	"a window the file does not keep: UNKNOWN"
run cw-stats --hit-rate-warning 50
is "$status:$(head -n 1 "$T/err")" "2:cw-stats: the thresholds go with --check" \
	"a threshold without --check: usage error"
run cw-stats --window 5m keys
is "$status:$(head -n 1 "$T/err")" "2:cw-stats: --window goes with the figures, not with keys" \
	"--window with keys: usage error"
run cw-stats --check --hit-rate-critical 120
is "$status:$(head -n 1 "$T/err")" \
	"3:cw-stats: --hit-rate-critical '120': not a number in 0..100" \
	"a threshold out of range, as a plugin: UNKNOWN (3), naming it"
run cw-stats -o json --window 15m
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["window"]; print(d["seconds"], d["overall"]["lookups"], d["levels"]["l1"]["hits"], round(d["overall"]["hit_rate"], 4))' "$T/out" >"$T/parsed"
is "$(cat "$T/parsed")" "900 9 5 0.5556" "json: the window asked for, with the readers' recent counts"
run cw-stats --check --hit-rate-critical 150
is "$status:$(cat "$T/out"):$(head -n 1 "$T/err")" \
	"3:CACHEWARM UNKNOWN - --hit-rate-critical '150': not a number in 0..100:cw-stats: --hit-rate-critical '150': not a number in 0..100" \
	"a limit out of range: UNKNOWN (3) with its status line, as a plugin must"
run cw-stats --check --no-such-option
is "$status:$(cat "$T/out")" "3:CACHEWARM UNKNOWN - bad arguments (see cw-stats --help)" \
	"an unknown option to --check: UNKNOWN too"

run cw-stats keys 'labels:EUR_USD:*'
is "$(cut -f1,5 "$T/out" | sort | tr '\t\n' '  ')" \
	"labels:EUR_USD:H4:2024-01-02 value labels:EUR_USD:H4:2024-01-06 not-found labels:EUR_USD:M15:2024-01-03 value " \
	"keys GLOB lists the matching entries, remembered misses marked"
is "$(awk -F'\t' '$1 == "labels:EUR_USD:H4:2024-01-02" {print $2, ($3 > 290), $4}' "$T/out")" \
	"552 1 3" "keys: value bytes, seconds left, reads (capped at 3)"
run cw-stats -o json keys
is "$(grep -c '^{"key":.*"not_found":false}$' "$T/out")" 3 "keys -o json: JSON Lines"
run cw-stats keys 'bars:*'
is "$status:$(cat "$T/out")$(cat "$T/err")" "1:" "keys GLOB matching nothing: exit 1, like grep"

run cw-stats verify
is "$status" 0 "verify on a sound file: exit 0"
is "$(cat "$T/out")" "checked 4 entries: 0 damaged, 0 bad rings, entry counter right" \
	"verify reports what it checked"
# Flip one byte of a stored value in the file itself.
off=$(grep -boa '2024-01-04T00:00:00Z,GBP_USD' "$CW_L1_FILE" | head -1 | cut -d: -f1)
printf 'X' | dd of="$CW_L1_FILE" bs=1 seek="$off" conv=notrunc 2>/dev/null
run cw-stats verify
is "$status" 65 "verify with a damaged entry: exit 65"
run cw-get labels:GBP_USD:D:2024-01-04
is "$(sed -n 2p "$T/out")" \
	"2024-01-04T00:00:00Z,GBP_USD,D,1.28622,1.28722,1.27986,1.28158,35698,0.008368,1" \
	"the damaged entry reads as a miss and refills"

run cw-stats --reset
is "$status" 0 "--reset: exit 0"
run cw-stats -o json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["overall"]["lookups"], d["reset_unix_s"] is not None, d["memory"]["entries"])' "$T/out" >"$T/parsed"
is "$(cat "$T/parsed")" "0 True 4" "after --reset: no lookups, a reset time, entries kept"

run env TZ=UTC cw-stats
is "$(head -n 1 "$T/out" | sed 's/[0-9]/N/g')" \
	"counters since NNNN-NN-NN NN:NN:NN UTC (reset)" \
	"the table says the counters were reset"

run cw-stats --interval 1 --count 2
is "$(wc -l <"$T/out" | tr -d ' ')" 3 "--interval 1 --count 2: a header and two lines"
run cw-stats --count 2
is "$status" 2 "--count without --interval: usage error"
# An option a mode would ignore is refused, not dropped.
run cw-stats -o json verify
is "$status:$(head -n 1 "$T/err")" "2:cw-stats: -o goes with the figures or keys, not with verify" \
	"-o with verify: usage error"
run cw-stats -o json --interval 1 --count 1
is "$status" 2 "-o with --interval: usage error"

# A batch's keys below L1 are each timed by their own fetch, not from
# the batch's start: four keys from a source that takes 0.3 s a key
# (from the batch's start the last would count 1.2 s).
# shellcheck disable=SC2016 # the script's own $1
printf '#!/bin/sh\nsleep 0.3\nprintf "v %%s" "$1"\n' >"$T/slow"
chmod +x "$T/slow"
printf 'b:1\nb:2\nb:3\nb:4\n' | CW_L1_FILE="$T/batch.l1" CW_SOURCE="exec:$T/slow" \
	cw-get - >/dev/null
run cw-stats -f "$T/batch.l1" -o json
python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["overall"]["latency"]
print(l["count"], 0.3e9 <= l["p50_ns"] and l["max_ns"] < 0.75e9)' "$T/out" >"$T/parsed"
is "$(cat "$T/parsed")" "4 True" "each key's latency is its own fetch's"
finish
