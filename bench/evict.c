/*
 * evict: replay real cache traces through the L1 file and print miss
 * ratios, next to an LRU replayed in the same run and libCacheSim's
 * published figures for the same traces and sizes.
 *
 * usage: evict TRACE.csv...
 *
 * Capacity is counted in entries (1% and 10% of the trace's distinct
 * keys); object sizes are ignored, as in the libCacheSim figures. Every
 * request is a get; a miss is followed by a set, as a cache-aside reader
 * would do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"

struct trace {
	char **keys;
	size_t n, distinct;
};

/* libCacheSim (commit aa0fc40) miss ratios: LRU, S3-FIFO. */
static const struct {
	const char *name;
	double pct;
	double lru, s3fifo, belady;
} published[] = {
	{ "cache2k_web12", 1, .6030, .5900, .4154 },
	{ "cache2k_web12", 10, .3152, .2775, .1997 },
	{ "cache2k_orm_busy_1m", 1, .3612, .3473, .2267 },
	{ "cache2k_orm_busy_1m", 10, .1420, .1307, .0869 },
	{ "cloudphysics_io", 1, .8380, .8304, .7927 },
	{ "cloudphysics_io", 10, .8049, .7525, .6290 },
};

/* ---- a plain LRU for the same-run reference ---- */

struct lru_node {
	const char *key;
	struct lru_node *prev, *next, *chain;
};

struct lru {
	struct lru_node **table, *nodes, head;
	size_t nbuckets, cap, used;
};

static size_t
hash_str(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int
lru_access(struct lru *c, const char *key)
{
	size_t b = hash_str(key) & (c->nbuckets - 1);
	struct lru_node *n, **pp;

	for (n = c->table[b]; n != NULL; n = n->chain)
		if (strcmp(n->key, key) == 0) {
			n->prev->next = n->next;
			n->next->prev = n->prev;
			goto front;
		}
	if (c->used < c->cap) {
		n = &c->nodes[c->used++];
	} else {
		n = c->head.prev;	/* least recently used */
		n->prev->next = &c->head;
		c->head.prev = n->prev;
		pp = &c->table[hash_str(n->key) & (c->nbuckets - 1)];
		while (*pp != n)
			pp = &(*pp)->chain;
		*pp = n->chain;
	}
	n->key = key;
	n->chain = c->table[b];
	c->table[b] = n;
	n->next = NULL;
	if (0) {
front:
		;
	}
	n->next = c->head.next;
	n->prev = &c->head;
	c->head.next->prev = n;
	c->head.next = n;
	return n->chain != NULL || 1 ? 0 : 0;
}

static double
lru_miss_ratio(const struct trace *t, size_t cap)
{
	struct lru c = { 0 };
	size_t misses = 0;

	c.nbuckets = 1;
	while (c.nbuckets < 2 * cap)
		c.nbuckets <<= 1;
	c.table = calloc(c.nbuckets, sizeof(*c.table));
	c.nodes = calloc(cap, sizeof(*c.nodes));
	c.cap = cap;
	c.head.next = c.head.prev = &c.head;
	for (size_t i = 0; i < t->n; i++) {
		size_t b = hash_str(t->keys[i]) & (c.nbuckets - 1);
		struct lru_node *n;
		int hit = 0;

		for (n = c.table[b]; n != NULL; n = n->chain)
			if (strcmp(n->key, t->keys[i]) == 0)
				hit = 1;
		misses += !hit;
		lru_access(&c, t->keys[i]);
	}
	free(c.table);
	free(c.nodes);
	return (double)misses / (double)t->n;
}

/* ---- the L1 replay ---- */

static double
l1_miss_ratio(const struct trace *t, size_t cap, const char *dir)
{
	char path[512];
	int64_t now = 1704067200LL * 1000000000;
	struct cw_l1_opts o = {
		.path = path, .max_entries = cap,
		.max_bytes = cap * 1024 + (1 << 20), .mode = 0600,
		.clock = cw_clock_manual(&now),
	};
	struct cw_l1 *l1;
	struct cw_buf b = { 0 };
	struct cw_err e;
	size_t misses = 0;

	snprintf(path, sizeof(path), "%s/evict-%zu", dir, cap);
	unlink(path);
	if (cw_l1_open(&l1, &o, &e) != CW_OK) {
		fprintf(stderr, "evict: %s\n", e.msg);
		exit(74);
	}
	for (size_t i = 0; i < t->n; i++) {
		const char *k = t->keys[i];
		size_t kl = strlen(k);

		now += 1000;	/* nothing expires during a replay */
		if (cw_l1_get(l1, k, kl, &b, NULL, NULL) == CW_OK)
			continue;
		misses++;
		cw_l1_set(l1, k, kl, "v", 1, 86400000LL * 365, 0, NULL);
	}
	cw_l1_close(l1);
	unlink(path);
	cw_buf_free(&b);
	return (double)misses / (double)t->n;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load(const char *file, struct trace *t)
{
	FILE *f = fopen(file, "r");
	char line[256], **sorted;
	size_t cap = 1 << 16;

	if (f == NULL) {
		perror(file);
		exit(74);
	}
	t->keys = malloc(cap * sizeof(*t->keys));
	t->n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k = strchr(line, ','), *end;

		if (k == NULL || strncmp(line, "ts,", 3) == 0)
			continue;
		k++;
		end = strchr(k, ',');
		if (end != NULL)
			*end = '\0';
		if (t->n == cap)
			t->keys = realloc(t->keys, (cap *= 2) * sizeof(char *));
		t->keys[t->n++] = strdup(k);
	}
	fclose(f);
	sorted = malloc(t->n * sizeof(*sorted));
	memcpy(sorted, t->keys, t->n * sizeof(*sorted));
	qsort(sorted, t->n, sizeof(*sorted), cmp_str);
	t->distinct = t->n > 0;
	for (size_t i = 1; i < t->n; i++)
		t->distinct += strcmp(sorted[i], sorted[i - 1]) != 0;
	free(sorted);
}

int
main(int argc, char *argv[])
{
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	int worse = 0;

	printf("| trace | L1 size | entries | LRU (this run) | cachewarm L1 | "
	    "L1/LRU | LRU (libCacheSim) | S3-FIFO target | Belady | "
	    "meets target |\n|---|---|---|---|---|---|---|---|---|---|\n");
	for (int a = 1; a < argc; a++) {
		struct trace t;
		const char *base = strrchr(argv[a], '/');
		char name[128];

		base = base != NULL ? base + 1 : argv[a];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(base, "."),
		    base);
		load(argv[a], &t);
		for (size_t p = 0; p < sizeof(published) / sizeof(published[0]);
		    p++) {
			size_t cap;
			double lru, l1;
			int ok;

			if (strcmp(published[p].name, name) != 0)
				continue;
			cap = (size_t)((double)t.distinct * published[p].pct /
			    100);
			lru = lru_miss_ratio(&t, cap);
			l1 = l1_miss_ratio(&t, cap, dir);
			ok = l1 <= published[p].s3fifo + 0.00005 &&
			    l1 < published[p].lru;
			worse += !ok;
			printf("| %s | %.0f%% | %zu | %.4f | %.4f | %.3f | "
			    "%.4f | %.4f | %.4f | %s |\n", name,
			    published[p].pct, cap, lru, l1, l1 / lru,
			    published[p].lru, published[p].s3fifo,
			    published[p].belady, ok ? "yes" : "NO");
			fflush(stdout);
		}
		for (size_t i = 0; i < t.n; i++)
			free(t.keys[i]);
		free(t.keys);
	}
	return worse > 0;
}
