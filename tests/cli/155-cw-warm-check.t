#!/bin/sh
# cw-warm --check and --wait: the share of the next window's forecast
# reads (weighted by expected reads, from the saved model) whose keys are
# warm in L1 and in L2, against a real Redis; the figure checked against
# cw-predict's own forecast of the same window.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 18

start_redis
printf '[l2]\nurl = %s\n[source]\nurl = synthetic:0ms\n' "$REDIS_URL" >"$T/cw.conf"
export CW_CONFIG="$T/cw.conf"

run cw-warm --check
is "$status" 3 "no model yet: UNKNOWN, exit 3"
is "$(cat "$T/out")" \
	"CACHEWARM READY UNKNOWN - $XDG_CACHE_HOME/cw/predict.state: no model yet: No such file or directory; cw-predict --learn makes it" \
	"said on the status line, with the way out"
is "$(wc -l <"$T/out" | tr -d ' ')" 1 "one line"
run cw-warm --check -o json
is "$status:$(python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' <"$T/out")" \
	3:UNKNOWN "and as JSON"

# A model of a generated desk, learned as cron would: from a Monday to
# Thursday two to five days back, inside the week of history it keeps.
for back in 2 3 4 5; do
	case $(date -u -d "$back days ago" +%u) in [1-4]) break ;; esac
done
start=$(date -u -d "$back days ago" +%F)
cw-bench generate --weeks 1 --seed 7 --start "$start" \
	--instruments EUR_USD,USD_JPY | head -n 6000 >"$T/trace"
cw-predict --learn --log - <"$T/trace"
at=$(($(head -n 1 "$T/trace" | cut -d. -f1) + 3 * 3600))
cw-predict --no-learn --at "$at" --look-ahead 1h --min-probability 0 \
	-o json >"$T/forecast"
keys=$(wc -l <"$T/forecast" | tr -d ' ')
is "$([ "$keys" -gt 20 ] && echo some)" some "the forecast names $keys keys"

run cw-warm --check --at "$at"
is "$status" 2 "nothing warm: CRITICAL, exit 2"
is "$(sed 's/ expected_reads=[0-9.]*$//' "$T/out")" \
	"CACHEWARM READY CRITICAL - 0.0% of the next 3600s's forecast reads are warm (L1 0.0%, L2 0.0%) | coverage=0.0%;95.0:;95.0:;0;100 l1=0.0%;;;0;100 l2=0.0%;;;0;100 keys=$keys" \
	"the status line and its perfdata"

# Warm the ten most likely keys: the share is theirs of the expected reads.
python3 -c 'import json,sys
for l in list(sys.stdin)[:10]: print(json.loads(l)["key"])' <"$T/forecast" |
	cw-warm - >/dev/null 2>&1
want=$(python3 -c 'import json,sys
e = [json.loads(l)["expected"] for l in sys.stdin]
print("%.3f %.4f" % (sum(e), sum(e[:10]) / sum(e)))' <"$T/forecast")
run cw-warm --check --at "$at" -o json
got=$(python3 -c 'import json,sys
r = json.load(sys.stdin)
print("%.3f %.4f %.4f %.4f %s %d" % (r["expected_reads"], r["warm"], r["l1"],
    r["l2"], r["status"], r["keys"]))' <"$T/out")
is "$(echo "$want $got" | awk '{ d = $1 - $3; e = $2 - $4;
	print (d < 0.02 && d > -0.02 && e < 0.001 && e > -0.001 && $4 == $5 &&
	$4 == $6) ? "same" : "differ: " $0 }')" same \
	"ten keys warmed: the share of expected reads that cw-predict gives them"
is "$(echo "$got" | cut -d' ' -f5-)" "CRITICAL $keys" "still CRITICAL, over all $keys keys"

# Without the L1 file, L2 still has them: warm, but not in L1.
share=$(echo "$want" | cut -d' ' -f2)
rm -f "$CW_L1_FILE"
run cw-warm --check --at "$at" -o json
is "$(python3 -c 'import json,sys
r = json.load(sys.stdin); print("%.4f %.4f" % (r["l1"], r["l2"]))' <"$T/out")" \
	"0.0000 $(echo "$got" | cut -d' ' -f4)" "L1 gone: 0 in L1, the same in L2"

# Thresholds: below the share is OK, a warning band above it WARNING.
low=$(echo "$share" | awk '{ printf "%.3f", $1 - 0.01 }')
high=$(echo "$share" | awk '{ printf "%.3f", $1 + 0.01 }')
run cw-warm --check --at "$at" --min-coverage "$low"
is "$status:$(cut -d' ' -f3 "$T/out")" 0:OK "at or above --min-coverage: OK, exit 0"
run cw-warm --check --at "$at" --min-coverage "$low" --warn-coverage "$high"
is "$status:$(cut -d' ' -f3 "$T/out")" 1:WARNING "in the warning band: WARNING, exit 1"
run cw-warm --check --min-coverage 0.9 --warn-coverage 0.5
is "$status:$(cat "$T/out")" "3:CACHEWARM READY UNKNOWN - --warn-coverage is below --min-coverage" \
	"--warn-coverage below --min-coverage: UNKNOWN (3), said on stdout"
run cw-warm --check some:key
is "$status" 3 "--check takes no keys: UNKNOWN"

# --wait: in vain until the deadline, then CRITICAL; and a wait that a
# warm-up meanwhile satisfies ends as soon as it looks again.
t0=$(date +%s)
run cw-warm --wait --at "$at" --interval 1 --deadline 2
is "$status:$(cut -d' ' -f3 "$T/out"):$(($(date +%s) - t0 < 5))" 2:CRITICAL:1 \
	"--wait below the coverage: CRITICAL at the deadline"
cw-warm --wait --at "$at" --interval 1 --deadline 60 --min-coverage 0.999 \
	>"$T/waited" 2>&1 &
waiter=$!
sleep 1
python3 -c 'import json,sys
for l in sys.stdin: print(json.loads(l)["key"])' <"$T/forecast" |
	cw-warm - >/dev/null 2>&1
t0=$(date +%s)
wait "$waiter"
is "$?:$(cut -d' ' -f3 "$T/waited")" 0:OK "--wait ends OK once every key is warmed"
is "$(($(date +%s) - t0 < 5))" 1 "within an interval of the warm-up"
is "$(sed 's/ keys=[0-9]* expected_reads=[0-9.]*$//' "$T/waited")" \
	"CACHEWARM READY OK - 100.0% of the next 3600s's forecast reads are warm (L1 100.0%, L2 100.0%) | coverage=100.0%;99.9:;99.9:;0;100 l1=100.0%;;;0;100 l2=100.0%;;;0;100" \
	"at 100%"
finish
