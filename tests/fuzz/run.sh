#!/bin/sh
# run.sh DIR SECONDS: run every libFuzzer harness built in DIR for SECONDS
# each, from a copy of its seed corpus (tests/fuzz/corpus/NAME/), so the
# repository's corpus only changes by hand. Prints a line per harness:
# executions reached, and that nothing was found; exit 1 when a harness
# found something (its input is kept in the work directory printed).
set -u
bin=$(cd "${1:?usage: run.sh DIR SECONDS}" && pwd) || exit 2
secs=${2:?usage: run.sh DIR SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cw-fuzz-run.XXXXXX")
failed=0
for f in "$bin"/*; do
	case $f in *.d) continue ;; esac
	[ -x "$f" ] || continue
	name=$(basename "$f")
	mkdir -p "$work/$name/corpus" "$work/$name/tmp"
	cp "$here/corpus/$name"/* "$work/$name/corpus/" 2>/dev/null
	(cd "$work/$name" && TMPDIR="$work/$name/tmp" "$f" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 corpus >log 2>&1)
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name/log")
	if [ "$rc" -eq 0 ]; then
		echo "$name: ${execs:-0} executions in ${secs} s, nothing found"
		rm -rf "${work:?}/$name"
	else
		echo "$name: FOUND something (exit $rc): $work/$name/log"
		tail -30 "$work/$name/log"
		failed=1
	fi
done
[ "$failed" -eq 0 ] && rm -rf "$work"
exit "$failed"
