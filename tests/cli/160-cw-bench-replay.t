#!/bin/sh
# cw-bench replay: a trace through a real L1 file, a real Redis and a
# source, on a simulated calendar, one row per warming strategy.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 46

# Two days of a small desk: short enough for every strategy to run here.
cw-bench generate --weeks 1 --rate 12 --instruments EUR_USD,USD_JPY |
	awk -F, '$1 < 1709510400 + 2 * 86400' >"$T/trace"

# ---- the embedded default: no servers, the replay's own source ----
head -200 "$T/trace" >"$T/short"
run cw-bench replay --trace "$T/short" --strategy none,market_open
is "$status" 0 "on the embedded default: exit 0"
is "$(head -1 "$T/out" | awk '{ print $1, $2, $3, $4, $5 }')" \
	"strategy l1 l2 overall open5m" "a table with a header"
is "$(awk 'NR > 1 && NR <= 3 { print $1 }' "$T/out" | tr '\n' ' ')" \
	"none market_open " "a row per strategy asked for, in order"
is "$(grep '^L1 alone' "$T/out")" "L1 alone at 1000 entries, offline: LRU 44.00%, Belady 44.00%" \
	"L1 alone offline: LRU and Belady at the configured size"
# The targets, judged: in the table, in JSON, and in --report's file.
run cw-bench replay --trace "$T/short" --strategy none,market_open -o json --report "$T/report"
python3 - "$T/out" >"$T/targets" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["targets"]
judged = {k: v for k, v in t.items() if isinstance(v, dict)}
print(t["best_strategy"] in ("none", "market_open"), sorted(judged),
      sorted(k for k, v in t.items() if v is None),
      all(isinstance(v["met"], bool) and v["cmp"] in (">=", "<=", "<")
          for v in judged.values()),
      judged["overall_hit_rate"]["goal"], judged["p99_ms"]["goal"])
PY
is "$(cat "$T/targets")" \
	"True ['mean_ms', 'open_hit_rate', 'overall_hit_rate', 'p99_ms'] ['predictive_below_oracle_points', 'predictive_wasted'] True 0.99 1" \
	"JSON targets: goal, value, met; null where a strategy they need was not replayed"
is "$(grep -c '^targets (best real strategy: ' "$T/report"):$(grep -c 'NOT MET\|met$' "$T/report"):$(grep -c 'not judged' "$T/report")" \
	"1:4:2" "--report: the readable summary, each target met or not"
# --plot: the three charts, their data and the script that drew them.
run cw-bench replay --trace "$T/short" --strategy none,market_open --plot "$T/plots"
is "$status:$(for f in hit_rate l3_per_hour latency_cdf; do head -c 4 "$T/plots/$f.png" | od -An -c | tr -d ' '; done | tr '\n' ' ')" \
	"0:211PNG 211PNG 211PNG " "--plot: three PNG charts"
hours=$(awk -F, 'NR == 1 { a = $1 } { b = $1 } END { print int(b / 3600) - int(a / 3600) + 1 }' "$T/short")
is "$(sed -n 1p "$T/plots/hit_rate.dat")|$(($(wc -l <"$T/plots/hit_rate.dat") - 1))|$(grep -c 'index' "$T/plots/plots.gp")" \
	"# hour none market_open|$hours|1" \
	"their data: a column per strategy, a row per simulated hour"
run cw-bench generate --plot "$T/plots"
is "$status" 2 "--plot goes with replay only"

start_redis
printf '[l2]\nurl = %s\ntimeout = 2s\n[source]\nurl = synthetic:0\n' \
	"$REDIS_URL" >"$T/cw.conf"

# ---- every strategy, one JSON document ----
run cw-bench replay -c "$T/cw.conf" --trace "$T/trace" -o json \
	--keep "$T/keep" --backfill-days 5
is "$status" 0 "every strategy against Redis: exit 0"
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = ["none", "market_open", "predictive", "refresh_ahead", "oracle",
         "backfill", "combined", "combined_oracle"]
fields = {"lookups": int, "l1_hit_rate": float, "l2_hit_rate": float,
          "overall_hit_rate": float, "open_hit_rate": float,
          "open_lookups": int, "l3_queries": int, "warm_fetches": int,
          "warm_wasted": int, "peak_l1_bytes": int, "latency_ns": dict,
          "latency_spectrum": list, "hourly": list,
          "lookups_per_second": (int, float)}
bad = [n + "." + f for n in names for f, t in fields.items()
       if not isinstance(d[n][f], t)]
bad += [n + ".latency_ns." + q for n in names
        for q in ("mean", "p50", "p99", "p999", "max")
        if q not in d[n]["latency_ns"]]
print("schema", "ok" if not bad else bad)
print("lookups", len({d[n]["lookups"] for n in names}) == 1 and
      d["none"]["lookups"] == d["trace"]["lookups"])
print("sums", all(abs(d[n]["l1_hit_rate"] + d[n]["l2_hit_rate"] -
      d[n]["overall_hit_rate"]) < 1e-5 for n in names))
best = max(d[n]["overall_hit_rate"] for n in names[:4])
print("oracle", d["oracle"]["overall_hit_rate"] >= best,
      d["combined_oracle"]["overall_hit_rate"] >=
      d["combined"]["overall_hit_rate"])
print("none warms", d["none"]["warm_fetches"])
print("warmers warm", all(d[n]["warm_fetches"] > 0
      for n in ("market_open", "refresh_ahead", "oracle", "backfill",
                "combined", "combined_oracle")))
off = d["l1_offline"]
print("belady", off["belady_hit_rate"] >= off["lru_hit_rate"])
sp = d["none"]["latency_spectrum"]
print("spectrum", all(a[1] <= b[1] for a, b in zip(sp, sp[1:])) and
      sp[-1][0] == 1)
print("hourly", sum(h[0] for h in d["none"]["hourly"]) ==
      d["none"]["lookups"])
PY
is "$(sed -n 1p "$T/parsed")" "schema ok" "the JSON report's schema"
is "$(sed -n 2p "$T/parsed")" "lookups True" \
	"every strategy replays every access of the trace"
is "$(sed -n 3p "$T/parsed")" "sums True" "L1's and L2's shares add up"
is "$(sed -n 4p "$T/parsed")" "oracle True True" \
	"the oracles are never below a strategy of no more knowledge"
is "$(sed -n 5p "$T/parsed")" "none warms 0" "none warms nothing"
is "$(sed -n 6p "$T/parsed")" "warmers warm True" \
	"market_open, refresh_ahead, oracle, backfill and combined warm from the source"
is "$(sed -n 7p "$T/parsed")" "belady True" "Belady is never below LRU"
is "$(sed -n 8p "$T/parsed")" "spectrum True" \
	"the latency spectrum rises to the maximum"
is "$(sed -n 9p "$T/parsed")" "hourly True" "the hours hold every lookup"

# ---- the same L1 file, read by cw-stats ----
CW_L1_FILE="$T/keep/none.l1" cw-stats -o json >"$T/stats"
python3 - "$T/out" "$T/stats" >"$T/parsed" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["none"]
s = json.load(open(sys.argv[2]))
print(s["overall"]["lookups"] == r["lookups"],
      s["levels"]["l1"]["hits"] == round(r["l1_hit_rate"] * r["lookups"]),
      s["levels"]["l2"]["hits"] == round(r["l2_hit_rate"] * r["lookups"]),
      s["levels"]["l3"]["requests"] == r["l3_queries"])
PY
is "$(cat "$T/parsed")" "True True True True" \
	"lookups, L1 and L2 hits and L3 queries agree with cw-stats"
is "$(rcli --scan --pattern 'cw-bench:*' | head -1 | cut -c1-9)" \
	"cw-bench:" "--keep leaves the replay's Redis keys"

# The kept keys go first: some are remembered misses, which Redis
# expires by its own clock while the next replay runs, so a count of
# them would not hold still.
rcli --scan --pattern 'cw-bench:*' |
	xargs -r -d '\n' -n 500 redis-cli -p "$REDIS_PORT" del >/dev/null
run cw-bench replay -c "$T/cw.conf" --trace "$T/trace" --strategy oracle
is "$status:$(rcli --scan --pattern 'cw-bench:*' | wc -l | tr -d ' ')" "0:0" \
	"without --keep the replay removes its Redis keys"

# ---- predictive's floor: a higher one warms fewer keys ----
for f in 0.3 0.5; do
	cw-bench replay -c "$T/cw.conf" --trace "$T/trace" -o json \
		--strategy predictive --min-probability $f >"$T/floor$f"
done
python3 - "$T/floor0.3" "$T/floor0.5" >"$T/parsed" 2>&1 <<'PY'
import json, sys
lo, hi = (json.load(open(f))["predictive"] for f in sys.argv[1:])
print(0 < hi["warm_fetches"] < lo["warm_fetches"],
      hi["warm_wasted"] < lo["warm_wasted"])
PY
is "$(cat "$T/parsed")" "True True" \
	"--min-probability 0.5: predictive warms fewer keys than at 0.3, wastes fewer"
run cw-bench replay --trace "$T/trace" --min-probability 0
is "$status:$(head -1 "$T/err")" \
	"2:cw-bench: --min-probability '0': not a number in 0.001..1" \
	"a floor of 0: usage error"

# ---- simulated time does not leak into measured latency ----
# A source that sleeps 50 ms for real; two reads of one key a simulated
# hour apart, inside L1's lifetime: the first costs the sleep, the
# second an L1 hit, and the hour costs nothing.
cat >"$T/slow" <<'EOF2'
#!/bin/sh
sleep 0.05
printf 'value of %s' "$1"
EOF2
chmod +x "$T/slow"
printf '[l1]\nttl = 2h\n[source]\nurl = exec:%s\n' "$T/slow" >"$T/slow.conf"
printf '1709510400,ohlc:EUR_USD:H1:2024-03-01\n1709514000,ohlc:EUR_USD:H1:2024-03-01\n' \
	>"$T/two"
run cw-bench replay -c "$T/slow.conf" --trace "$T/two" --strategy none \
	-o json
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["none"]
sp = r["latency_spectrum"]
print(sp[0][1] < 5e6, r["latency_ns"]["max"] >= 50e6,
      r["replay_seconds"] < 5, r["l1_hit_rate"])
PY
is "$(cat "$T/parsed")" "True True True 0.5" \
	"a real sleep shows in the latency, a simulated hour does not"

# ---- L2 expires by the simulated calendar, not by Redis's clock ----
# L1 keeps 1 minute, L2 1 hour: a read 30 simulated minutes later comes
# from L2; 2 hours later, from the source again.
printf '[l1]\nttl = 1m\n[l2]\nurl = %s\nttl = 1h\n[source]\nurl = synthetic:0\n' \
	"$REDIS_URL" >"$T/l2.conf"
k=ohlc:EUR_USD:H1:2024-03-01
printf '1709510400,%s\n1709512200,%s\n1709519400,%s\n' "$k" "$k" "$k" \
	>"$T/three"
run cw-bench replay -c "$T/l2.conf" --trace "$T/three" --strategy none \
	-o json
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["none"]
print(round(r["l2_hit_rate"] * 3), r["l3_queries"])
PY
is "$status:$(cat "$T/parsed")" "0:1 2" \
	"30 simulated minutes: from L2; 2 simulated hours: L2 has expired"

# ---- backfill: the recent key space's closed days, in L2 ----
# The first day reads a key of today; two hours later, the same series
# on a day three trading days back, never read before: backfill has it
# in L2, and in L1's free space (its key space is the first day's
# TYPE:INSTRUMENT:GRANULARITY). Past L2's hour, but a closed day lives
# 30 days: none of the five fetches is wasted, read or not.
printf 'closed_day_types = ohlc\nclosed_day_ttl = 30d\n' >>"$T/l2.conf"
printf '1709546400,ohlc:EUR_USD:H1:2024-03-04\n1709553600,ohlc:EUR_USD:H1:2024-02-28\n' \
	>"$T/back"
run cw-bench replay -c "$T/l2.conf" --trace "$T/back" -o json \
	--strategy none,backfill --backfill-days 5
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(d["none"]["overall_hit_rate"], d["backfill"]["overall_hit_rate"],
      d["backfill"]["warm_fetches"], d["backfill"]["warm_wasted"])
PY
is "$status:$(cat "$T/parsed")" "0:0.0 0.5 5 0" \
	"backfill serves a never-read closed day without the source, at 5 fetches, none wasted"

# ---- --quick: a health check of the configured levels ----
run cw-bench --quick
is "$status:$(tail -1 "$T/out"):$(head -1 "$T/out" | cut -c1-8)" \
	"0:PASS:l1: set " "--quick on the embedded default: PASS, exit 0"
run cw-bench --quick -c "$T/cw.conf" --key ohlc:EUR_USD:H1:2024-03-01
is "$status:$(sed -n 2p "$T/out" | cut -c1-30):$(sed -n 3p "$T/out" | cut -d' ' -f1-3)" \
	"0:l2: a probe stored and read ba:l3: ohlc:EUR_USD:H1:2024-03-01 found" \
	"with Redis and a source: each level checked, PASS"
is "$(rcli --scan --pattern 'cw-bench:quick:*' | wc -l | tr -d ' ')" 0 \
	"--quick leaves no probe in Redis"
dead=$(free_port)
printf '[l2]\nurl = redis://127.0.0.1:%s\n' "$dead" >"$T/dead.conf"
run cw-bench --quick -c "$T/dead.conf"
is "$status:$(tail -1 "$T/out")" \
	"1:FAIL: l2 redis://127.0.0.1:$dead: Connection refused" \
	"Redis down: FAIL naming it, exit 1"
run cw-bench --quick generate
is "$status" 2 "--quick with a command: exit 2"
# The alerts, on the host's L1 file: four first reads, all misses, are
# a CRITICAL hit rate; a hundred reads more of one key bring it over
# 95%, which is OK.
export CW_L1_FILE="$T/quick.l1"
for d in 02 03 04 05; do cw-get "labels:EUR_USD:H4:2024-01-$d" >/dev/null 2>&1; done
run cw-bench --quick
is "$status:$(sed -n 4p "$T/out" | cut -d'|' -f1):$(tail -1 "$T/out")" \
	"1:alerts: CACHEWARM CRITICAL - hit rate 0.0% < 90.0% in the last 5m :FAIL: an alert is CRITICAL" \
	"--quick: a CRITICAL alert on the host's file fails it, exit 1"
i=0
while [ $i -lt 100 ]; do echo labels:EUR_USD:H4:2024-01-02; i=$((i + 1)); done |
	cw-get - >/dev/null
run cw-bench --quick
is "$status:$(sed -n 4p "$T/out" | cut -d" " -f1-4):$(tail -1 "$T/out")" \
	"0:alerts: CACHEWARM OK -:PASS" "the same file at 96% hits: OK, PASS"
printf '[source]\nurl = exec:/nonexistent/prog\n' >"$T/nosrc.conf"
run cw-bench --quick -c "$T/nosrc.conf"
is "$status:$(sed -n 3p "$T/out"):$(tail -1 "$T/out")" \
	"1:l3: source 'exec:/nonexistent/prog': No such file or directory:FAIL: source 'exec:/nonexistent/prog': No such file or directory" \
	"a source that cannot run: its line and the verdict, exit 1"
export CW_L1_FILE="$T/l1"

# ---- misuse and bad input ----
run cw-bench replay
is "$status" 2 "replay without --trace: exit 2"
run cw-bench replay --trace "$T/trace" --strategy none,psychic
is "$status:$(head -1 "$T/err")" \
	"2:cw-bench: --strategy: unknown strategy 'psychic'" \
	"an unknown strategy: exit 2, named"
run cw-bench generate --trace "$T/trace"
is "$status" 2 "generate with replay's options: exit 2"
run cw-bench replay --trace "$T/missing"
is "$status" 74 "a trace that cannot be read: exit 74"

# ---- the benchmark: a workload made, replayed for a while ----
# A week of two pairs is some 100,000 reads: more than 3 s can replay
# (the first strategy gets 1.1 s of them), so the trace is cut; and the
# backfill's start (thousands of keys at 2 ms) cannot end in the rest:
# its warm run is cut by the same time, and its row says so.
t0=$(date +%s)
run cw-bench --instruments EUR_USD,USD_JPY --weeks 1 --duration 3s \
	--strategy none,backfill --keep "$T/bench" -o "$T/bench.json" \
	--report "$T/bench.txt"
took=$(($(date +%s) - t0))
is "$status:$(awk 'NR > 1 && NR <= 3 { print $1 }' "$T/out" | tr '\n' ' '):$(grep -c '^backfill: out of time after [0-9]* of the [0-9]* lookups$' "$T/out")" \
	"0:none backfill :1" "the benchmark: exit 0, the table on stdout, a strategy out of time named"
is "$([ "$took" -le 15 ] && echo in time || echo "$took s")" "in time" \
	"within its 3 s, with the start and the end (a whole replay takes minutes)"
python3 - "$T/bench.json" "$(cw-bench generate --instruments EUR_USD,USD_JPY --weeks 1 | wc -l)" \
	>"$T/parsed" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = d["trace"]["lookups"]
print(0 < n < int(sys.argv[2]), d["none"]["lookups"] == n,
      d["none"]["whole_trace"],
      d["backfill"]["whole_trace"] is False,
      d["backfill"]["lookups"] < n,
      all(isinstance(v["met"], bool) for v in d["targets"].values()
          if isinstance(v, dict)))
PY
is "$(cat "$T/parsed")" "True True True True True True" \
	"its JSON: the first strategy's reads are the trace, cut short; targets judged"
is "$(head -c 100000 "$T/bench/workload.csv" | cmp - "$(cw-bench generate --instruments EUR_USD,USD_JPY --weeks 1 | head -c 100000 >"$T/gen"; echo "$T/gen")" && echo same)" \
	same "the workload is generate's, kept with --keep"
is "$(grep -c '^targets (best real strategy: ' "$T/bench.txt")" 1 \
	"--report: the readable summary"
run cw-bench --duration 3s --trace "$T/trace"
is "$status:$(head -1 "$T/err")" \
	"2:cw-bench: --trace: the benchmark makes its own workload" \
	"the benchmark takes no trace: exit 2"
run cw-bench --instruments EUR_USD
is "$status" 2 "no command and no --duration: exit 2"
