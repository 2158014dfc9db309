#!/bin/sh
# Configuration: file, environment, precedence, the access log.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 38

k=labels:EUR_USD:H4:2024-01-02
mkdir -p "$T/src/labels/EUR_USD"
printf 'ts,v\n2024-01-02T00:00:00Z,from-config-source\n' \
	>"$T/src/labels/EUR_USD/H4.csv"
mkdir -p "$XDG_CONFIG_HOME/cw"
printf '[source]\nurl = csv:%s\n[l1]\nfile = %s\n' "$T/src" "$T/l1-conf" \
	>"$XDG_CONFIG_HOME/cw/cw.conf"
unset CW_L1_FILE

run cw-get "$k"
is "$(cat "$T/out")" "ts,v
2024-01-02T00:00:00Z,from-config-source" \
	"the XDG config file is read"
is "$(test -f "$T/l1-conf" && echo yes)" yes "l1.file from the config is used"

run env CW_SOURCE="csv:$ROOT/share/data" cw-get -f "$T/l1-other" "$k"
is "$(sed -n 2p "$T/out")" \
	"2024-01-02T00:00:00Z,EUR_USD,H4,1.10561,1.10721,1.10561,1.10631,3738,0.000419,0" \
	"CW_SOURCE overrides the config file"
is "$(test -f "$T/l1-other" && echo yes)" yes "-f overrides the config file"

printf '[source]\nurl = csv:/nonexistent\n' >"$T/explicit.conf"
run env CW_CONFIG="$T/explicit.conf" cw-get -f "$T/l1-3" "$k"
is "$status:$(cat "$T/err")" "78:cw-get: source 'csv:/nonexistent': no such directory" \
	"CW_CONFIG wins over the XDG file (its source is the one used)"

run cw-get -c "$T/missing.conf" "$k"
is "$status" 78 "an explicit config that is missing: exit 78"

run env CW_SOURCE=ftp://x cw-get -f "$T/l1-4" "$k"
is "$status" 78 "an unknown source kind: exit 78"
is "$(cat "$T/err")" \
	"cw-get: source 'ftp://x': unknown kind (expected csv:DIR, clickhouse://HOST:PORT/DB, exec:/PATH or synthetic:LATENCY)" \
	"the source error says why"

# L1 answers without touching the source: a broken source URL only
# matters once a lookup has to go below L1.
cw-get -f "$T/l1-lazy" "$k" >/dev/null
run env CW_SOURCE=nosuch:scheme cw-get -f "$T/l1-lazy" "$k"
is "$status" 0 "an L1 hit never opens the source"
run env CW_SOURCE=nosuch:scheme cw-get -f "$T/l1-lazy" labels:EUR_USD:H4:2024-01-03
is "$status" 78 "a miss does, and a broken source is exit 78"

run cw-get -c "$ROOT/share/cw.conf" -f "$T/l1-example" labels:EUR_USD:H4:2024-01-02
is "$status" 0 "the example share/cw.conf loads and works as it is"

log="$XDG_CACHE_HOME/cw/access.log"
lines=$(wc -l <"$log" | tr -d ' ')
is "$lines" 8 "every lookup appends one log line"
is "$(awk -F, 'NF != 4' "$log")" "" "log lines are ts,key,level,latency_us"
is "$(cut -d, -f3 "$log" | sort -u | tr '\n' ' ')" "l1 l3 none " \
	"the log records the answering level"

# ---- cw-stats config: the effective configuration, each value's origin ----
mkdir -p "$T/cfgsrc"
printf '[l1]\nmax_entries = 5000\n\n[source]\nurl = csv:%s\n; a comment\nnegative_ttl = 90s\n[templates]\nbars = SELECT * FROM bars\n  WHERE d = {date}\n' \
	"$T/cfgsrc" >"$T/shown.conf"
run env CW_REDIS_URL=redis://127.0.0.1:1/0 cw-stats -c "$T/shown.conf" config
is "$status" 0 "config: a sound configuration, exit 0"
is "$(grep -E '^(max_entries|max_bytes|url|negative_ttl|bars) ' "$T/out")" \
	"max_entries = 5000 ; $T/shown.conf:2
max_bytes = 100M ; default
url = redis://127.0.0.1:1/0 ; environment CW_REDIS_URL
url = csv:$T/cfgsrc ; $T/shown.conf:5
negative_ttl = 90s ; $T/shown.conf:7
bars = SELECT * FROM bars WHERE d = {date} ; $T/shown.conf" \
	"each value with where it came from: file:line, default, environment; a continued template joined"
is "$(grep -c ' ; ' "$T/out")" 37 "every setting is shown, the template too"
printf '[l1]\nmax_entries = 5000\nmax_entires = 6\n' >"$T/typo.conf"
run cw-stats -c "$T/typo.conf" config
is "$status:$(cat "$T/out")$(cat "$T/err")" \
	"78:cw-stats: $T/typo.conf:3: unknown setting [l1] max_entires" \
	"config: a wrong line is exit 78, named by file and line"
printf '[source]\nurl = csv:%s/nowhere\n' "$T" >"$T/nodir.conf"
run cw-stats -c "$T/nodir.conf" config
is "$status:$(cat "$T/err")" "78:cw-stats: source 'csv:$T/nowhere': no such directory" \
	"config: a source that cannot open is exit 78 too"
printf '[l2]\nurl = memcached://x\n' >"$T/badl2.conf"
run cw-stats -c "$T/badl2.conf" config
is "$status" 78 "config: an L2 URL that can never work, exit 78"
run cw-stats -f "$T/l1" config
is "$status:$(head -n 1 "$T/err")" \
	"2:cw-stats: -f goes with the figures and the commands on the file, not with config" \
	"config with -f: usage error"

# A line longer than libinih's buffer is refused with its number, not cut
# in two (the rest read as a line of its own); a long template goes on
# indented lines.
long=$(python3 -c 'print("SELECT " + ", ".join("c%d" % i for i in range(60)) + " FROM bars")')
printf '[l1]\nmax_entries = 10\n[templates]\nbars = %s\n' "$long" >"$T/long.conf"
run cw-stats -c "$T/long.conf" config
is "$status:$(cat "$T/err")" \
	"78:cw-stats: $T/long.conf:4: line longer than 199 bytes (a long template goes on indented lines)" \
	"a line past the limit: exit 78, its own line named"
printf '[l1]\nmax_entries = 10\n[templates]\nbars = %s\n  %s\n' "${long%% c30,*}" "c30,${long#* c30,}" >"$T/long.conf"
run cw-stats -c "$T/long.conf" config
is "$status:$(grep '^bars' "$T/out")" "0:bars = $long ; $T/long.conf" \
	"the same template on an indented line: whole"

# A configuration that can never work is exit 78 at the start, even for a
# key L1 holds: a directory as the file, an L2 URL of another kind.
k=labels:EUR_USD:H4:2024-01-02
cw-get "$k" >/dev/null
run cw-get -c "$T" "$k"
is "$status" 78 "-c naming a directory: exit 78"
is "$(cat "$T/err")" "cw-get: $T: not a regular file" "saying so, in one line"
# A path longer than a setting holds (a line of the file is cut at
# libinih's line length first, so the environment is the way to it).
long=$(printf '%01030d' 0)
run env CW_L1_FILE="/tmp/$long" cw-get "$k"
is "$status:$(cat "$T/err")" "78:cw-get: CW_L1_FILE: longer than 1023 bytes" \
	"a path longer than a setting holds: exit 78, not cut short"
for port in 0 70000; do
	printf '[l2]\nurl = redis://127.0.0.1:%s/0\n' "$port" >"$T/port.conf"
	run cw-get -c "$T/port.conf" "$k"
	is "$status:$(cat "$T/err")" "78:cw-get: l2.url 'redis://127.0.0.1:$port/0': bad port" \
		"l2.url with port $port: exit 78, saying so"
done
printf '[l2]\nurl = http://127.0.0.1:6379\n' >"$T/badl2.conf"
run cw-get -c "$T/badl2.conf" "$k"
is "$status" 78 "a bad l2.url: exit 78, though L1 has the key"
is "$(cat "$T/err")" "cw-get: l2.url 'http://127.0.0.1:6379': expected redis://host:port/db, unix:///path, redis+cluster://host:port,... or redis+sentinel://host:port,.../name" \
	"naming the URL"
run env CW_REDIS_URL=redis://:1/0 cw-get "$k"
is "$status" 78 "CW_REDIS_URL without a host: exit 78"
is "$(cat "$T/err")" "cw-get: l2.url 'redis://:1/0': no host" "saying what is wrong"
# "~" and "$HOME" at the start of a path setting are the home directory.
mkdir -p "$T/work"
# shellcheck disable=SC2016 # the config's own $HOME, not the shell's
printf '[l1]\nfile = ~/tilde.l1\n[log]\nfile = $HOME/tilde.log\n' >"$T/tilde.conf"
(cd "$T/work" && cw-get -c "$T/tilde.conf" "$k" >/dev/null 2>&1)
is "$(test -f "$HOME/tilde.l1" && test -f "$HOME/tilde.log" && echo home)|$(ls "$T/work")" \
	"home|" "~ and \$HOME in path settings: the home directory, no '~' made here"
run env -u HOME cw-get -c "$T/tilde.conf" "$k"
is "$status:$(cat "$T/err")" \
	"78:cw-get: $T/tilde.conf:2: l1.file: '~/tilde.l1' names the home directory, and HOME is not set" \
	"without HOME: exit 78, saying so"
# A csv: source directory that is not there: a configuration error, and
# no key remembered as missing because of it.
run env CW_SOURCE="csv:$T/no-such-dir" cw-get -f "$T/csv.l1" labels:EUR_USD:H4:2024-01-02
is "$status:$(cat "$T/err")" "78:cw-get: source 'csv:$T/no-such-dir': no such directory" \
	"a csv: directory that does not exist: exit 78"
run cw-stats -f "$T/csv.l1" keys
is "$status:$(cat "$T/out")" "0:" "and no miss remembered for the key"
# Opaque keys: the CSV source cannot answer them, an exec source can.
# shellcheck disable=SC2016 # the script's own $1
printf '#!/bin/sh\nprintf "exec answers %%s" "$1"\n' >"$T/any"
chmod +x "$T/any"
run cw-get -f "$T/opaque.l1" just-a-name
is "$status" 1 "an opaque key from the CSV source: not found (1)"
run env CW_SOURCE="exec:$T/any" cw-get -f "$T/opaque2.l1" just-a-name
is "$status:$(cut -f2 "$T/out")" "0:exec answers just-a-name" \
	"from an exec source: answered, the key handed over as it is"
finish
