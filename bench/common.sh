# bench/common.sh: how every benchmark script starts, sourced after
# `set -eu`: CW_BIN and CW_BUILD required, ROOT the tree, B a scratch
# directory (removed at the end, with the servers stopped, also on INT or
# TERM), T the servers' directory for tests/cli/servers.sh, and the
# user's configuration, cache and L1 file out of the way.
: "${CW_BIN:?run through make bench}" "${CW_BUILD:?}"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(mktemp -d "${TMPDIR:-/tmp}/cwbench.XXXXXX")
T=$B/servers
mkdir -p "$T"
# shellcheck source=tests/cli/servers.sh
. "$ROOT/tests/cli/servers.sh"
trap 'stop_servers; rm -rf "$B" || :' EXIT
trap 'exit 1' INT TERM
export HOME="$B" XDG_CACHE_HOME="$B/cache" XDG_CONFIG_HOME="$B/config"
export CW_L1_FILE="$B/l1"
unset CW_CONFIG CW_SOURCE
