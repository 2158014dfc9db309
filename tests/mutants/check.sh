#!/bin/sh
# check.sh: every mutant of tests/mutants/list still applies, its
# original text found exactly once in its file (make lint). A change to
# lib/ that moves a mutant's line must move the mutant with it: a stale
# one stops make mutants halfway.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 2
tab=$(printf '\t')
bad=0
while IFS="$tab" read -r file orig repl what; do
	case $file in ''|'#'*) continue ;; esac
	case $what in equivalent:*) continue ;; esac
	: "$repl"
	n=$(ORIG=$orig perl -0ne 'my $n = () = /\Q$ENV{ORIG}\E/g; print $n' "$file")
	if [ "$n" != 1 ]; then
		echo "tests/mutants/list: $file: found $n times: $orig" >&2
		bad=1
	fi
done <"$here/list"
exit "$bad"
