# cachewarm: the one build file (GNU make, no configure).
#
#   make            build the library and programs into $(B)/
#   make deps       install what Debian 12 lacks (as root; idempotent)
#   make demo       build, then look a sample key up twice with cw-get -v
#   make check      build and run every test (the README's test command)
#   make check-asan the same under AddressSanitizer and UBSan
#   make check-tsan the L1 file's concurrency under ThreadSanitizer
#   make check-fuzz every libFuzzer harness for a few seconds
#   make bench      benchmarks; figures go to bench/RESULTS.md by hand
#   make bench-peers  the read and write paths beside memcached, LMDB, hiredis
#   make bench-cluster  past one host: a Redis Cluster, eight warmers
#   make install    PREFIX=/usr/local DESTDIR= ...
#   make uninstall  the same variables: remove what install put there
#   make lint       man pages, shellcheck, no mutable globals in libcw.a,
#                   and the whole tree built clean by clang
#   make torture    the L1 file under kills, contention and stops, long
#   make fuzz       every libFuzzer harness for 5 minutes (check-fuzz: 3 s)
#   make mutants    the curated mutants, each against the whole suite

-include config.mk

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share/cachewarm
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
VERSION := $(shell sed -n 's/^\#define CW_VERSION "\(.*\)"/\1/p' lib/cw.h)
# Where zsh looks: Debian's zsh reads vendor-completions under /usr and
# site-functions under any other prefix (/usr/local/share/zsh/...).
ZSHCOMPDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/share/zsh/vendor-completions,$(PREFIX)/share/zsh/site-functions)

B ?= build
CC ?= cc
CFLAGS ?= -O2 -g
# -Werror in the developers' and CI's builds (a git checkout): a
# packager's build from a release tarball, with another compiler, must
# not fail on a warning that compiler added.
WERROR ?= $(if $(wildcard $(CURDIR)/.git),-Werror)
override CFLAGS += -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra $(WERROR) \
	-MMD -MP -Ilib -DCW_DATADIR='"$(DATADIR)"' \
	-DCW_TREE_DATADIR='"$(CURDIR)/share/data"'
override LDFLAGS += -pthread
# libinih, libcsv and hiredis are small: linked statically so that cw-get
# starts with libc alone (its whole run from L1 is a few hundred
# microseconds). libcurl is not linked at all: the ClickHouse source loads
# it with dlopen when it is about to query (lib/src_ch.c).
LIBS = -l:libinih.a -l:libcsv.a -l:libhiredis.a -lm

# Debian 12 packages: build, tests, benchmarks.
DEBS = build-essential pkg-config libcsv-dev libinih-dev libxxhash-dev \
	libhiredis-dev libcurl4-openssl-dev libcriterion-dev perl groff-base \
	shellcheck python3 curl strace redis-server redis-tools clickhouse-server \
	clang libclang-rt-14-dev gnuplot-nox memcached liblmdb-dev \
	valgrind

PROGS = cw-get cw-warm cw-stats cw-predict cw-bench
LIB_SRCS = $(wildcard lib/*.c)
LIB_OBJS = $(LIB_SRCS:%.c=$(B)/%.o)
UNIT_SRCS = $(wildcard tests/unit/*_test.c)
UNIT_OBJS = $(UNIT_SRCS:%.c=$(B)/%.o)
BENCH_SRCS = $(wildcard bench/*.c)
BENCH_BINS = $(BENCH_SRCS:bench/%.c=$(B)/bench/%)
BINS = $(PROGS:%=$(B)/bin/%)

.SECONDARY:

.PHONY: all check check-unit check-cli check-asan check-fuzz check-tsan \
	coverage deps \
	demo bench bench-cluster bench-peers bench-predict install uninstall lint clean sample-data torture fuzz fuzzers mutants

all: $(BINS) $(B)/libcw.a

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# XXH3's AVX2 kernel, for long values on CPUs that have it (hash_int.h
# picks it at run time): this file alone may use AVX2 instructions.
ifeq ($(shell uname -m),x86_64)
$(B)/lib/hash_avx2.o: lib/hash_avx2.c lib/hash_int.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -mavx2 -c -o $@ $<
endif

$(B)/libcw.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# cmd/cli.c: what every program does the same way, linked into each.
$(B)/bin/%: $(B)/cmd/%.o $(B)/cmd/cli.o $(B)/libcw.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(B)/cmd/cli.o $(B)/libcw.a $(LIBS)

# The allocator and the system calls wrapped for tests/unit/fault_test.c
# and tests/tools/l2oom.c, which fail each allocation and each call the
# library makes in turn (tests/fault.h).
FAULT_WRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup \
	-Wl,--wrap=open,--wrap=read,--wrap=pread,--wrap=write,--wrap=fsync \
	-Wl,--wrap=posix_fallocate,--wrap=fstat,--wrap=flock,--wrap=rename \
	-Wl,--wrap=link,--wrap=mkdir,--wrap=mmap
# -rdynamic: l2oom names the callers of an allocation, to spare hiredis's.
$(B)/tests/l2oom: LIBS += $(FAULT_WRAP) -rdynamic
$(B)/tests/l2oom: tests/fault.h
$(B)/tests/unit/fault_test.o: tests/fault.h
$(B)/unit-tests: $(UNIT_OBJS) $(B)/libcw.a
	$(CC) $(LDFLAGS) $(FAULT_WRAP) -o $@ $(UNIT_OBJS) $(B)/libcw.a $(LIBS) \
		-lcriterion

$(B)/bench/%: bench/%.c $(B)/libcw.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcw.a $(LIBS)

# The peer measured beside the L1 (make bench only).
$(B)/bench/lmdb: LIBS += -llmdb
$(B)/bench/evict $(B)/bench/adaptsim: bench/refcache.h

$(B)/gen-sample: share/gen-sample.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lm

# The sample data is generated once and shipped; this target remakes it
# (deterministic: the same bytes every time, checked by a CLI test).
# Helpers the CLI tests drive.
$(B)/tests/%: tests/tools/%.c $(B)/libcw.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcw.a $(LIBS)

sample-data: $(B)/gen-sample
	$(B)/gen-sample share/data

# The benchmarks are built (not run) by the tests, so that a change of
# the library cannot leave make bench broken unnoticed.
check: $(BENCH_BINS) check-unit check-cli

# criterion's workers report leaks without failing the test: a leak
# report anywhere fails the run.
check-unit: $(B)/unit-tests
	@$(B)/unit-tests --jobs 2 2>$(B)/unit-tests.log; rc=$$?; \
	cat $(B)/unit-tests.log >&2; \
	if grep -q 'ERROR: LeakSanitizer' $(B)/unit-tests.log; then exit 1; fi; \
	exit $$rc

# Two at a time: most of a CLI test's time is servers starting and
# processes waiting, not CPU (the suite's 140 s held 85 s of it). The
# longest go first, so that the two queues end together; each test has
# its own directory and servers on ports the kernel picked.
CLI_SLOW = tests/cli/190-l2-cluster.t tests/cli/110-single-flight.t \
	tests/cli/160-cw-bench-replay.t tests/cli/090-levels.t \
	tests/cli/070-install.t
CLI_TESTS = $(CLI_SLOW) $(filter-out $(CLI_SLOW),$(sort $(wildcard tests/cli/*.t)))
check-cli: all $(B)/gen-sample $(B)/tests/sqlquote $(B)/tests/l1torture \
	$(B)/tests/l2fence $(B)/tests/l2oom \
	$(B)/bench/evict $(B)/bench/evictgen
	CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) prove -f -j2 $(CLI_TESTS)

check-asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:malloc_context_size=2 \
	$(MAKE) B=build-asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' check

# The L1 file's ordeal at length (minutes; CI runs a slice of each in
# tests/cli/170-l1-torture.t): writers SIGKILLed 10,000 times, eight
# processes of every operation for a minute, a writer stopped and
# continued for half a minute. TORTURE_KILLS etc. override.
TORTURE_KILLS ?= 10000
TORTURE_PROCS ?= 8
TORTURE_SECONDS ?= 60
torture: $(B)/tests/l1torture
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	$(B)/tests/l1torture kill "$$d" $(TORTURE_KILLS) && \
	$(B)/tests/l1torture mixed "$$d" $(TORTURE_PROCS) $(TORTURE_SECONDS) && \
	$(B)/tests/l1torture stop "$$d" $$(($(TORTURE_SECONDS) / 2))

# libFuzzer harnesses (tests/fuzz/*.c), built with clang under ASan and
# UBSan into build-fuzz/fuzz/. make fuzz runs each FUZZ_SECONDS (5
# minutes); check-fuzz, which CI runs, a few seconds each from the seed
# corpora in tests/fuzz/corpus/.
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/*.c))
$(B)/fuzz/%: tests/fuzz/%.c $(B)/libcw.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(B)/libcw.a $(LIBS)
fuzzers: $(FUZZ_TARGETS)

FUZZ_MAKE = $(MAKE) CC=clang B=build-fuzz \
	CFLAGS='-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' \
	LDFLAGS='-fsanitize=address,undefined' fuzzers
FUZZ_SECONDS ?= 300
fuzz:
	$(FUZZ_MAKE)
	sh tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_SECONDS)
check-fuzz:
	$(FUZZ_MAKE)
	sh tests/fuzz/run.sh build-fuzz/fuzz 3

# ThreadSanitizer over the L1 file's concurrency: threads sharing one
# handle (l1torture threads), so that it sees every access to the map and
# the lock. The lock-free readers' copies of records race with writers by
# design and are annotated so in l1_int.h, nothing else. -Wno-tsan: the
# reader's fence after those copies, which TSan does not model.
check-tsan:
	$(MAKE) B=build-tsan CFLAGS='-O1 -g -fsanitize=thread -Wno-tsan' \
		LDFLAGS='-fsanitize=thread' build-tsan/tests/l1torture
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	TSAN_OPTIONS='halt_on_error=1' build-tsan/tests/l1torture threads "$$d" 4 5

# Mutation testing (tests/mutants/run.sh): each mutant of the curated
# list applied alone to a scratch copy of the tree, the suite run, and the
# test that killed it named. MUTANTS=PATTERN runs those that match.
mutants:
	sh tests/mutants/run.sh $(MUTANTS)

# Line and branch coverage of lib/ over the whole suite (gcov): a figure
# per module, then the total. Not in CI: it rebuilds everything.
coverage:
	rm -rf build-cov
	$(MAKE) B=build-cov CFLAGS='-O0 -g --coverage' LDFLAGS='--coverage' \
		check >build-cov.log 2>&1 || { tail -20 build-cov.log; exit 1; }
	sh tests/coverage.sh build-cov | tee build-cov/coverage.txt

deps:
	@missing=""; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all installed"; fi

demo: all
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	export CW_L1_FILE=$$d/l1 XDG_CACHE_HOME=$$d; \
	echo '$$ cw-get -v labels:EUR_USD:H4:2024-01-01   # first: from the source'; \
	$(B)/bin/cw-get -v labels:EUR_USD:H4:2024-01-01 && \
	echo '$$ cw-get -v labels:EUR_USD:H4:2024-01-01   # second: from L1'; \
	$(B)/bin/cw-get -v labels:EUR_USD:H4:2024-01-01 >/dev/null

# The no-op linked with libcurl: what linking it would cost every start.
$(B)/bench/noop-curl: bench/noop.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -Wl,--no-as-needed -lcurl

bench: all $(BENCH_BINS) $(B)/bench/noop-curl $(B)/tests/l2fence
	CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) sh bench/run.sh
	CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) sh bench/predict-truth.sh
	CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) sh bench/replay-ch.sh
	CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) sh bench/cluster.sh

# The predictor against the truth on 24 generated workloads (issue 18's
# table): about ten minutes.
bench-predict: all
	CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) sh bench/predict-truth.sh

# Past one host: a Redis Cluster beside redis-benchmark, a master killed
# while warming, eight warmers over the same keys.
bench-cluster: all $(B)/tests/l2fence
	CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) sh bench/cluster.sh

# The read and write paths beside memcached, LMDB and hiredis (issue 17's
# table), without the rest: a few minutes.
bench-peers: all $(BENCH_BINS) $(B)/bench/noop-curl
	CW_BENCH_ONLY=peers CW_BIN=$(CURDIR)/$(B)/bin CW_BUILD=$(CURDIR)/$(B) sh bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/libcw.a $(DESTDIR)$(LIBDIR)
	install -m 644 lib/cw.h $(DESTDIR)$(INCLUDEDIR)
	install -m 644 share/man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 share/man/*.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 share/man/*.7 $(DESTDIR)$(MANDIR)/man7
	install -m 644 share/cw.conf share/calendar.conf share/releases.conf \
		share/cw-warm.cron \
		share/cw-warm.service share/cw-warm.timer share/cw-hotlist.service \
		share/cw-hotlist-save.service share/cw-hotlist.timer \
		share/cw-host.conf share/cachewarm.tmpfiles \
		$(DESTDIR)$(DATADIR)
	cp -R share/data $(DESTDIR)$(DATADIR)/
	for p in $(PROGS); do \
		install -m 644 completions/$$p.bash $(DESTDIR)$(BASHCOMPDIR)/$$p; \
		install -m 644 completions/_$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
	done
	install -d $(DESTDIR)$(PKGCONFIGDIR)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' \
		'includedir=$(INCLUDEDIR)' '' 'Name: cw' \
		'Description: cachewarm, the library of the cw-* programs' \
		'Version: $(VERSION)' 'Cflags: -I$${includedir}' \
		'Libs: -L$${libdir} -lcw $(LIBS) -pthread' \
		>$(DESTDIR)$(PKGCONFIGDIR)/cw.pc

# What install put there: its files, share/cachewarm, and the directories
# of completions and pkg-config files if that leaves them empty (the
# standard ones, bin/ or share/man/, stay).
uninstall:
	for p in $(PROGS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/man1/$$p.1 \
			$(DESTDIR)$(BASHCOMPDIR)/$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p; \
	done
	rm -f $(DESTDIR)$(LIBDIR)/libcw.a $(DESTDIR)$(INCLUDEDIR)/cw.h \
		$(DESTDIR)$(MANDIR)/man5/cw.conf.5 $(DESTDIR)$(MANDIR)/man7/cw.7 \
		$(DESTDIR)$(PKGCONFIGDIR)/cw.pc
	rm -rf $(DESTDIR)$(DATADIR)
	for d in $(PKGCONFIGDIR) $(ZSHCOMPDIR) $(BASHCOMPDIR); do \
		rmdir $(DESTDIR)$$d 2>/dev/null || :; \
	done

lint: $(B)/libcw.a
	@g=$$(objdump -t $(B)/libcw.a | awk '$$4 == ".data" || $$4 == ".bss" {print $$NF}'); \
	if [ -n "$$g" ]; then echo "mutable globals in libcw.a: $$g"; exit 1; fi
	for m in share/man/*.[157]; do groff -mandoc -ww -z $$m || exit 1; done
	@# Programs use cw.h alone: the library's private headers are its own.
	@p=$$(grep -l '#include "[a-z0-9_]*_int\.h"' cmd/*.[ch]); \
	if [ -n "$$p" ]; then echo "private headers included by: $$p"; exit 1; fi
	@# Every header compiles on its own.
	@for h in lib/*.h; do printf '#include "%s"\n' "$${h#lib/}" | \
		$(CC) $(CPPFLAGS) $(filter-out -MMD -MP,$(CFLAGS)) -fsyntax-only -x c - || \
		{ echo "$$h does not compile on its own"; exit 1; }; done
	shellcheck -x -s sh tests/cli/*.t tests/cli/lib.sh tests/*.sh tests/fuzz/*.sh tests/mutants/*.sh bench/*.sh
	sh tests/mutants/check.sh
	$(MAKE) -s CC=clang B=build-clang all build-clang/unit-tests \
		$(BENCH_SRCS:bench/%.c=build-clang/bench/%)

clean:
	rm -rf build build-asan build-clang build-cov build-cov.log build-fuzz build-tsan

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(PROGS:%=$(B)/cmd/%.d) \
	$(B)/cmd/cli.d $(FUZZ_TARGETS:=.d)
