/*
 * adaptsim: a design study for issue 19 (eviction that adapts), in
 * simulation, before anything goes into the L1 file. It replays traces
 * through the L1's S3-FIFO with other splits, through a "freeze" variant
 * for loops larger than the cache (bench/refcache.h, struct s3sim), and
 * through a selector that picks among them while the trace runs.
 *
 * usage: adaptsim [--sizes PCT,...] [--rate R] [--epoch E] [--decay D]
 *                 [--margin M] [--freeze-margin M] [--mini-max N]
 *                 [--among I,...] TRACE.csv...
 *
 * The selector is a miniature simulation (Waldspurger et al., ATC '17):
 * every variant also runs as a small cache over a spatial sample of the
 * keys (those whose hash falls below R; the sample at least 200 entries
 * of cache), each counting its misses. Every E times its capacity in
 * sampled requests, the counts are decayed by D, and the real cache
 * takes the parameters of the variant with the fewest, if it beats the
 * current one by more than a share M (or by a hundredth, to go back to
 * the first variant, the default), once the miniature caches are full
 * (a cache filling up says nothing of how it evicts); a freezing
 * variant by --freeze-margin's share if given. --mini-max N sizes the
 * miniatures as the L1 does (the cache's entries halved until at most
 * N, the sample their share of the keys) instead of by R. --among
 * names the variants it chooses from (their columns, counted from 0;
 * all by default), the first the one it starts with. It needs no knob
 * of the trace's: each variant is judged on the same requests, at the
 * same moment, so a shift of the workload moves the choice within a few
 * epochs.
 *
 * Why simulate first: the L1's readers are lock-free and write nothing
 * but a slot's access count, so the miniature caches would have to be
 * fed from a ring of sampled hits that readers append to; that, its
 * memory in the file, and its crash safety are worth building only for
 * a selector that earns them. The L1's own policy is the 15%/140%
 * variant here (within 0.002 of bench/evict's L1 column).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "refcache.h"
#include "trace_int.h"

#define BEST_SLACK 0.005
#define MINI_MIN 200	/* entries of a miniature cache at the least */

static const struct variant {
	const char *name;
	double small, ghost;
	int freeze;
} variants[] = {
	{ "L1 15/140", 0.15, 1.40, 0 },	/* the L1 today */
	{ "10/90", 0.10, 0.90, 0 },	/* libCacheSim's S3-FIFO */
	{ "5/90", 0.05, 0.90, 0 },
	{ "30/140", 0.30, 1.40, 0 },
	{ "freeze 1%", 0.01, 1.40, 1 },
	{ "freeze 5%", 0.05, 1.40, 1 },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

struct selector_opts {
	double rate, epoch, decay, margin, freeze_margin;
	size_t mini_max;	/* as the L1 sizes its miniatures, if not 0 */
	size_t among[NVARIANTS], namong;
};

/* A key's place in [0, 1): the spatial sample is the keys below rate. */
static double
key_point(uint32_t id)
{
	uint64_t x = id + 0x9e3779b97f4a7c15ULL;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (double)(x >> 11) / 9007199254740992.0;
}

static void
tune(struct s3sim *c, const struct variant *v)
{
	s3sim_tune(c, v->small, v->ghost, v->freeze);
}

/* The selector's miss ratio, and how often it switched. */
static double
selector(const uint32_t *req, size_t n, size_t ids, size_t cap,
    const struct selector_opts *o, size_t *switches)
{
	struct s3sim real, mini[NVARIANTS];
	double score[NVARIANTS] = { 0 }, rate = o->rate;
	size_t last[NVARIANTS] = { 0 }, cur = o->among[0], sampled = 0;
	size_t mini_cap, epoch;
	double miss;

	if (o->mini_max > 0) {
		/* The L1's rule: the cache's entries halved until they fit
		 * in a miniature, and the sample the same share of keys. */
		size_t m = cap;

		while (m > o->mini_max)
			m >>= 1;
		rate = (double)m / (double)cap;
	} else if ((double)cap * rate < MINI_MIN)
		rate = (double)MINI_MIN / (double)cap < 1 ?
		    (double)MINI_MIN / (double)cap : 1;
	mini_cap = (size_t)((double)cap * rate);
	if (mini_cap < 2)
		mini_cap = 2;
	epoch = (size_t)(o->epoch * (double)mini_cap) + 1;
	*switches = 0;
	s3sim_init(&real, ids, cap, 0, 0, 0);
	tune(&real, &variants[cur]);
	for (size_t v = 0; v < NVARIANTS; v++) {
		s3sim_init(&mini[v], ids, mini_cap, 0, 0, 0);
		tune(&mini[v], &variants[v]);
	}
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];
		size_t best = cur;

		s3sim_access(&real, x);
		if (rate < 1 && key_point(req[i]) >= rate)
			continue;
		for (size_t v = 0; v < NVARIANTS; v++)
			s3sim_access(&mini[v], x);
		if (++sampled % epoch != 0)
			continue;
		/* A cache filling up says nothing of how it evicts. */
		if (mini[o->among[0]].small.n + mini[o->among[0]].main_q.n <
		    mini_cap) {
			for (size_t v = 0; v < NVARIANTS; v++)
				last[v] = mini[v].misses;
			continue;
		}
		for (size_t v = 0; v < NVARIANTS; v++) {
			score[v] = score[v] * o->decay +
			    (double)(mini[v].misses - last[v]);
			last[v] = mini[v].misses;
		}
		for (size_t k = 0; k < o->namong; k++) {
			size_t v = o->among[k];
			/* Away from the first (the default) takes the margin
			 * (a freezing variant its own), back to it a
			 * hundredth. */
			double m = v == o->among[0] ? 0.01 :
			    variants[v].freeze ? o->freeze_margin : o->margin;

			if (score[v] < score[best] * (1 - m))
				best = v;
		}
		if (best != cur) {
			cur = best;
			tune(&real, &variants[cur]);
			(*switches)++;
		}
	}
	miss = (double)real.misses / (double)n;
	for (size_t v = 0; v < NVARIANTS; v++)
		s3sim_free(&mini[v]);
	s3sim_free(&real);
	return miss;
}

static void
usage(void)
{
	fprintf(stderr, "usage: adaptsim [--sizes PCT,...] [--rate R] "
	    "[--epoch E] [--decay D] [--margin M] [--freeze-margin M] "
	    "[--mini-max N] [--among I,...] TRACE.csv...\n");
	exit(64);
}

static double
number(const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

int
main(int argc, char *argv[])
{
	struct selector_opts o = { .rate = 0.1, .epoch = 0.5, .decay = 0.8,
	    .margin = 0.01, .freeze_margin = -1, .namong = NVARIANTS };
	double pcts[8] = { 1, 10 };
	int npct = 2, a = 1, rows = 0, below_s3 = 0, near_best = 0;

	for (; a + 1 < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
		if (strcmp(argv[a], "--sizes") == 0) {
			char *s = argv[a + 1], *end;

			for (npct = 0; *s != '\0' && npct < 8; npct++) {
				pcts[npct] = strtod(s, &end);
				if (end == s || pcts[npct] <= 0 ||
				    pcts[npct] > 100)
					usage();
				s = *end == ',' ? end + 1 : end;
			}
		} else if (strcmp(argv[a], "--rate") == 0)
			o.rate = number(argv[a + 1], 0.001, 1);
		else if (strcmp(argv[a], "--epoch") == 0)
			o.epoch = number(argv[a + 1], 0.01, 100);
		else if (strcmp(argv[a], "--decay") == 0)
			o.decay = number(argv[a + 1], 0, 1);
		else if (strcmp(argv[a], "--margin") == 0)
			o.margin = number(argv[a + 1], 0, 0.5);
		else if (strcmp(argv[a], "--freeze-margin") == 0)
			o.freeze_margin = number(argv[a + 1], 0, 0.5);
		else if (strcmp(argv[a], "--mini-max") == 0)
			o.mini_max = (size_t)number(argv[a + 1], 2, 1 << 24);
		else if (strcmp(argv[a], "--among") == 0) {
			char *s = argv[a + 1], *end;

			for (o.namong = 0; *s != '\0' && o.namong < NVARIANTS;
			    o.namong++) {
				unsigned long v = strtoul(s, &end, 10);

				if (end == s || v >= NVARIANTS)
					usage();
				o.among[o.namong] = v;
				s = *end == ',' ? end + 1 : end;
			}
			if (o.namong == 0 || *s != '\0')
				usage();
		}
		else
			usage();
	}
	if (a >= argc)
		usage();
	if (o.freeze_margin < 0)
		o.freeze_margin = o.margin;
	for (size_t v = 0; v < NVARIANTS && o.namong == NVARIANTS; v++)
		o.among[v] = v;
	printf("| trace | size | entries | S3-FIFO | best online |");
	for (size_t v = 0; v < NVARIANTS; v++)
		printf(" %s |", variants[v].name);
	printf(" selector | - S3-FIFO | - best | switches |\n|---|---|---|---|---|");
	for (size_t v = 0; v < NVARIANTS + 4; v++)
		printf("---|");
	printf("\n");
	for (; a < argc; a++) {
		struct cw_trace *t;
		struct cw_err e;
		const char *base = strrchr(argv[a], '/');

		if (cw_trace_load(&t, argv[a], &e) != CW_OK) {
			fprintf(stderr, "adaptsim: %s\n", e.msg);
			return 66;
		}
		base = base != NULL ? base + 1 : argv[a];
		for (int p = 0; p < npct; p++) {
			const uint32_t *req = cw_trace_ids(t);
			size_t n = cw_trace_len(t), ids = cw_trace_keys(t);
			size_t cap = (size_t)((double)ids * pcts[p] / 100);
			uint64_t lru_hits, belady_hits;
			const char *best_name = "LRU";
			double best, s3 = 2, sel;
			size_t switches;

			if (cap < 2)
				cap = 2;
			if (cw_trace_offline(t, cap, &lru_hits, &belady_hits,
			    &e) != CW_OK) {
				fprintf(stderr, "adaptsim: %s\n", e.msg);
				return 71;
			}
			best = 1 - (double)lru_hits / (double)n;
			for (size_t r = 0; r < REF_POLICIES; r++) {
				double m = ref_policies[r].run(req, n, ids, cap);

				if (strcmp(ref_policies[r].name, "S3-FIFO") == 0)
					s3 = m;
				if (m < best) {
					best = m;
					best_name = ref_policies[r].name;
				}
			}
			printf("| %.*s | %g%% | %zu | %.4f | %.4f (%s) |",
			    (int)strcspn(base, "."), base, pcts[p], cap, s3,
			    best, best_name);
			for (size_t v = 0; v < NVARIANTS; v++)
				printf(" %.4f |", s3sim_run(req, n, ids, cap,
				    variants[v].small, variants[v].ghost,
				    variants[v].freeze));
			sel = selector(req, n, ids, cap, &o, &switches);
			rows++;
			below_s3 += sel <= s3 + 0.00005;
			near_best += sel <= best + BEST_SLACK;
			printf(" **%.4f** | %+.4f | %+.4f | %zu |\n", sel,
			    sel - s3, sel - best, switches);
			fflush(stdout);
		}
		cw_trace_free(t);
	}
	printf("adaptsim_rows %d at_or_below_s3fifo %d within_%.3f_of_best "
	    "%d\n", rows, below_s3, BEST_SLACK, near_best);
	return 0;
}
