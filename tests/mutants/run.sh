#!/bin/sh
# run.sh [PATTERN]: make mutants. Applies each mutant of tests/mutants/list
# (or those whose WHAT or FILE matches PATTERN) one at a time to a scratch
# copy of the tree, runs the suite (unit tests, then the CLI tests one
# at a time, the likeliest killers first, until one fails) and says
# which test killed it,
# or that it survived. Mutants marked "equivalent:" are listed, not run;
# one that does not compile is BROKEN (the list needs fixing).
# Ends with the kill rate over the mutants that are not equivalent; exit 1
# when any survived. Minutes: not part of make check.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pattern=${1:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/cw-mutants.XXXXXX")
# Tests run programs as another user (050: a group's shared L1 file),
# who must reach the copy's sample data as they reach the tree's.
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
mkdir "$work/main"
(cd "$repo" && git ls-files -z | xargs -0 tar cf - 2>/dev/null) |
	(cd "$work/main" && tar xf -)
# The tests that read ../shared find it beside the copy, as beside the repo.
ln -s "$(cd "$repo/.." && pwd)/shared" "$work/shared"
cd "$work/main" || exit 2
# What make check-cli builds besides the programs: the tests use them.
tools="build/gen-sample build/tests/sqlquote build/tests/l1torture
	build/tests/l2fence build/tests/l2oom build/bench/evict build/bench/evictgen"
# shellcheck disable=SC2086 # a list of words
make -s all build/unit-tests $tools >/dev/null 2>&1 ||
	{ echo "the tree does not build"; exit 2; }

# suite: the name of the first test that fails, or nothing.
suite() {
	# shellcheck disable=SC2086
	make -s all build/unit-tests $tools >/dev/null 2>&1 ||
		{ echo "BUILD"; return; }
	if ! timeout 300 build/unit-tests --jobs 2 >/dev/null 2>"$work/unit.log"; then
		echo "unit: $(sed -n 's/^\[FAIL\] \([^:]*\).*/\1/p' "$work/unit.log" | head -1)"
		return
	fi
	# Then the CLI tests, one at a time, until one fails: first the
	# one that killed the last mutant of the same file (a file's
	# mutants mostly fall to the same test), then those that kill
	# most, then the rest of make check-cli's. A mutant is killed or
	# not as under make check-cli; a killed one costs seconds where
	# the whole suite takes minutes.
	hint=$(cat "$work/killer.$(printf %s "$file" | tr / _)" 2>/dev/null) || :
	for t in $(cli_order "$hint"); do
		if ! CW_BIN="$work/main/build/bin" CW_BUILD="$work/main/build" \
			timeout 600 prove "tests/cli/$t" >"$work/cli.log" 2>&1; then
			echo "$t"
			return
		fi
	done
}

# cli_order HINT: make check-cli's test files, HINT and the most
# frequent killers first, each once.
cli_order() {
	{
		for t in "$1" 095-fill-rules.t 090-levels.t \
			040-cw-get-config.t 110-single-flight.t \
			190-l2-cluster.t 150-cw-warm.t; do
			[ -n "$t" ] && echo "$t"
		done
		(cd tests/cli && ls -- *.t)
	} | awk '!seen[$0]++'
}

total=0 killed=0 equivalent=0 survived=0 broken=0
tab=$(printf '\t')
while IFS="$tab" read -r file orig repl what; do
	case $file in ''|'#'*) continue ;; esac
	[ -n "$pattern" ] && ! printf '%s %s\n' "$file" "$what" | grep -q -- "$pattern" &&
		continue
	total=$((total + 1))
	case $what in
	equivalent:*)
		equivalent=$((equivalent + 1))
		echo "equivalent  $file: ${what#equivalent: }"
		continue ;;
	esac
	cp "$repo/$file" "$file"
	ORIG=$orig REPL=$repl perl -0pi -e \
		'my $n = s/\Q$ENV{ORIG}\E/$ENV{REPL}/g; die "matched $n times\n" if $n != 1' \
		"$file" || { echo "not applied $file: $what"; exit 2; }
	by=$(suite)
	cp "$repo/$file" "$file"
	if [ "$by" = BUILD ]; then
		# A mutant that does not compile proves nothing: the list
		# must be fixed, it is not counted as killed.
		broken=$((broken + 1))
		echo "BROKEN      $file: $what (does not build)"
	elif [ -n "$by" ]; then
		case $by in
		*.t) echo "$by" >"$work/killer.$(printf %s "$file" | tr / _)" ;;
		esac
		killed=$((killed + 1))
		echo "killed      $file: $what  [$by]"
	else
		survived=$((survived + 1))
		echo "SURVIVED    $file: $what"
	fi
done <"$here/list"
make -s all >/dev/null 2>&1
run=$((total - equivalent - broken))
echo "$total mutants: $killed killed, $survived survived, $equivalent equivalent, $broken broken;" \
	"kill rate $(awk -v k="$killed" -v r="$run" 'BEGIN { printf "%.1f%%", r ? 100 * k / r : 100 }')"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
