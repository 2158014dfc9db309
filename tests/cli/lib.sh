# lib.sh: a tiny TAP harness for the CLI tests, sourced by each .t file.
#
# Every test gets a private directory (removed on exit, also on failure)
# with its own L1 file, cache and config directories, so no test sees the
# user's files or another test's. The built programs come first on PATH.

# ROOT and status are set here for the .t files that source this.
# shellcheck disable=SC2034
set -u
: "${CW_BIN:?run through make check}"
PATH=$CW_BIN:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/cwcli.XXXXXX")
# Servers a test starts (servers.sh) are stopped here, even when the test
# fails or is interrupted.
cleanup() {
	if command -v stop_servers >/dev/null; then stop_servers; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export HOME="$T/home" XDG_CACHE_HOME="$T/cache" XDG_CONFIG_HOME="$T/config"
export CW_L1_FILE="$T/l1"
unset CW_CONFIG CW_SOURCE
mkdir -p "$HOME"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
n=0
failed=0

plan() { echo "1..$1"; }
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# run CMD...: run it, keeping stdout, stderr and the exit status apart.
run() {
	"$@" >"$T/out" 2>"$T/err"
	status=$?
}

# is WHAT GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
		sed 's/^/#   stderr: /' "$T/err" 2>/dev/null
	fi
}

# There is no substring check: a check compares a whole output (or a
# whole line of it), with what varies from run to run (timings, ports,
# run ids) replaced first, as untimed and summary do.
# A -v trace with its timings replaced by T, so that it can be compared
# whole: "KEY: l1 hit in 110.1 us" reads "KEY: l1 hit in T us".
untimed() { sed 's/ in [0-9.]* us$/ in T us/' "$@"; }
# cw-warm's summary line with its time, rate and run id replaced by T.
summary() { sed 's/ in [0-9.]* s ([0-9]* keys\/s), run [0-9TZ-]*$/ in T/' "$1"; }
finish() { [ "$failed" -eq 0 ]; }

# counting_source PATH [SECONDS]: an exec: source at PATH that appends
# each key it is asked for to $T/calls, takes SECONDS (default none),
# answers "value of KEY", and has no key that starts with "missing:".
counting_source() {
	cat >"$1" <<EOF
#!/bin/sh
echo "\$1" >>"$T/calls"
sleep ${2:-0}
case \$1 in
missing:*) exit 1 ;;
esac
printf 'value of %s' "\$1"
EOF
	chmod +x "$1"
	: >>"$T/calls"
}
