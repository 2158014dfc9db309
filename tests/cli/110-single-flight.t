#!/bin/sh
# Single flight: 50 processes missing one cold key at once cause one
# query of the source, whether they share an L1 file (one host) or not
# (many hosts); a key found nowhere likewise. Without Redis, each asks.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 8

start_redis
# A counting source: one line per call, slow enough for every process
# to miss while the first is still fetching.
cat >"$T/source" <<EOF2
#!/bin/sh
echo "\$1" >>"$T/calls"
sleep 0.5
case \$1 in
missing:*) exit 1 ;;
esac
printf 'value of %s' "\$1"
EOF2
chmod +x "$T/source"
# Redis's timeout is generous here: 50 processes on a loaded machine
# (or under ASan) must not time out, or they would each ask the source.
printf '[l2]\nurl = %s\ntimeout = 2s\n[source]\nurl = exec:%s\n' \
	"$REDIS_URL" "$T/source" >"$T/cw.conf"
export CW_CONFIG="$T/cw.conf"

# stampede KEY N: N concurrent cw-get of KEY, half of them on an L1 file
# of their own as if on another host; statuses into $T/status.
stampede() {
	: >"$T/calls"
	: >"$T/status"
	rm -f "$T"/out.* "$T"/err.*
	pids=""
	i=0
	while [ "$i" -lt "$2" ]; do
		if [ $((i % 2)) -eq 0 ]; then l1=$T/l1; else l1=$T/host$i.l1; fi
		(
			CW_L1_FILE=$l1 cw-get "$1" >"$T/out.$i" 2>"$T/err.$i"
			echo $? >>"$T/status"
		) &
		pids="$pids $!"
		i=$((i + 1))
	done
	# Not a bare wait: the servers are children of this shell too.
	for pid in $pids; do wait "$pid"; done
}

stampede one:A:B:2024-01-02 50
is "$(wc -l <"$T/calls" | tr -d ' ')" 1 "50 processes, one query of the source"
is "$(sort -u "$T/status" | tr '\n' ' ')" "0 " "every one of them exit 0"
is "$(for f in "$T"/out.*; do cat "$f"; echo; done | sort -u)" \
	"value of one:A:B:2024-01-02" \
	"with the value"

stampede missing:A:B:2024-01-02 50
is "$(wc -l <"$T/calls" | tr -d ' ')" 1 "a key found nowhere: one query too"
is "$(sort -u "$T/status" | tr '\n' ' ')" "1 " "every one of them exit 1"

# Redis down: no lock to share, each process asks the source itself.
kill "$REDIS_PID"
while kill -0 "$REDIS_PID" 2>/dev/null; do sleep 0.05; done
stampede two:A:B:2024-01-02 4
is "$(sort -u "$T/status" | tr '\n' ' ')" "0 " "Redis down: still answered, exit 0"
is "$(wc -l <"$T/calls" | tr -d ' ')" 4 "each asked the source (no stampede control without Redis)"
is "$(cat "$T"/err.* | grep -c 'going on without it')" 4 "each said once that L2 is gone"
finish
