#!/bin/sh
# cw-get: -h, --version, misuse, and every option documented everywhere.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 19

run cw-get -h
is "$status" 0 "-h exits 0"
is "$(head -n 1 "$T/out")" \
	"usage: cw-get [-hqv] [-c file] [-f l1file] [-o format] [--no-fill] [--ttl duration] key ... | -" \
	"-h prints usage on stdout"

run cw-get --version
is "$(cat "$T/out")" "cw-get (cachewarm) 0.1.0" "--version"

run cw-get
is "$status" 2 "no key: exit 2"
is "$(sed 2d "$T/err")" "cw-get: no key given
Try 'cw-get --help'." \
	"misuse says what is wrong, the usage, and points at --help"

run cw-get --bogus x
is "$status" 2 "unknown option: exit 2"

run cw-get -o xml k
is "$status" 2 "unknown format: exit 2"

run cw-get --ttl 5x k
is "$status" 2 "bad --ttl: exit 2"
is "$(head -n 1 "$T/err")" "cw-get: --ttl '5x': unknown unit (use ms, s, m, h or d)" \
	"the bad value is named"

# Every long option in each program's --help is in its rendered man page
# (mdoc writes "--config" as "Fl Fl config") and both completions.
missing=""
for prog in cw-get cw-warm cw-stats cw-predict cw-bench; do
	groff -mandoc -Tascii -P-c -P-b -P-u "$ROOT/share/man/$prog.1" \
		>"$T/man.txt" 2>/dev/null
	for opt in $($prog -h | grep -o -- '--[a-z0-9-]*' | sort -u); do
		grep -q -- "$opt" "$T/man.txt" || missing="$missing $prog:man:$opt"
		grep -q -- "$opt" "$ROOT/completions/$prog.bash" ||
			missing="$missing $prog:bash:$opt"
		grep -q -- "$opt" "$ROOT/completions/_$prog" ||
			missing="$missing $prog:zsh:$opt"
	done
done
is "$missing" "" "every long option of every program is in its man page and completions"

# bash completion offers what the mode already chosen accepts.
complete_words() {
	bash -c '. "$1"; f=$2; shift 2; COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1)); $f; echo "${COMPREPLY[*]}"' sh "$@"
}
is "$(complete_words "$ROOT/completions/cw-stats.bash" _cw_stats cw-stats keys --)" \
	"--config --l1-file --help --output --hot" "cw-stats keys: its options only"
is "$(complete_words "$ROOT/completions/cw-stats.bash" _cw_stats cw-stats --check --)" \
	"--config --l1-file --help --hit-rate-critical --hit-rate-warning --memory-warning --p99-critical --p99-warning --warm-failure-warning --window" \
	"cw-stats --check: its thresholds"
is "$(complete_words "$ROOT/completions/cw-predict.bash" _cw_predict cw-predict backtest t.csv --)" \
	"--config --help --state --output --truth --window" "cw-predict backtest: its options only"
is "$(complete_words "$ROOT/completions/cw-bench.bash" _cw_bench cw-bench --live --)" \
	"--config --help --output --duration --interval" "cw-bench --live: its options only"
mkdir "$T/cmpl" && : >"$T/cmpl/results.json"
is "$(cd "$T/cmpl" && complete_words "$ROOT/completions/cw-bench.bash" _cw_bench cw-bench --duration 5m -o res):$(complete_words "$ROOT/completions/cw-bench.bash" _cw_bench cw-bench replay -o j)" \
	"results.json:json" "cw-bench's -o: the benchmark's file, replay's format"
is "$(complete_words "$ROOT/completions/cw-warm.bash" _cw_warm cw-warm --refresh-ahead --)" \
	"--config --l1-file --help --below --max-rate" "cw-warm --refresh-ahead: its options only"

printf '[l1]\nmax_entries = lots\n' >"$T/bad.conf"
run cw-get -c "$T/bad.conf" labels:EUR_USD:H4:2024-01-02
is "$status" 78 "a broken config: exit 78"
is "$(cat "$T/err")" "cw-get: $T/bad.conf:2: l1.max_entries 'lots': not a number" \
	"the config error names file, line and key"
printf '[l1]\nttl = 60\n\n[l1]\nmax_entires = 10\n' >"$T/typo.conf"
run cw-get -c "$T/typo.conf" labels:EUR_USD:H4:2024-01-02
is "$status:$(cat "$T/err")" "78:cw-get: $T/typo.conf:5: unknown setting [l1] max_entires" \
	"a misspelt setting: its line"
finish
