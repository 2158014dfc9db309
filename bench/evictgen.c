/*
 * evictgen: synthetic cache traces of the shapes that tell eviction
 * policies apart, for bench/evict. Deterministic: the same options give
 * the same bytes.
 *
 * usage: evictgen [--shape SHAPE] [--keys N] [--requests N] [--zipf A]
 *                 [--loop N] [--share F] [--seed S]
 *
 * Every shape mixes its pattern (a share F of the requests) with a Zipf
 * background of exponent A over N keys:
 *   zipf   the background alone;
 *   loop   the same --loop keys read in order, over and over (a batch job
 *          sweeping a working set; at F = 1 a pure loop);
 *   scan   runs of --loop keys in a row, never read before or again
 *          (one-off sweeps), between runs of background requests, the
 *          runs taking the share F of the trace;
 *   burst  recency-heavy: a stream of new keys, each read again a few
 *          times shortly after its first read (bursts around an open),
 *          the k-th most recent one chosen with probability falling
 *          geometrically in k;
 *   shift  phases of N requests that alternate between the burst shape
 *          and the background alone, to see a policy adapt and come back.
 *
 * The output is CSV `ts,key,size`, ts the request's index, size 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum shape { ZIPF, LOOP, SCAN, BURST, SHIFT };

static const char *const shape_names[] = { "zipf", "loop", "scan", "burst",
    "shift" };

struct gen {
	uint64_t rng;
	double *cdf;		/* the background's cumulative weights */
	uint64_t keys, loop, pos, fresh;
};

/* splitmix64: small, fast, and the same on every machine. */
static uint64_t
next_u64(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
uniform(struct gen *g)
{
	return (double)(next_u64(g) >> 11) / 9007199254740992.0;
}

static uint64_t
zipf_rank(struct gen *g)
{
	double u = uniform(g) * g->cdf[g->keys - 1];
	uint64_t lo = 0, hi = g->keys - 1;

	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;

		if (g->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The background's keys are scattered over names, so that the hottest
 * are not also the lowest numbers (no policy may lean on key order). */
static void
emit_background(struct gen *g, uint64_t ts)
{
	uint64_t r = zipf_rank(g);

	printf("%llu,z%llu,1\n", (unsigned long long)ts,
	    (unsigned long long)((r * 2654435761ull) % (g->keys * 7 + 1)));
}

static void
emit_burst(struct gen *g, uint64_t ts)
{
	/* A new key one time in four; otherwise one of the recent ones,
	 * k back with probability halving every 8 keys. */
	uint64_t back = 0;

	if (g->fresh == 0 || uniform(g) < 0.25) {
		back = 0;
		g->fresh++;
	} else {
		back = (uint64_t)(-8.0 / log(2.0) * log(1.0 - uniform(g)));
		if (back >= g->fresh)
			back = g->fresh - 1;
	}
	printf("%llu,b%llu,1\n", (unsigned long long)ts,
	    (unsigned long long)(g->fresh - 1 - back));
}

static void
usage(void)
{
	fprintf(stderr, "usage: evictgen [--shape zipf|loop|scan|burst|shift] "
	    "[--keys N] [--requests N] [--zipf A] [--loop N] [--share F] "
	    "[--seed S]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct gen g = { 0 };
	enum shape shape = ZIPF;
	uint64_t requests = 1000000;
	double alpha = 0.8, share = 0.5;
	int a;

	g.keys = 100000;
	g.loop = 15000;
	g.rng = 1;
	for (a = 1; a + 1 < argc; a += 2) {
		const char *o = argv[a], *v = argv[a + 1];

		if (strcmp(o, "--shape") == 0) {
			size_t s;

			for (s = 0; s < 5 && strcmp(v, shape_names[s]) != 0; s++)
				;
			if (s == 5)
				usage();
			shape = (enum shape)s;
		} else if (strcmp(o, "--keys") == 0) {
			g.keys = strtoull(v, NULL, 10);
		} else if (strcmp(o, "--requests") == 0) {
			requests = strtoull(v, NULL, 10);
		} else if (strcmp(o, "--zipf") == 0) {
			alpha = strtod(v, NULL);
		} else if (strcmp(o, "--loop") == 0) {
			g.loop = strtoull(v, NULL, 10);
		} else if (strcmp(o, "--share") == 0) {
			share = strtod(v, NULL);
		} else if (strcmp(o, "--seed") == 0) {
			g.rng = strtoull(v, NULL, 10);
		} else {
			usage();
		}
	}
	if (a != argc || g.keys < 1 || g.loop < 1 || requests < 1 ||
	    share < 0 || share > 1 || alpha < 0)
		usage();
	g.cdf = malloc(g.keys * sizeof(*g.cdf));
	for (uint64_t k = 0; k < g.keys; k++)
		g.cdf[k] = (k > 0 ? g.cdf[k - 1] : 0) + pow((double)(k + 1),
		    -alpha);
	printf("ts,key,size\n");
	for (uint64_t ts = 0; ts < requests; ts++) {
		enum shape now = shape;

		if (shape == SHIFT)
			now = (ts / g.keys) % 2 == 0 ? BURST : ZIPF;
		if (now == SCAN) {
			uint64_t period = (uint64_t)((double)g.loop / share);

			if (share > 0 && ts % period < g.loop)
				printf("%llu,s%llu,1\n", (unsigned long long)ts,
				    (unsigned long long)g.pos++);
			else
				emit_background(&g, ts);
		} else if (now == ZIPF || uniform(&g) >= share) {
			emit_background(&g, ts);
		} else if (now == LOOP) {
			printf("%llu,l%llu,1\n", (unsigned long long)ts,
			    (unsigned long long)(g.pos++ % g.loop));
		} else {
			emit_burst(&g, ts);
		}
	}
	free(g.cdf);
	return fflush(stdout) != 0;
}
