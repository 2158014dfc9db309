#!/bin/sh
# cw-bench --live: lines from the shared counters while other processes
# read, the forms, the run in progress, misuse.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 11

run cw-bench --live --duration 1
is "$status" 74 "no L1 file yet: exit 74"
is "$(cat "$T/err")" "cw-bench: open $CW_L1_FILE: No such file or directory" "naming it"
cw-warm --session london --at 2024-01-03T07:45Z >"$T/warmed" 2>/dev/null
cut -f1 "$T/warmed" | head -n 10 >"$T/ten"

# Ten lookups while the view runs: the lines add up to ten.
cw-bench --live --interval 1 --duration 3 -o json >"$T/live" 2>"$T/live.err" &
view=$!
sleep 0.4
cw-get - <"$T/ten" >/dev/null
wait "$view"
is "$?:$(cat "$T/live.err")" "0:" "--live --duration 3: exit 0, nothing on stderr"
python3 - "$T/live" >"$T/sum" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print(len(lines), sum(l["lookups"] for l in lines),
      max(l["l1_hit_rate"] or 0 for l in lines), lines[-1]["l1_entries"])
PY
is "$(cat "$T/sum")" "3 10 1.0 16" \
	"three lines, ten lookups in all, every one an L1 hit, 16 entries"

run cw-bench --live --duration 1
is "$(head -n 1 "$T/out" | cut -f1-3)|$(wc -l <"$T/out" | tr -d ' ')" \
	"time	lookups_per_s	l1_hit_rate|2" "into a file: TSV, a header and a line"
run cw-bench live --duration 1 -o screen
is "$(head -c 6 "$T/out" | od -An -c | tr -s ' ')|$(grep -c 'cachewarm live' "$T/out")" \
	" 033 [ H 033 [ J|1" \
	"-o screen forces the terminal's screen, repainted from the top"

# A run in progress, from the journal: a source that takes its time.
# shellcheck disable=SC2016 # $1 is the script's own
printf '#!/bin/sh\nsleep 1\nprintf "value of %%s" "$1"\n' >"$T/slow"
chmod +x "$T/slow"
CW_SOURCE="exec:$T/slow" cw-warm -j 1 slow:A:B:2024-01-01 slow:A:B:2024-01-02 \
	slow:A:B:2024-01-03 >/dev/null 2>&1 &
warm=$!
sleep 0.5
run cw-bench --live --duration 1 -o json
kill "$warm" 2>/dev/null
wait "$warm" 2>/dev/null
is "$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["warming"]; print(w["tasks"], w["id"].endswith("-%s" % sys.argv[2]))' "$T/out" "$warm")" \
	"3 True" "the run in progress: its id and its 3 tasks"

run cw-bench --live generate
is "$status" 2 "--live takes no command"
run cw-bench --live --trace "$T/ten"
is "$status" 2 "nor replay's options"
run cw-bench --live -o table
is "$status:$(head -n 1 "$T/err")" \
	"2:cw-bench: --live: unknown output format 'table' (use screen, tsv or json)" \
	"an unknown form: exit 2, named"
run cw-bench replay --trace "$T/ten" --duration 5
is "$status" 2 "--duration goes with --live only"
finish
