#!/bin/sh
# make install: everything lands under DESTDIR/PREFIX, and works there.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
plan 16

: "${CW_BUILD:?}"
make -s -C "$ROOT" B="$CW_BUILD" DESTDIR="$T/dest" PREFIX=/opt/cw install \
	>"$T/out" 2>"$T/err"
is "$?" 0 "make install succeeds"
d="$T/dest/opt/cw"
for f in bin/cw-get bin/cw-warm lib/libcw.a include/cw.h \
	share/man/man1/cw-get.1 share/man/man1/cw-warm.1 \
	share/man/man5/cw.conf.5 share/man/man7/cw.7 \
	share/cachewarm/data/labels/EUR_USD/H4.csv \
	share/cachewarm/calendar.conf share/cachewarm/releases.conf \
	share/cachewarm/cw-warm.cron \
	share/cachewarm/cw-warm.service share/cachewarm/cw-warm.timer \
	share/cachewarm/cw-hotlist.service share/cachewarm/cw-hotlist-save.service \
	share/cachewarm/cw-hotlist.timer share/cachewarm/cw-host.conf \
	share/cachewarm/cachewarm.tmpfiles; do
	[ -f "$d/$f" ] || missing="${missing:-} $f"
done
is "${missing:-}" "" "programs, library, header, man pages and data installed"
# zsh reads site-functions under any prefix but /usr.
is "$(test -f "$d/share/bash-completion/completions/cw-get" &&
	test -f "$d/share/zsh/site-functions/_cw-get" &&
	test -f "$d/share/bash-completion/completions/cw-warm" &&
	test -f "$d/share/zsh/site-functions/_cw-warm" && echo yes)" yes \
	"completions installed where bash and zsh look"
is "$(make -s -n -C "$ROOT" B="$CW_BUILD" PREFIX=/usr DESTDIR="$T/x" install |
	grep -c "$T/x/usr/share/zsh/vendor-completions/_")" 1 \
	"under /usr, zsh's completions go to vendor-completions"
# A program built against the installed library through pkg-config.
printf '#include <cw.h>\nint main(void) { int64_t s;\n\treturn cw_cal_parse_utc("2024-01-02", &s, NULL) != CW_OK || s != 1704153600; }\n' \
	>"$T/pc.c"
pc() { PKG_CONFIG_PATH="$d/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$T/dest" pkg-config "$@"; }
# A sanitizer's build (make check-asan) needs its runtime at link time,
# and make coverage's needs gcov's.
san=""
if nm "$d/lib/libcw.a" 2>/dev/null | grep -q __asan_; then
	san=-fsanitize=address,undefined
elif nm "$d/lib/libcw.a" 2>/dev/null | grep -q __gcov_; then
	san=--coverage
fi
# shellcheck disable=SC2046,SC2086
cc $san -o "$T/pc" "$T/pc.c" $(pc --cflags --libs cw) 2>"$T/pc.err"
is "$("$T/pc" && echo ran):$(pc --modversion cw)" \
	"ran:$(sed -n 's/^#define CW_VERSION "\(.*\)"/\1/p' "$ROOT/lib/cw.h")" \
	"pkg-config cw: a program links against libcw and runs"
is "$(stat -c %a "$d/bin/cw-get")" 755 "program mode 755"
run "$d/bin/cw-get" --version
is "$status" 0 "the installed program runs"
run env CW_SOURCE="csv:$d/share/cachewarm/data" "$d/bin/cw-get" \
	labels:EUR_USD:H4:2024-01-02
is "$status" 0 "the installed data answers"
is "$(sed -n 2p "$T/out")" \
	"2024-01-02T00:00:00Z,EUR_USD,H4,1.10561,1.10721,1.10561,1.10631,3738,0.000419,0" \
	"with the day's rows"
printf '[warm]\ncalendar = %s\n[source]\nurl = csv:%s\n' \
	"$d/share/cachewarm/calendar.conf" "$d/share/cachewarm/data" >"$T/inst.conf"
rm -f "$CW_L1_FILE"
run "$d/bin/cw-warm" -c "$T/inst.conf" --session london --at 2024-01-03T07:45Z
is "$status:$(cut -f2 "$T/out" | sort | uniq -c | tr -s ' ')" "0: 16 warmed" \
	"the installed calendar and data warm a session"
is "$(grep -c 'cw-warm --session auto' "$d/share/cachewarm/cw-warm.cron")" 1 \
	"the crontab example runs --session auto"
make -s -C "$ROOT" B="$CW_BUILD" DESTDIR="$T/dest" PREFIX=/opt/cw uninstall \
	>"$T/out" 2>&1
is "$?:$(find "$T/dest" -type f | wc -l | tr -d ' ')" "0:0" \
	"make uninstall removes every file install put there"

# Standalone: built and installed from a copy of the tree under a prefix
# of its own, the copy then deleted. The installed programs answer from
# the installed share/ (sample data, calendar), never from a build tree.
mkdir "$T/clone"
(cd "$ROOT" && tar cf - Makefile cmd lib share completions) | (cd "$T/clone" && tar xf -)
# A packager's build (no .git): the distribution's CPPFLAGS reach the
# compiler, and a new compiler's warning does not fail it.
line=$(make -n -C "$T/clone" B="$T/clone/build" CPPFLAGS=-DPACKAGER_FLAG=1 \
	"$T/clone/build/lib/buf.o" 2>/dev/null | grep ' -c ')
is "$(echo "$line" | grep -c -- -DPACKAGER_FLAG=1):$(echo "$line" | grep -c -- -Werror)" "1:0" \
	"outside a git checkout: CPPFLAGS honoured, no -Werror"
make -s -C "$T/clone" B="$T/clone/build" PREFIX="$T/inst" CFLAGS=-O1 install \
	>"$T/inst.out" 2>&1
is "$?" 0 "make install with a prefix, from a copy of the tree"
rm -rf "$T/clone"
run env -u CW_L1_FILE HOME="$T/standalone" XDG_CACHE_HOME="$T/standalone" \
	"$T/inst/bin/cw-get" labels:EUR_USD:H4:2024-01-02
is "$status:$(sed -n 2p "$T/out" | cut -d, -f1-3)" "0:2024-01-02T00:00:00Z,EUR_USD,H4" \
	"the copy deleted: the demo answers from the installed sample data"
run env -u CW_L1_FILE HOME="$T/standalone" XDG_CACHE_HOME="$T/standalone" \
	"$T/inst/bin/cw-warm" --session london --at 2024-01-03T07:45Z
is "$status:$(wc -l <"$T/out" | tr -d ' '):$(cut -f2 "$T/out" | grep -vc 'warmed\|fresh')" "0:16:0" \
	"and warms a session's 16 keys from the installed calendar"
finish
