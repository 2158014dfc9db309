#!/bin/sh
# bench/predict-truth.sh: the predictor against the best possible (issue
# 18). Generated wide-desk workloads (dates in calendar days, Monday's
# review, pairs busier while both sessions are open): three seeds, a
# spring and an autumn month (each across its clock changes), two
# instrument sets, the default volume and a low one. For each, the
# backtest's model, baselines and truth row; the targets: coverage within
# 0.01 of the truth, Brier at least 20% below the better baseline, and a
# backtest of the month (about 1M reads at the default volume) in under
# 10 s. Two cases run at a time.
set -eu

one() {	# seed start set rate, in the calling run's scratch directory $B
	case $3 in
	A) inst=EUR_USD,GBP_USD,USD_JPY,AUD_USD,USD_CAD ;;
	*) inst=EUR_USD,USD_JPY,AUD_NZD,GBP_CHF,USD_CAD,EUR_JPY ;;
	esac
	f="$B/case-$1-$2-$3-$4"
	"$CW_BIN/cw-bench" generate --wide --seed "$1" --start "$2" \
		--instruments "$inst" --rate "$4" --truth "$f.truth" >"$f.trace"
	t0=$(date +%s.%N)
	"$CW_BIN/cw-predict" --state "$f.state" backtest "$f.trace" \
		--truth "$f.truth" >"$f.out"
	t1=$(date +%s.%N)
	awk -F '\t' -v name="seed $1 $2 set $3 rate $4" -v t0="$t0" -v t1="$t1" '
		/^# [0-9]+ hours/ { reads = $0; sub(/ reads.*/, "", reads)
			sub(/.*hours, /, "", reads) }
		$1 == "model" { c = $2; b = $3 }
		$1 == "truth" { tc = $2 }
		$1 == "last_hour" || $1 == "week_ago" { if (bb == 0 || $3 < bb) bb = $3 }
		END { gap = tc - c; below = 1 - b / bb
		printf "%-40s reads %7d  model %.4f truth %.4f gap %.4f %s  Brier %.5f vs %.5f: %2.0f%% below %s  %.1f s\n",
		    name, reads, c, tc, gap, (gap <= 0.01 ? "met" : "NOT met"),
		    b, bb, below * 100, (below >= 0.2 ? "met" : "NOT met"),
		    t1 - t0 }' "$f.out"
	rm -f "$f.trace" "$f.truth"
}

# A case, run by the loop below through xargs.
if [ "${1:-}" = --one ]; then
	shift
	one "$@"
	exit
fi
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

for seed in 1 2 3; do
	for start in 2024-03-04 2024-10-14; do
		for set in A B; do
			for rate in 400 60; do
				echo "$seed $start $set $rate"
			done
		done
	done
done >"$B/cases"
export B
# Two cases at a time: the machine has two cores.
xargs -P 2 -L 1 "$0" --one <"$B/cases" |
	sort -k2,2n -k3,3 -k5,5 -k7,7rn >"$B/table"
cat "$B/table"
awk '{ n++; if ($0 ~ /gap [0-9.]+ met/) g++; if ($0 ~ /below met/) b++ }
	END { printf "coverage within 0.01 of the truth: %d of %d; Brier >= 20%% below the better baseline: %d of %d\n", g, n, b, n }' \
	"$B/table"
