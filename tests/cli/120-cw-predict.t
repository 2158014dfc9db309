#!/bin/sh
# cw-predict: learning from the log incrementally, forecasts, patterns,
# export/import, backtest, bad input and a damaged state file.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 43

cw-bench generate --seed 5 --weeks 2 --rate 60 \
	--instruments EUR_USD,AUD_JPY >"$T/trace"
lines=$(wc -l <"$T/trace" | tr -d ' ')
log="$T/access.log"
state="$XDG_CACHE_HOME/cw/predict.state"
end=2024-03-18T00:00Z

# Learn the first half when it was written, then the rest after a
# rotation: each line once.
half=$((lines / 2))
head -n "$half" "$T/trace" >"$log"
mid=$(sed -n "${half}p" "$T/trace" | cut -d. -f1)
run cw-predict --learn --log "$log" --at "$mid"
is "$status" 0 "--learn: exit 0"
is "$(cat "$T/out")" "" "--learn prints nothing"
mv "$log" "$log.1"
tail -n +"$((half + 1))" "$T/trace" >"$log"
run cw-predict --learn --log "$log" --at $end
is "$status" 0 "--learn after a rotation"
run cw-predict stats --at $end
is "$(awk '$1 == "lines" {print $2}' "$T/out")" "$lines" \
	"every line learned once across the rotation"
is "$(awk '$1 == "malformed" {print $2}' "$T/out")" 0 "none malformed"
run cw-predict --learn --log "$log" --at $end
run cw-predict stats
is "$(awk '$1 == "lines" {print $2}' "$T/out")" "$lines" \
	"a run with nothing new reads nothing"
# A trace of 2024 learned as of today: every line older than the week
# of history. Said, and exit 1, not a silent success.
run cw-predict --learn --rebuild --log "$T/trace" --state "$T/today.state"
is "$status" 1 "--learn that learns nothing of an old trace: exit 1"
is "$(cat "$T/err")" "cw-predict: learned nothing: all $lines lines are older than the history (168 h); --at TIME learns as of TIME" \
	"saying why and what to do"

# Forecasts: key, expected, probability, priority, reason.
run cw-predict --log "$log" --at 2024-03-18T08:00Z --top 5
is "$status" 0 "forecast: exit 0"
is "$(awk -F '\t' 'NF == 5' "$T/out" | wc -l | tr -d ' ')" 5 \
	"--top 5: five lines of five fields"
is "$(awk -F '\t' '$2 + 0 > 0 && $3 > 0 && $3 <= 1 &&
	$4 ~ /^(critical|high|medium|low)$/ &&
	$5 ~ /^(session:[a-z_]+|pattern|trend)$/' "$T/out" | wc -l | tr -d ' ')" \
	5 "expected reads, probability, priority and reason"
is "$(cut -f3 "$T/out" | sort -rn | tr '\n' ' ')" \
	"$(cut -f3 "$T/out" | tr '\n' ' ')" "most likely first"
# At the London open the desk reviews the previous trading day: the top
# five are Monday's keys, which it has never seen, and Friday's.
is "$(cut -f1 "$T/out" | sed 's/.*://' | sort | uniq -c |
	awk '{ printf "%s ", $2 }')" "2024-03-15 2024-03-18 " \
	"names Monday's keys, which it has never seen, and Friday's"
run cw-predict --at 2024-03-18T08:00Z -o json --min-probability 0.5
is "$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(all(r["probability"] >= 0.5 and r["key"] for r in rows) and len(rows) > 0)
' "$T/out")" True "-o json: JSON Lines above --min-probability"
is "$(head -n 1 "$T/out" | python3 -c '
import json, sys; print(sorted(json.load(sys.stdin)))')" \
	"['confidence', 'expected', 'key', 'priority', 'probability', 'reason']" \
	"each line has exactly the documented fields"
run cw-predict --at 2024-03-16T12:00Z
sat=$(wc -l <"$T/out")
run cw-predict --at 2024-03-18T12:00Z
is "$((sat * 10 < $(wc -l <"$T/out")))" 1 \
	"Saturday noon, FX shut: a tenth of Monday's keys or fewer"

# Patterns.
run cw-predict pattern labels:EUR_USD:M15:2024-03-15 --at 2024-03-15T12:00Z
is "$status" 0 "pattern of a key"
is "$(head -n 2 "$T/out")" "pattern	labels:EUR_USD:M15:T
frame	london+new_york" \
	"named by its trading-day offset, with the clock it follows"
is "$(grep -c '^hour_' "$T/out")" 24 "frequency for every hour"
run cw-predict pattern labels:EUR_USD:M15:2024-03-15 --at 2024-03-15T12:00Z -o json
python3 - "$T/out" >"$T/parsed" 2>&1 <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
d = json.loads(lines[0])
print(len(lines), d["pattern"], d["frame"], len(d["per_hour"]),
      sorted(d["sessions"]) if "sessions" in d else sorted(d),
      0 <= d["confidence"] <= 1)
PY
is "$(cat "$T/parsed")" \
	"1 labels:EUR_USD:M15:T london+new_york 24 ['london', 'new_york', 'sydney', 'tokyo'] True" \
	"the pattern as one JSON line: name, clock, share by session, 24 hours"
run cw-predict pattern nosuch:EUR_USD:M15:T
is "$status" 1 "an unknown pattern: exit 1"

# Export, import elsewhere: the same forecasts.
cw-predict export >"$T/model.csv"
cw-predict --no-learn --at 2024-03-18T13:00Z >"$T/before"
run cw-predict import "$T/model.csv" --state "$T/other"
is "$status" 0 "import: exit 0"
cw-predict --no-learn --state "$T/other" --at 2024-03-18T13:00Z >"$T/after"
is "$([ -s "$T/before" ] && cmp "$T/before" "$T/after" && echo same)" same \
	"the same forecasts (and there are some: $(wc -l <"$T/before" | tr -d ' ') lines)"

# Bad input: counted, one warning, never fatal; the future is ignored.
{ cat "$log"; echo "not a line"; echo "1709510400,bad key"
	echo "9999999999,labels:EUR_USD:H1:2024-03-01"; } >"$T/bad.log"
sed -i 's/^1709510400,bad key/1710500000,bad key/' "$T/bad.log"
run cw-predict --learn --rebuild --log "$T/bad.log" --at $end
is "$status" 0 "malformed lines are not fatal"
is "$(grep -c 'skipped 2 malformed lines' "$T/err")" 1 "one summary warning"
is "$(sed -n 2p "$T/err")" "cw-predict: ignored 1 line from the future" \
	"future lines are ignored"
run cw-predict import "$T/bad.log" --state "$T/x"
is "$status" 65 "importing what is no export: exit 65"

# A damaged state file: a clear error, and the way out.
printf 'garbage' | dd of="$state" bs=1 seek=300 conv=notrunc 2>/dev/null
run cw-predict stats
is "$status" 65 "damaged state: exit 65"
is "$(cat "$T/err")" \
	"cw-predict: state file $XDG_CACHE_HOME/cw/predict.state is damaged (checksum mismatch); rebuild it from the log with: cw-predict --learn --rebuild" \
	"says how to rebuild it"
run cw-predict --learn --rebuild --log "$log" --at $end
is "$status" 0 "--rebuild starts over from the log"
# A state file of an older version (an upgrade): cron's learner makes it
# again from the log, says so once, and goes on.
printf '\001\000\000\000' | dd of="$state" bs=1 seek=8 conv=notrunc 2>/dev/null
run cw-predict --learn --log "$log" --at $end
is "$status:$(cat "$T/err")" \
	"0:cw-predict: $state: a state file of another version: made again from the log" \
	"another version: made again from the log, said once"
is "$(cw-predict stats | grep -c '^patterns')" 1 "and the model is there"


# Backtest: the model and both baselines, kept for stats.
run cw-predict backtest "$T/trace"
is "$status" 0 "backtest: exit 0"
is "$(grep -cE '^(model|last_hour|week_ago)	' "$T/out")" 3 \
	"scores for the model and both baselines"
run cw-predict backtest "$T/trace" -o json --window 2h
is "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sorted(k for k in d if isinstance(d[k], dict)), d["window_s"])
' "$T/out")" "['last_hour', 'model', 'week_ago'] 7200" "-o json: one document"
run cw-predict stats -o json
is "$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["backtest"]["window_s"])' "$T/out")" 7200 \
	"stats shows the last backtest"

# Against the truth: the generator's expected reads rank the keys, a
# fourth row, and the model's gap to it.
cw-bench generate --seed 5 --weeks 2 --rate 60 --wide \
	--instruments EUR_USD,AUD_JPY --truth "$T/truth" >"$T/wide"
run cw-predict backtest "$T/wide" --truth "$T/truth"
is "$(cut -f1 "$T/out" | grep -v '^#' | tr '\n' ' ')" \
	"forecaster model last_hour week_ago truth " "a truth row after the three"
is "$(awk -F '\t' '$1 == "model" { m = $2 } $1 == "truth" { t = $2 }
	/^# the model.s gap/ { g = $0 }
	END { sub(/,.*/, "", g); sub(/.* /, "", g)
	d = g - (t - m)
	printf "%s %s\n", (t >= m) ? "truth>=model" : "truth<model",
	    (d < 0.00015 && d > -0.00015) ? "gap=difference" : g }' "$T/out")" \
	"truth>=model gap=difference" "the truth ranks best; the gap is the difference"
run cw-predict backtest "$T/wide" --truth "$T/truth" -o json
is "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sorted(k for k in d if isinstance(d[k], dict)),
      abs(d["truth"]["coverage"] - d["model"]["coverage"] -
          d["gap_to_truth"]["coverage"]) < 0.00015)
' "$T/out")" "['gap_to_truth', 'last_hour', 'model', 'truth', 'week_ago'] True" \
	"-o json: the truth and the gap"
printf 'not,a truth line\n' >>"$T/truth"
run cw-predict backtest "$T/wide" --truth "$T/truth"
is "$status:$(cat "$T/err")" \
	"0:cw-predict: $T/truth: skipped 1 line not hour_s,key,expected" \
	"a malformed truth line: skipped, said once"
run cw-predict backtest "$T/wide" --truth "$T/none"
is "$status:$(cat "$T/err")" \
	"66:cw-predict: $T/none: No such file or directory" \
	"a missing truth file: exit 66"
run cw-predict stats --truth "$T/truth"
is "$status" 2 "--truth outside backtest: exit 2"

run cw-predict frobnicate
is "$status" 2 "unknown command: exit 2"
finish
