/*
 * l1torture: what the L1 file must survive, run for as long as asked.
 *
 *   l1torture kill  DIR KILLS      writers SIGKILLed at random moments
 *   l1torture mixed DIR PROCS SECONDS   processes of every operation at once
 *   l1torture threads DIR N SECONDS    the same, threads sharing a handle
 *   l1torture stop  DIR SECONDS    a writer SIGSTOPped while others go on
 *
 * Every value carries its own checksum (XXH3 of its bytes seeded by its
 * key, computed here and not by the library under test), so a torn or
 * misplaced value is seen by whoever reads it. The file is small (64
 * entries, 64 KiB), so every write evicts, and a quarter of the values
 * live a few milliseconds, so eviction meets expired entries too.
 *
 * kill: a writer sets, deletes, reclaims and repairs (the paths a kill
 * can interrupt) until it is killed 0-2 ms in; then the file is opened,
 * verified (the lock's recovery repairs first), and every key is read.
 * mixed: each process runs a random mix of get, batch, set, delete,
 * reclaim, scan, stats and verify; a watchdog calls a run that does not
 * end 20 s after its time a deadlock. stop: readers and writers run while
 * one writer is stopped and continued at random; no read may take longer
 * than 250 ms, no write may hang, and the file verifies afterwards.
 *
 * Prints one line of figures; exit 0 when nothing went wrong, 1 when
 * something did (said on stderr), 2 on misuse. make torture runs it
 * long; tests/cli/170-l1-torture.t runs a slice of each in CI.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define XXH_INLINE_ALL	/* as lib does: no library to link */
#include <xxhash.h>

#include "cw.h"
#include "l1_int.h"

#define KEYS 100
#define MAX_PROCS 16

/* What the processes of one run count, in memory they share. */
struct tally {
	unsigned long long ops, reads, torn, errors, timeouts, slow_reads;
	long long max_read_ns;
	int holding;	/* stop mode: the stopped writer is inside the lock */
};

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
key_of(char *key, size_t cap, uint64_t r)
{
	snprintf(key, cap, "key%llu", (unsigned long long)(r % KEYS));
}

/* 16..3000 bytes: an 8-byte checksum, then letters. */
static size_t
make_value(char *v, const char *key, uint64_t seed)
{
	size_t n = 16 + seed % 2985;
	uint64_t h;

	for (size_t i = 8; i < n; i++)
		v[i] = (char)('a' + (seed + i) % 26);
	h = XXH3_64bits_withSeed(v + 8, n - 8, XXH3_64bits(key, strlen(key)));
	memcpy(v, &h, 8);
	return n;
}

static int
intact(const char *key, const struct cw_buf *b)
{
	uint64_t h;

	if (b->len < 16)
		return 0;
	memcpy(&h, b->data, 8);
	return h == XXH3_64bits_withSeed(b->data + 8, b->len - 8,
	    XXH3_64bits(key, strlen(key)));
}

static int
open_file(struct cw_l1 **l1, const char *path, struct cw_err *e)
{
	struct cw_l1_opts o = {
		.path = path, .max_entries = 64, .max_bytes = 64 * 1024,
		.mode = 0600, .clock = cw_clock_system(),
	};

	return cw_l1_open(l1, &o, e);
}

static int
count_entry(const struct cw_l1_entry *e, void *ctx)
{
	(void)e;
	(*(unsigned long long *)ctx)++;
	return 0;
}

/* One random operation; reads check what they get. */
static void
one_op(struct cw_l1 *l1, uint64_t *seed, int writes, int timed,
    struct tally *t)
{
	static const int mix_reads = 60;
	char key[32], v[3000];
	struct cw_buf b = { 0 };
	uint64_t r = rnd(seed), n;
	int what = (int)(r % 100), rc = CW_OK;
	int64_t t0 = mono_ns(), took;

	key_of(key, sizeof(key), r >> 8);
	if (what < mix_reads || !writes) {
		if (what % 3 == 0) {
			struct cw_l1_lookup q[8];
			struct cw_buf bb[8] = { { 0 } };
			char bk[8][32];

			for (int k = 0; k < 8; k++) {
				key_of(bk[k], sizeof(bk[k]), (r >> 8) + k);
				q[k].key = bk[k];
				q[k].klen = strlen(bk[k]);
				q[k].val = &bb[k];
			}
			cw_l1_get_batch(l1, q, 8);
			for (int k = 0; k < 8; k++) {
				if (q[k].rc == CW_OK && !intact(bk[k], &bb[k]))
					__atomic_fetch_add(&t->torn, 1,
					    __ATOMIC_RELAXED);
				cw_buf_free(&bb[k]);
			}
		} else if (cw_l1_get(l1, key, strlen(key), &b, NULL, NULL) ==
		    CW_OK && !intact(key, &b)) {
			__atomic_fetch_add(&t->torn, 1, __ATOMIC_RELAXED);
		}
		took = mono_ns() - t0;
		__atomic_fetch_add(&t->reads, 1, __ATOMIC_RELAXED);
		if (!timed)
			;	/* this process may be stopped mid-read */
		else if (took > 250000000)
			__atomic_fetch_add(&t->slow_reads, 1, __ATOMIC_RELAXED);
		if (took > __atomic_load_n(&t->max_read_ns, __ATOMIC_RELAXED))
			__atomic_store_n(&t->max_read_ns, took,
			    __ATOMIC_RELAXED);
	} else if (what < 85) {
		size_t len = make_value(v, key, r >> 16);

		rc = cw_l1_set(l1, key, strlen(key), v, len,
		    what % 4 == 0 ? 1 + (int64_t)(r >> 40) % 5 : 60000, 0,
		    NULL);
	} else if (what < 90) {
		rc = cw_l1_del(l1, key, strlen(key), NULL);
	} else if (what < 94) {
		rc = cw_l1_reclaim(l1, &n, NULL);
	} else if (what < 96) {
		n = 0;
		rc = cw_l1_scan(l1, count_entry, &n, NULL);
	} else if (what < 97) {
		struct cw_l1_stats *st = malloc(sizeof(*st));

		if (st != NULL)
			cw_l1_stats(l1, 0, st);
		free(st);
	} else {
		struct cw_l1_verify vf;

		rc = cw_l1_verify(l1, &vf, NULL);
	}
	if (rc == CW_ETIMEOUT)
		__atomic_fetch_add(&t->timeouts, 1, __ATOMIC_RELAXED);
	else if (rc != CW_OK && rc != CW_ENOTFOUND && rc != CW_ETOOBIG)
		__atomic_fetch_add(&t->errors, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->ops, 1, __ATOMIC_RELAXED);
	cw_buf_free(&b);
}

/* A writer for the kill mode: every writing path, repair included. */
static void
writer_until_killed(const char *path, uint64_t seed)
{
	struct cw_l1 *l1;
	struct tally t = { 0 };

	if (open_file(&l1, path, NULL) != CW_OK)
		_exit(3);
	for (;;) {
		if (rnd(&seed) % 50 == 0) {
			if (cw_l1_int_lock(l1, NULL) == CW_OK) {
				cw_l1_int_repair(l1);
				cw_l1_int_unlock(l1);
			}
		} else {
			one_op(l1, &seed, 1, 0, &t);
		}
	}
}

/* The file after a kill: it verifies whole, and every value is intact. */
static int
check_file(const char *path, int round)
{
	struct cw_l1 *l1;
	struct cw_l1_verify v;
	struct cw_buf b = { 0 };
	struct cw_err e;
	char key[32];
	int bad = 0;

	if (open_file(&l1, path, &e) != CW_OK) {
		fprintf(stderr, "l1torture: round %d: %s\n", round, e.msg);
		return 1;
	}
	if (cw_l1_verify(l1, &v, &e) != CW_OK) {
		fprintf(stderr, "l1torture: round %d: verify: %s\n", round,
		    e.msg);
		bad = 1;
	} else if (v.damaged || v.bad_rings || v.count_mismatch) {
		fprintf(stderr, "l1torture: round %d: %llu damaged, %llu bad "
		    "rings, count %s\n", round,
		    (unsigned long long)v.damaged,
		    (unsigned long long)v.bad_rings,
		    v.count_mismatch ? "wrong" : "right");
		bad = 1;
	}
	for (int k = 0; k < KEYS && !bad; k++) {
		key_of(key, sizeof(key), (uint64_t)k);
		if (cw_l1_get(l1, key, strlen(key), &b, NULL, NULL) == CW_OK &&
		    !intact(key, &b)) {
			fprintf(stderr, "l1torture: round %d: %s torn\n",
			    round, key);
			bad = 1;
		}
	}
	if (!bad && cw_l1_set(l1, "after", 5, "ok", 2, 60000, 0, &e) !=
	    CW_OK) {
		fprintf(stderr, "l1torture: round %d: set after: %s\n", round,
		    e.msg);
		bad = 1;
	}
	cw_buf_free(&b);
	cw_l1_close(l1);
	return bad;
}

static int
run_kill(const char *path, long kills)
{
	uint64_t seed = 0x5eed;
	long survived = 0;
	int status;

	for (long round = 0; round < kills; round++) {
		struct timespec ts = { 0, (long)(rnd(&seed) % 2000000) };
		pid_t pid = fork();

		if (pid < 0)
			return perror("l1torture: fork"), 1;
		if (pid == 0)
			writer_until_killed(path, seed + (uint64_t)round);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status)) {
			fprintf(stderr, "l1torture: round %ld: the writer "
			    "ended by itself (status %#x)\n", round, status);
			return 1;
		}
		if (check_file(path, (int)round) != 0)
			return 1;
		survived++;
	}
	printf("kill: %ld kills survived, every file verified whole and every "
	    "value intact\n", survived);
	return 0;
}

/* Hold the lock a few milliseconds, saying so: stop mode's writer, so
 * that the parent can stop it inside the lock. */
static void
hold_lock(struct cw_l1 *l1, struct tally *t)
{
	struct timespec ts = { 0, 5000000 };

	if (cw_l1_int_lock(l1, NULL) != CW_OK)
		return;
	__atomic_store_n(&t->holding, 1, __ATOMIC_RELEASE);
	nanosleep(&ts, NULL);
	__atomic_store_n(&t->holding, 0, __ATOMIC_RELEASE);
	cw_l1_int_unlock(l1);
}

static void
child(const char *path, int p, int64_t end, int stopper, struct tally *t)
{
	struct cw_l1 *l1;
	uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(p + 1);

	if (open_file(&l1, path, NULL) != CW_OK)
		_exit(3);
	/* In stop mode process 0 is the writer that gets stopped, the
	 * other even ones write, and the odd ones only read. */
	while (mono_ns() < end) {
		if (stopper && p == 0 && rnd(&s) % 200 == 0)
			hold_lock(l1, t);
		else
			one_op(l1, &s, !stopper || p % 2 == 0,
			    !stopper || p != 0, t);
	}
	cw_l1_close(l1);
	_exit(0);
}

/* Stop process pid for 0.5 or 2.5 s, the first time for 2.5 s inside
 * the lock (longer than a writer waits for it). */
static void
stop_once(pid_t pid, uint64_t *seed, int first, struct tally *t)
{
	struct timespec ts = { 0, (long)(rnd(seed) % 200000000) };
	int64_t until = mono_ns() + 1000000000;
	int inside = first || rnd(seed) % 2 == 0;

	nanosleep(&ts, NULL);
	while (inside && !__atomic_load_n(&t->holding, __ATOMIC_ACQUIRE) &&
	    mono_ns() < until)
		;
	kill(pid, SIGSTOP);
	ts.tv_sec = first || rnd(seed) % 3 == 0 ? 2 : 0;
	ts.tv_nsec = 500000000;
	nanosleep(&ts, NULL);
	kill(pid, SIGCONT);
}

/* Run procs children for seconds, each doing random operations until
 * the time is up. A watchdog kills what has not ended 20 s after that:
 * a deadlock. */
static int
run_children(const char *path, int procs, int seconds, struct tally *t,
    int stopper)
{
	pid_t pids[MAX_PROCS];
	int64_t end = mono_ns() + (int64_t)seconds * 1000000000;
	int64_t give_up = end + 20 * (int64_t)1000000000;
	uint64_t seed = 0xfeed;
	int status, left = procs, failed = 0, stops = 0;

	for (int p = 0; p < procs; p++) {
		if ((pids[p] = fork()) < 0)
			return perror("l1torture: fork"), 1;
		if (pids[p] == 0)
			child(path, p, end, stopper, t);
	}
	while (left > 0) {
		if (stopper && mono_ns() < end)
			stop_once(pids[0], &seed, stops++ == 0, t);
		for (int p = 0; p < procs; p++) {
			if (pids[p] == 0 ||
			    waitpid(pids[p], &status, WNOHANG) != pids[p])
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "l1torture: process %d: "
				    "status %#x\n", p, status);
				failed = 1;
			}
			pids[p] = 0;
			left--;
		}
		if (left > 0 && mono_ns() > give_up) {
			fprintf(stderr, "l1torture: %d processes still running "
			    "20 s after their time: deadlock\n", left);
			for (int p = 0; p < procs; p++)
				if (pids[p] != 0) {
					kill(pids[p], SIGKILL);
					waitpid(pids[p], &status, 0);
				}
			return 1;
		}
		if (left > 0 && !(stopper && mono_ns() < end)) {
			struct timespec ts = { 0, 20000000 };

			nanosleep(&ts, NULL);
		}
	}
	if (stopper)
		printf("stop: writer stopped %d times\n", stops);
	return failed || check_file(path, -1);
}

/* threads: as mixed, but threads of one process sharing one handle, so
 * that ThreadSanitizer (make check-tsan) sees every access to the map
 * and the lock; processes each map the file apart, where it sees none. */
struct thread_arg {
	struct cw_l1 *l1;
	int64_t end;
	uint64_t seed;
	struct tally *t;
};

static void *
thread_main(void *p)
{
	struct thread_arg *a = p;

	while (mono_ns() < a->end)
		one_op(a->l1, &a->seed, 1, 1, a->t);
	return NULL;
}

static int
run_threads(const char *path, int n, int seconds, struct tally *t)
{
	pthread_t th[MAX_PROCS];
	struct thread_arg arg[MAX_PROCS];
	struct cw_l1 *l1;
	struct cw_err e;

	if (open_file(&l1, path, &e) != CW_OK) {
		fprintf(stderr, "l1torture: %s\n", e.msg);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		arg[i] = (struct thread_arg){ l1, mono_ns() +
		    (int64_t)seconds * 1000000000, 0x51ed * (uint64_t)(i + 1),
		    t };
		if (pthread_create(&th[i], NULL, thread_main, &arg[i]) != 0)
			return perror("l1torture: pthread_create"), 1;
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	cw_l1_close(l1);
	return check_file(path, -1);
}

static int
report(const char *mode, int rc, const struct tally *t)
{
	printf("%s: %llu operations, %llu reads (slowest %.1f ms, %llu over "
	    "250 ms), %llu torn, %llu lock timeouts, %llu other errors\n",
	    mode, t->ops, t->reads, (double)t->max_read_ns / 1e6,
	    t->slow_reads, t->torn, t->timeouts, t->errors);
	if (t->torn > 0)
		fprintf(stderr, "l1torture: %s: %llu torn values read\n", mode,
		    t->torn);
	return rc != 0 || t->torn > 0;
}

static void
usage(void)
{
	fputs("usage: l1torture kill DIR KILLS | mixed DIR PROCS SECONDS | "
	    "threads DIR THREADS SECONDS | stop DIR SECONDS\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct tally *t;
	int rc;

	if (argc < 4)
		usage();
	snprintf(path, sizeof(path), "%s/torture.l1", argv[2]);
	unlink(path);
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return perror("l1torture: mmap"), 1;
	if (strcmp(argv[1], "kill") == 0)
		return run_kill(path, atol(argv[3])) != 0;
	if (strcmp(argv[1], "mixed") == 0 && argc == 5) {
		int procs = atoi(argv[3]);

		if (procs < 1 || procs > MAX_PROCS)
			usage();
		rc = run_children(path, procs, atoi(argv[4]), t, 0);
		return report("mixed", rc, t);
	}
	if (strcmp(argv[1], "threads") == 0 && argc == 5) {
		int n = atoi(argv[3]);

		if (n < 1 || n > MAX_PROCS)
			usage();
		rc = run_threads(path, n, atoi(argv[4]), t);
		return report("threads", rc, t);
	}
	if (strcmp(argv[1], "stop") == 0) {
		rc = run_children(path, 4, atoi(argv[3]), t, 1);
		/* Readers never wait on a writer, stopped or not. */
		if (t->slow_reads > 0)
			fprintf(stderr, "l1torture: stop: %llu reads took over "
			    "250 ms\n", t->slow_reads);
		/* A writer stopped inside the lock for longer than the
		 * wait: the others must have been told, not have hung. */
		if (t->timeouts == 0)
			fprintf(stderr, "l1torture: stop: no writer saw the "
			    "stopped lock time out\n");
		return report("stop", rc, t) || t->slow_reads > 0 ||
		    t->timeouts == 0;
	}
	usage();
	return 2;
}
