#!/bin/sh
# The fill rules, read back from a real Redis and the L1 file after every
# kind of fill: the TTL cascade (an entry never lives longer above than
# below), the remembered miss's lifetime in both levels, the fetch lock
# gone after a fill and after a failed fetch, and a source error that
# fills nothing. These pin the rules exactly, so that moving them (into
# the fill machine cw-get and cw-warm share) cannot change them unseen.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/servers.sh
. "$(dirname "$0")/servers.sh"
plan 44

start_redis
# A counting source: a value for every key, exit 1 for missing:*, and a
# failure (exit 3) while $T/fail exists.
cat >"$T/source" <<EOF
#!/bin/sh
echo "\$1" >>"$T/calls"
[ -e "$T/fail" ] && { echo "source broken" >&2; exit 3; }
case \$1 in
missing:*) exit 1 ;;
esac
printf 'value of %s' "\$1"
EOF
chmod +x "$T/source"
: >"$T/calls"

# conf [L1_TTL L2_TTL SOURCE_TTL]: a configuration with L2 and the source.
conf() {
	cat >"$T/cw.conf" <<CONF
[l1]
ttl = ${1:-300}
[l2]
url = $REDIS_URL
ttl = ${2:-3600}
timeout = 2s
[source]
url = exec:$T/source
ttl = ${3:-86400}
negative_ttl = 30s
CONF
	export CW_CONFIG="$T/cw.conf"
}
# l1_left KEY: seconds L1 has left for KEY; l1_kind KEY: value or not-found.
l1_left() { cw-stats keys "$1" | cut -f3; }
l1_kind() { cw-stats keys "$1" | cut -f5; }
# l2_left KEY [SUFFIX]: seconds Redis has left for cw:KEY (PTTL / 1000).
l2_left() { echo $(($(rcli pttl "cw:$1${2:+ $2}") / 1000)); }
# within X LO HI: LO <= X <= HI.
within() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] && echo yes || echo "no: $1 not in [$2, $3]"; }
calls() { wc -l <"$T/calls" | tr -d ' '; }
fresh() { rm -f "$CW_L1_FILE"; rcli flushall >/dev/null; : >"$T/calls"; }

conf
# From L3: L2 for l2.ttl +-10%, L1 for l1.ttl.
k=a:I:G:2024-01-02
fresh
cw-get "$k" >/dev/null
is "$(within "$(l2_left "$k")" 3239 3960)" yes "from L3: L2 lives l2.ttl +-10%"
is "$(within "$(l1_left "$k")" 298 300)" yes "from L3: L1 lives l1.ttl"
is "$(rcli exists "cw:$k lock")" 0 "the fetch lock is gone after the fill"

# From L2: L1 lives what L2 has left, when that is shorter than l1.ttl...
rcli pexpire "cw:$k" 40000 >/dev/null
rm -f "$CW_L1_FILE"
run cw-get -v "$k"
is "$(untimed "$T/err")" "cw-get: $k: l2 hit in T us" "the next lookup with L1 gone: L2"
is "$(within "$(l1_left "$k")" 38 40)" yes "from L2: L1 capped by L2's remaining 40 s"
# ...and l1.ttl when L2 has longer.
rcli pexpire "cw:$k" 2000000 >/dev/null
rm -f "$CW_L1_FILE"
cw-get "$k" >/dev/null
is "$(within "$(l1_left "$k")" 298 300)" yes "from L2 with 2000 s left: L1 lives l1.ttl"
# An L2 entry without expiry: L1 gets l1.ttl.
rcli persist "cw:$k" >/dev/null
rm -f "$CW_L1_FILE"
cw-get "$k" >/dev/null
is "$(within "$(l1_left "$k")" 298 300)" yes "from L2 without expiry: L1 lives l1.ttl"
is "$(calls)" 1 "the source was asked once for all of it"

# --ttl below L1's: L1 lives --ttl, L2 is untouched by it.
fresh
cw-get --ttl 20s "$k" >/dev/null
is "$(within "$(l1_left "$k")" 18 20)" yes "--ttl 20s from L3: L1 lives 20 s"
is "$(within "$(l2_left "$k")" 3239 3960)" yes "--ttl 20s: L2 still lives l2.ttl"
# --ttl above L2's: L1 lives what L2 was given, no longer.
fresh
cw-get --ttl 5h "$k" >/dev/null
l2=$(l2_left "$k")
is "$(within "$(l1_left "$k")" $((l2 - 2)) "$l2")" yes "--ttl 5h from L3: L1 capped by L2's TTL ($l2 s)"
is "$(within "$l2" 3239 3960)" yes "--ttl 5h: L2 lives l2.ttl"
rm -f "$CW_L1_FILE"
cw-get --ttl 5h "$k" >/dev/null
l2=$(l2_left "$k")
is "$(within "$(l1_left "$k")" $((l2 - 2)) "$l2")" yes "--ttl 5h from L2: L1 capped by L2's remaining ($l2 s)"

# l2.ttl below l1.ttl: L1 never outlives L2.
conf 300 100
fresh
cw-get "$k" >/dev/null
l2=$(l2_left "$k")
is "$(within "$l2" 89 110)" yes "l2.ttl 100 s: L2 lives 100 s +-10% ($l2 s)"
is "$(within "$(l1_left "$k")" $((l2 - 2)) "$l2")" yes "l2.ttl 100 s below l1.ttl: L1 lives L2's TTL"

# source.ttl below both: it caps L2 and L1.
conf 300 3600 60
fresh
cw-get "$k" >/dev/null
is "$(within "$(l2_left "$k")" 58 60)" yes "source.ttl 60 s: L2 capped at 60 s"
is "$(within "$(l1_left "$k")" 58 60)" yes "source.ttl 60 s: L1 capped at 60 s"

# Without L2: L1 lives l1.ttl, capped by source.ttl.
printf '[l1]\nttl = 300\n[source]\nurl = exec:%s\nttl = 50\n' "$T/source" \
	>"$T/nol2.conf"
rm -f "$CW_L1_FILE"
CW_CONFIG=$T/nol2.conf cw-get "$k" >/dev/null
is "$(within "$(l1_left "$k")" 48 50)" yes "no L2, source.ttl 50 s: L1 capped at 50 s"

# The remembered miss: negative_ttl in Redis, exactly; in L1 as long.
conf
m=missing:I:G:2024-01-02
fresh
run cw-get "$m"
is "$status" 1 "a key the source has not: exit 1"
is "$(within "$(l2_left "$m" none)" 28 30)" yes "L2 remembers the miss for negative_ttl (30 s)"
is "$(rcli exists "cw:$m")" 0 "and stores no value for it"
is "$(within "$(l1_left "$m")" 28 30)" yes "L1 remembers it for negative_ttl"
is "$(l1_kind "$m")" not-found "as a not-found entry"
is "$(rcli exists "cw:$m lock")" 0 "the fetch lock is gone after a not-found"
# From L2's memory, L1 lives what is left of it.
rcli pexpire "cw:$m none" 12000 >/dev/null
rm -f "$CW_L1_FILE"
run cw-get -v "$m"
is "$(untimed "$T/err")" "cw-get: $m: not found
cw-get: $m: none not found in T us" \
	"the miss answered from L2's memory"
is "$(within "$(l1_left "$m")" 10 12)" yes "L1 remembers it for what L2 has left (12 s)"
# A negative_ttl above l1.ttl: L1 is still capped by l1.ttl.
conf 20
sed -i 's/^negative_ttl = 30s$/negative_ttl = 90s/' "$T/cw.conf"
fresh
cw-get "$m" 2>/dev/null
is "$(within "$(l2_left "$m" none)" 88 90)" yes "negative_ttl 90 s: L2 remembers for 90 s"
is "$(within "$(l1_left "$m")" 18 20)" yes "negative_ttl 90 s over l1.ttl 20 s: L1 for 20 s"
is "$(calls)" 1 "the source was asked once for the missing key"

# A failed fetch: nothing filled, the lock released, the next lookup asks
# again (an error is never remembered).
conf
f=fails:I:G:2024-01-02
fresh
touch "$T/fail"
run cw-get "$f"
is "$status" 69 "the source failing: exit 69"
is "$(rcli exists "cw:$f lock")" 0 "the fetch lock is gone after the failure"
is "$(rcli exists "cw:$f" "cw:$f none")" 0 "nothing is stored in L2"
is "$(cw-stats keys "$f")" "" "nothing is stored in L1"
run cw-get "$f"
is "$(calls)" 2 "a second lookup asks the source again"
rm "$T/fail"
run cw-get "$f"
is "$status:$(calls)" 0:3 "and once it is back, is answered by it"

# Lifetimes by the age of the data: a closed day's key of a listed type
# lives closed_day_ttl at every level; today's, another type's and a
# future day's keep the short ones; --ttl still rules L1.
conf
printf 'closed_day_ttl = 3d\nclosed_day_types = bars, labels\n' >>"$T/cw.conf"
today=$(date -u +%F)
old=bars:I:G:2024-01-02
fresh
cw-get "$old" >/dev/null
is "$(within "$(l2_left "$old")" 233279 285120)" yes \
	"a closed day's key: L2 lives closed_day_ttl +-10%"
is "$(within "$(l1_left "$old")" 233000 285120)" yes \
	"and L1 as long as L2 has"
cw-get "bars:I:G:$today" >/dev/null
is "$(within "$(l2_left "bars:I:G:$today")" 3239 3960)" yes \
	"today's key keeps l2.ttl"
is "$(within "$(l1_left "bars:I:G:$today")" 298 300)" yes \
	"and l1.ttl"
cw-get "other:I:G:2024-01-02" >/dev/null
is "$(within "$(l2_left "other:I:G:2024-01-02")" 3239 3960)" yes \
	"a type not listed keeps l2.ttl"
rm -f "$CW_L1_FILE"
cw-get --ttl 60 "$old" >/dev/null
is "$(within "$(l1_left "$old")" 58 60)" yes "--ttl still rules L1"
sed -i 's/^closed_day_types = .*/closed_day_types = bars bad!/' "$T/cw.conf"
run cw-get "$old"
is "$status:$(head -1 "$T/err")" \
	"78:cw-get: $T/cw.conf:12: source.closed_day_types: 'bad!' is not a key type" \
	"a type list with a bad type: exit 78, named"
sed -i '/^closed_day/d' "$T/cw.conf"

# A source that cannot even be opened: the lock is released all the same.
sed -i "s|^url = exec:.*|url = exec:$T/no-such-command|" "$T/cw.conf"
fresh
run cw-get "$f"
is "$status" 78 "a source that cannot be opened: exit 78"
is "$(rcli exists "cw:$f lock")" 0 "the fetch lock is gone after it"
finish
