/*
 * l1get: how fast an L1 hit is, next to the floor, in one run.
 *
 * usage: l1get [DIR]
 *
 * 100k entries of 100-byte values, looked up in a fixed random order,
 * one cw_l1_get at a time and through cw_l1_get_batch. The floor is the
 * least a hash lookup can do: a private open-addressing table (same hash,
 * same key compare, same value copy) in this process's own memory,
 * without sharing, checksums, expiry or counters. Then two processes look
 * up at once on one L1 file, to show readers do not serialise. Prints
 * medians of several runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "timing.h"
#include "hash_int.h"
#include "l1_int.h"

#define ENTRIES 100000
#define VALUE 100
#define LOOKUPS 2000000
#define RUNS 7

struct floor_entry {
	uint64_t hash;
	char key[24];
	char value[VALUE];
};

/* Keys are made once, so the runs time lookups, not snprintf. */
static char (*keys)[24];

static void
key_of(char *k, int i)
{
	snprintf(k, 24, "bench:%08d", i);
}

/* ns per lookup through the floor table. */
static double
floor_run(struct floor_entry *t, size_t mask, const int *order, char *out)
{
	double t0 = now_s();
	size_t found = 0;

	for (int n = 0; n < LOOKUPS; n++) {
		const char *k = keys[order[n]];
		uint64_t h;
		size_t i;

		h = cw_hash(k, strlen(k));
		for (i = h & mask; t[i].hash != 0; i = (i + 1) & mask)
			if (t[i].hash == h && strcmp(t[i].key, k) == 0) {
				memcpy(out, t[i].value, VALUE);
				found++;
				break;
			}
	}
	if (found != LOOKUPS)
		abort();
	return (now_s() - t0) * 1e9 / LOOKUPS;
}

/* The same keys through cw_l1_get_batch, BATCH at a time, as cw-get's
 * batches (lib/hier.c) look keys up: this is the figure for batches. */
#define BATCH 128

static double
l1_run_batched(struct cw_l1 *l1, const int *order, struct cw_buf *bufs,
    int lookups)
{
	struct cw_l1_lookup q[BATCH];
	double t0 = now_s();

	for (int n = 0; n < lookups; n += BATCH) {
		for (int k = 0; k < BATCH; k++) {
			q[k].key = keys[order[(n + k) % LOOKUPS]];
			q[k].klen = strlen(q[k].key);
			q[k].val = &bufs[k];
		}
		cw_l1_get_batch(l1, q, BATCH);
		for (int k = 0; k < BATCH; k++)
			if (q[k].rc != CW_OK || bufs[k].len != VALUE)
				abort();
	}
	return (now_s() - t0) * 1e9 / lookups;
}

static double
l1_run(struct cw_l1 *l1, const int *order, struct cw_buf *b, int lookups)
{
	double t0 = now_s();

	for (int n = 0; n < lookups; n++) {
		const char *k = keys[order[n % LOOKUPS]];

		if (cw_l1_get(l1, k, strlen(k), b, NULL, NULL) != CW_OK ||
		    b->len != VALUE)
			abort();
	}
	return (now_s() - t0) * 1e9 / lookups;
}

/* Gets per second of two processes looking up at once, or -1. */
static double
two_processes(struct cw_l1 *l1, const int *order, struct cw_buf *b)
{
	int pipes[2][2];
	double rate = 0;
	pid_t pid[2];

	for (int p = 0; p < 2; p++) {
		if (pipe(pipes[p]) != 0)
			return -1;
		if ((pid[p] = fork()) == 0) {
			double ns = l1_run(l1, order, b, LOOKUPS);

			if (write(pipes[p][1], &ns, sizeof(ns)) < 0)
				_exit(1);
			_exit(0);
		}
	}
	for (int p = 0; p < 2; p++) {
		double ns;

		if (read(pipes[p][0], &ns, sizeof(ns)) != sizeof(ns))
			return -1;
		rate += 1e9 / ns;
		waitpid(pid[p], NULL, 0);
		close(pipes[p][0]);
		close(pipes[p][1]);
	}
	return rate;
}

int
main(int argc, char *argv[])
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[512], k[24], value[VALUE], out[VALUE];
	size_t slots = 1 << 18;
	struct floor_entry *t = calloc(slots, sizeof(*t));
	int *order = malloc(LOOKUPS * sizeof(*order));
	double fl[RUNS], l1r[RUNS], l1b[RUNS], one[RUNS], two[RUNS];
	struct cw_buf b = { 0 }, bufs[BATCH] = { { 0 } };
	struct cw_l1 *l1;
	struct cw_err e;
	uint64_t seed = 42;
	struct cw_l1_opts o = {
		.path = path, .max_entries = ENTRIES + ENTRIES / 8,
		.max_bytes = 64 << 20, .mode = 0600,
		.clock = cw_clock_system(),
	};

	snprintf(path, sizeof(path), "%s/l1get.%d", dir, (int)getpid());
	if (cw_l1_open(&l1, &o, &e) != CW_OK) {
		fprintf(stderr, "l1get: %s\n", e.msg);
		return 74;
	}
	memset(value, 'v', sizeof(value));
	keys = malloc(ENTRIES * sizeof(*keys));
	for (int i = 0; i < ENTRIES; i++)
		key_of(keys[i], i);
	for (int i = 0; i < ENTRIES; i++) {
		uint64_t h;
		size_t s;

		key_of(k, i);
		/* Warmed, as cw-warm would: demand fills start on
		 * probation, and 100k unread ones would not all stay. */
		if (cw_l1_set(l1, k, strlen(k), value, VALUE, 3600000,
		    CW_L1_WARM, &e) != CW_OK) {
			fprintf(stderr, "l1get: %s\n", e.msg);
			return 74;
		}
		h = cw_hash(k, strlen(k));
		for (s = h & (slots - 1); t[s].hash != 0; s = (s + 1) &
		    (slots - 1))
			;
		t[s].hash = h;
		strcpy(t[s].key, k);
		memcpy(t[s].value, value, VALUE);
	}
	for (int n = 0; n < LOOKUPS; n++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		order[n] = (int)(seed % ENTRIES);
	}
	l1_run(l1, order, &b, LOOKUPS);	/* warm the page cache */
	for (int r = 0; r < RUNS; r++) {
		fl[r] = floor_run(t, slots - 1, order, out);
		l1r[r] = l1_run(l1, order, &b, LOOKUPS);
		l1b[r] = l1_run_batched(l1, order, bufs, LOOKUPS);
	}
	printf("l1_get_ns %.1f\nl1_get_batch_ns %.1f\nfloor_ns %.1f\n"
	    "l1_over_floor %.2f\nl1_batch_over_floor %.2f\n",
	    median(l1r, RUNS), median(l1b, RUNS), median(fl, RUNS),
	    median(l1r, RUNS) / median(fl, RUNS),
	    median(l1b, RUNS) / median(fl, RUNS));

	/* One process alone, then two at once, same work each; RUNS rounds
	 * of both, interleaved, so that a neighbour taking the second core
	 * for a while shows as one bad round, not as the figure. */
	for (int r = 0; r < RUNS; r++) {
		one[r] = 1e9 / l1_run(l1, order, &b, LOOKUPS);
		if ((two[r] = two_processes(l1, order, &b)) < 0)
			return 71;
	}
	printf("one_process_gets_per_s %.0f\ntwo_process_gets_per_s %.0f\n"
	    "two_over_one %.2f\n", median(one, RUNS), median(two, RUNS),
	    median(two, RUNS) / median(one, RUNS));
	cw_l1_close(l1);
	unlink(path);
	cw_buf_free(&b);
	for (int k = 0; k < BATCH; k++)
		cw_buf_free(&bufs[k]);
	free(t);
	free(order);
	free(keys);
	return 0;
}
