/*
 * refcache.h: the reference eviction policies bench/evict replays beside
 * the L1, written here from their papers so that every row is measured
 * in one run on the same requests: FIFO, CLOCK, SIEVE, S3-FIFO, ARC,
 * LIRS, W-TinyLFU and LeCaR. LRU and Belady's MIN are the library's own
 * (cw_trace_offline, which cw-bench replay reports too).
 *
 * A trace is a sequence of dense ids (0..distinct-1); capacity counts
 * entries, at least 2. Every request is a get, a miss is followed by an
 * insert (the cache-aside reader). Each policy returns its miss ratio.
 * Parameters are the ones the papers and libCacheSim use by default;
 * they are named where they are set.
 */
#ifndef CW_BENCH_REFCACHE_H
#define CW_BENCH_REFCACHE_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- a doubly linked list over ids: head is the newest ---- */

#define RL_OUT (-2)	/* prev[] of an id that is not in the list */

struct rlist {
	int32_t *prev, *next;	/* next goes toward the tail */
	int32_t head, tail;
	size_t n;
};

static void
rl_init(struct rlist *l, size_t ids)
{
	l->prev = malloc((ids + 1) * sizeof(*l->prev));
	l->next = malloc((ids + 1) * sizeof(*l->next));
	for (size_t i = 0; i < ids; i++)
		l->prev[i] = RL_OUT;
	l->head = l->tail = -1;
	l->n = 0;
}

static void
rl_free(struct rlist *l)
{
	free(l->prev);
	free(l->next);
}

static int
rl_has(const struct rlist *l, int32_t id)
{
	return l->prev[id] != RL_OUT;
}

static void
rl_push_head(struct rlist *l, int32_t id)
{
	l->prev[id] = -1;
	l->next[id] = l->head;
	if (l->head >= 0)
		l->prev[l->head] = id;
	else
		l->tail = id;
	l->head = id;
	l->n++;
}

static void
rl_remove(struct rlist *l, int32_t id)
{
	int32_t p = l->prev[id], nx = l->next[id];

	if (p >= 0)
		l->next[p] = nx;
	else
		l->head = nx;
	if (nx >= 0)
		l->prev[nx] = p;
	else
		l->tail = p;
	l->prev[id] = RL_OUT;
	l->n--;
}

static int32_t
rl_pop_tail(struct rlist *l)
{
	int32_t t = l->tail;

	if (t >= 0)
		rl_remove(l, t);
	return t;
}

static void
rl_to_head(struct rlist *l, int32_t id)
{
	rl_remove(l, id);
	rl_push_head(l, id);
}

/* ---- FIFO, CLOCK ---- */

static double
ref_fifo(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	struct rlist l;
	size_t miss = 0;

	rl_init(&l, ids);
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];

		if (rl_has(&l, x))
			continue;
		miss++;
		if (l.n >= cap)
			rl_pop_tail(&l);
		rl_push_head(&l, x);
	}
	rl_free(&l);
	return (double)miss / (double)n;
}

/* CLOCK with one reference bit: a referenced tail goes round again. */
static double
ref_clock(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	struct rlist l;
	uint8_t *ref = calloc(ids, 1);
	size_t miss = 0;

	rl_init(&l, ids);
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];

		if (rl_has(&l, x)) {
			ref[x] = 1;
			continue;
		}
		miss++;
		while (l.n >= cap) {
			int32_t t = rl_pop_tail(&l);

			if (!ref[t])
				break;
			ref[t] = 0;
			rl_push_head(&l, t);
		}
		ref[x] = 0;
		rl_push_head(&l, x);
	}
	rl_free(&l);
	free(ref);
	return (double)miss / (double)n;
}

/* SIEVE (NSDI '24): FIFO order, a hand walking from the tail toward the
 * head that spares visited objects without moving them. */
static double
ref_sieve(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	struct rlist l;
	uint8_t *visited = calloc(ids, 1);
	int32_t hand = -1;
	size_t miss = 0;

	rl_init(&l, ids);
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];

		if (rl_has(&l, x)) {
			visited[x] = 1;
			continue;
		}
		miss++;
		if (l.n >= cap) {
			int32_t o = hand >= 0 ? hand : l.tail;

			while (visited[o]) {
				visited[o] = 0;
				o = l.prev[o] >= 0 ? l.prev[o] : l.tail;
			}
			hand = l.prev[o];
			rl_remove(&l, o);
		}
		visited[x] = 0;
		rl_push_head(&l, x);
	}
	rl_free(&l);
	free(visited);
	return (double)miss / (double)n;
}

/* ---- S3-FIFO (SOSP '23) ---- */

/*
 * S3-FIFO as a cache that can be driven a request at a time, with its
 * parameters in the open and changeable between requests: the reference
 * column runs it with libCacheSim's defaults (ref_s3fifo), bench/adaptsim
 * runs the L1's variants of it and switches between them.
 *
 * freeze is a variant for loops larger than the cache (bench/adaptsim):
 * what small evicts goes to main while main is below its share, read or
 * not, and once main is full a key the ghost remembers goes back to
 * small instead of main. Main then keeps the part of a loop that fits
 * and hits on it every pass; only small churns.
 */
#define S3_SMALL_RATIO 0.10
#define S3_GHOST_RATIO 0.90
#define S3_MOVE_THRESHOLD 2	/* reads in small that earn main */

struct s3sim {
	struct rlist small, main_q, ghost;
	uint8_t *freq;
	size_t cap, small_cap, ghost_cap, misses;
	int freeze;
};

/* Set the split: small's share and the ghost's reach, of the capacity. */
static void
s3sim_tune(struct s3sim *c, double small_ratio, double ghost_ratio,
    int freeze)
{
	c->small_cap = (size_t)(small_ratio * (double)c->cap);
	if (c->small_cap < 1)
		c->small_cap = 1;
	c->ghost_cap = (size_t)(ghost_ratio * (double)c->cap);
	c->freeze = freeze;
}

static void
s3sim_init(struct s3sim *c, size_t ids, size_t cap, double small_ratio,
    double ghost_ratio, int freeze)
{
	memset(c, 0, sizeof(*c));
	rl_init(&c->small, ids);
	rl_init(&c->main_q, ids);
	rl_init(&c->ghost, ids);
	c->freq = calloc(ids, 1);
	c->cap = cap;
	s3sim_tune(c, small_ratio, ghost_ratio, freeze);
}

static void
s3sim_free(struct s3sim *c)
{
	rl_free(&c->small);
	rl_free(&c->main_q);
	rl_free(&c->ghost);
	free(c->freq);
}

/* Main below its share: what a frozen cache still lets in. */
static int
s3sim_main_has_room(const struct s3sim *c)
{
	return c->main_q.n + c->small_cap < c->cap;
}

/* One request: 1 on a hit. */
static int
s3sim_access(struct s3sim *c, int32_t x)
{
	if (rl_has(&c->small, x) || rl_has(&c->main_q, x)) {
		c->freq[x] += c->freq[x] < 3;
		return 1;
	}
	c->misses++;
	while (c->small.n + c->main_q.n >= c->cap) {
		if (c->small.n >= c->small_cap || c->main_q.n == 0) {
			int32_t t = rl_pop_tail(&c->small);

			if (c->freq[t] >= S3_MOVE_THRESHOLD ||
			    (c->freeze && s3sim_main_has_room(c))) {
				c->freq[t] = 0;
				rl_push_head(&c->main_q, t);
			} else {
				if (c->ghost.n >= c->ghost_cap && c->ghost.n > 0)
					rl_pop_tail(&c->ghost);
				if (c->ghost_cap > 0)
					rl_push_head(&c->ghost, t);
			}
		} else {
			int32_t t = rl_pop_tail(&c->main_q);

			if (c->freq[t] > 0) {
				c->freq[t]--;
				rl_push_head(&c->main_q, t);
			}
		}
	}
	c->freq[x] = 0;
	if (rl_has(&c->ghost, x)) {
		rl_remove(&c->ghost, x);
		if (!c->freeze || s3sim_main_has_room(c))
			rl_push_head(&c->main_q, x);
		else
			rl_push_head(&c->small, x);
	} else {
		rl_push_head(&c->small, x);
	}
	return 0;
}

/* A whole trace through one S3-FIFO of fixed parameters: its miss ratio. */
static double
s3sim_run(const uint32_t *req, size_t n, size_t ids, size_t cap,
    double small_ratio, double ghost_ratio, int freeze)
{
	struct s3sim c;
	double miss;

	s3sim_init(&c, ids, cap, small_ratio, ghost_ratio, freeze);
	for (size_t i = 0; i < n; i++)
		s3sim_access(&c, (int32_t)req[i]);
	miss = (double)c.misses / (double)n;
	s3sim_free(&c);
	return miss;
}

static double
ref_s3fifo(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	return s3sim_run(req, n, ids, cap, S3_SMALL_RATIO, S3_GHOST_RATIO, 0);
}

/* ---- ARC (FAST '03) ---- */

static void
arc_replace(struct rlist *t1, struct rlist *t2, struct rlist *b1,
    struct rlist *b2, double p, int in_b2)
{
	if (t1->n > 0 && ((double)t1->n > p ||
	    (in_b2 && (double)t1->n == p)))
		rl_push_head(b1, rl_pop_tail(t1));
	else if (t2->n > 0)
		rl_push_head(b2, rl_pop_tail(t2));
	else
		rl_push_head(b1, rl_pop_tail(t1));
}

static double
ref_arc(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	struct rlist t1, t2, b1, b2;
	double p = 0, c = (double)cap;
	size_t miss = 0;

	rl_init(&t1, ids);
	rl_init(&t2, ids);
	rl_init(&b1, ids);
	rl_init(&b2, ids);
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];

		if (rl_has(&t1, x)) {
			rl_remove(&t1, x);
			rl_push_head(&t2, x);
			continue;
		}
		if (rl_has(&t2, x)) {
			rl_to_head(&t2, x);
			continue;
		}
		miss++;
		if (rl_has(&b1, x)) {
			double d = b2.n > b1.n ? (double)b2.n / (double)b1.n : 1;

			p = p + d < c ? p + d : c;
			arc_replace(&t1, &t2, &b1, &b2, p, 0);
			rl_remove(&b1, x);
			rl_push_head(&t2, x);
			continue;
		}
		if (rl_has(&b2, x)) {
			double d = b1.n > b2.n ? (double)b1.n / (double)b2.n : 1;

			p = p - d > 0 ? p - d : 0;
			arc_replace(&t1, &t2, &b1, &b2, p, 1);
			rl_remove(&b2, x);
			rl_push_head(&t2, x);
			continue;
		}
		if (t1.n + b1.n >= cap) {
			if (t1.n < cap) {
				rl_pop_tail(&b1);
				arc_replace(&t1, &t2, &b1, &b2, p, 0);
			} else {
				rl_pop_tail(&t1);
			}
		} else if (t1.n + t2.n + b1.n + b2.n >= cap) {
			if (t1.n + t2.n + b1.n + b2.n >= 2 * cap)
				rl_pop_tail(&b2);
			if (t1.n + t2.n >= cap)
				arc_replace(&t1, &t2, &b1, &b2, p, 0);
		}
		rl_push_head(&t1, x);
	}
	rl_free(&t1);
	rl_free(&t2);
	rl_free(&b1);
	rl_free(&b2);
	return (double)miss / (double)n;
}

/* ---- LIRS (SIGMETRICS '02), 1% of the cache for resident HIR ---- */

#define LIRS_HIR_RATIO 0.01
#define LIRS_NONRES_MAX 2	/* non-resident HIR kept, in caches */

enum { LIRS_NONE, LIRS_LIR, LIRS_HIR, LIRS_NONRES };

struct lirs {
	struct rlist s, q, nonres;
	uint8_t *st;
	size_t nlir;
};

/* Drop HIR entries from the stack's bottom until a LIR one is there. */
static void
lirs_prune(struct lirs *c)
{
	while (c->s.tail >= 0 && c->st[c->s.tail] != LIRS_LIR) {
		int32_t t = rl_pop_tail(&c->s);

		if (c->st[t] == LIRS_NONRES) {
			rl_remove(&c->nonres, t);
			c->st[t] = LIRS_NONE;
		}
	}
}

/* The stack's bottom LIR entry becomes a resident HIR one. */
static void
lirs_demote_bottom(struct lirs *c)
{
	int32_t y = rl_pop_tail(&c->s);

	c->st[y] = LIRS_HIR;
	c->nlir--;
	rl_push_head(&c->q, y);
	lirs_prune(c);
}

static double
ref_lirs(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	struct lirs c;
	size_t hir_cap = (size_t)(LIRS_HIR_RATIO * (double)cap), lir_cap;
	size_t miss = 0;

	if (hir_cap < 1)
		hir_cap = 1;
	lir_cap = cap - hir_cap;	/* cap >= 2: bench/evict sees to it */
	rl_init(&c.s, ids);
	rl_init(&c.q, ids);
	rl_init(&c.nonres, ids);
	c.st = calloc(ids, 1);
	c.nlir = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];
		int in_s = rl_has(&c.s, x);

		if (c.st[x] == LIRS_LIR) {
			int bottom = c.s.tail == x;

			rl_to_head(&c.s, x);
			if (bottom)
				lirs_prune(&c);
			continue;
		}
		if (c.st[x] == LIRS_HIR) {
			if (in_s) {
				rl_remove(&c.q, x);
				rl_to_head(&c.s, x);
				c.st[x] = LIRS_LIR;
				c.nlir++;
				lirs_demote_bottom(&c);
			} else {
				rl_push_head(&c.s, x);
				rl_to_head(&c.q, x);
			}
			continue;
		}
		miss++;
		if (c.nlir < lir_cap && c.q.n == 0) {
			/* Filling up: the first entries are LIR. */
			if (in_s) {
				rl_remove(&c.nonres, x);
				rl_remove(&c.s, x);
			}
			c.st[x] = LIRS_LIR;
			c.nlir++;
			rl_push_head(&c.s, x);
			continue;
		}
		if (c.q.n >= hir_cap) {
			int32_t z = rl_pop_tail(&c.q);

			if (rl_has(&c.s, z)) {
				c.st[z] = LIRS_NONRES;
				rl_push_head(&c.nonres, z);
				if (c.nonres.n > LIRS_NONRES_MAX * cap) {
					int32_t old = rl_pop_tail(&c.nonres);

					rl_remove(&c.s, old);
					c.st[old] = LIRS_NONE;
				}
			} else {
				c.st[z] = LIRS_NONE;
			}
		}
		in_s = rl_has(&c.s, x);
		if (in_s) {
			rl_remove(&c.nonres, x);
			rl_to_head(&c.s, x);
			c.st[x] = LIRS_LIR;
			c.nlir++;
			lirs_demote_bottom(&c);
		} else {
			c.st[x] = LIRS_HIR;
			rl_push_head(&c.s, x);
			rl_push_head(&c.q, x);
		}
	}
	rl_free(&c.s);
	rl_free(&c.q);
	rl_free(&c.nonres);
	free(c.st);
	return (double)miss / (double)n;
}

/* ---- W-TinyLFU (Caffeine's layout, libCacheSim's defaults) ---- */

#define WTLFU_WINDOW_RATIO 0.01
#define WTLFU_PROTECTED_RATIO 0.80	/* of main */
#define WTLFU_DEPTH 4

/* A count-min sketch of 4-bit counters, halved every 10 x cap adds. */
struct cmsketch {
	uint8_t *cnt;
	size_t width, adds, sample;
};

static uint64_t
ref_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static unsigned
cms_estimate(const struct cmsketch *s, uint32_t id)
{
	unsigned m = 15;

	for (unsigned d = 0; d < WTLFU_DEPTH; d++) {
		size_t j = ref_mix(id * 4ull + d) & (s->width - 1);
		unsigned v = s->cnt[d * s->width + j];

		m = v < m ? v : m;
	}
	return m;
}

static void
cms_add(struct cmsketch *s, uint32_t id)
{
	for (unsigned d = 0; d < WTLFU_DEPTH; d++) {
		size_t j = ref_mix(id * 4ull + d) & (s->width - 1);
		uint8_t *v = &s->cnt[d * s->width + j];

		*v += *v < 15;
	}
	if (++s->adds >= s->sample) {
		for (size_t k = 0; k < WTLFU_DEPTH * s->width; k++)
			s->cnt[k] >>= 1;
		s->adds /= 2;
	}
}

static double
ref_wtinylfu(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	struct rlist win, prob, prot;
	struct cmsketch sk;
	size_t win_cap = (size_t)(WTLFU_WINDOW_RATIO * (double)cap);
	size_t main_cap, prot_cap, miss = 0;

	if (win_cap < 1)
		win_cap = 1;
	main_cap = cap > win_cap ? cap - win_cap : 1;
	prot_cap = (size_t)(WTLFU_PROTECTED_RATIO * (double)main_cap);
	sk.width = 16;
	while (sk.width < cap)
		sk.width <<= 1;
	sk.cnt = calloc(WTLFU_DEPTH * sk.width, 1);
	sk.adds = 0;
	sk.sample = 10 * cap;
	rl_init(&win, ids);
	rl_init(&prob, ids);
	rl_init(&prot, ids);
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];

		cms_add(&sk, (uint32_t)x);
		if (rl_has(&win, x)) {
			rl_to_head(&win, x);
			continue;
		}
		if (rl_has(&prot, x)) {
			rl_to_head(&prot, x);
			continue;
		}
		if (rl_has(&prob, x)) {
			rl_remove(&prob, x);
			rl_push_head(&prot, x);
			if (prot.n > prot_cap)
				rl_push_head(&prob, rl_pop_tail(&prot));
			continue;
		}
		miss++;
		rl_push_head(&win, x);
		if (win.n <= win_cap)
			continue;
		{
			int32_t cand = rl_pop_tail(&win), victim;

			if (prob.n + prot.n < main_cap) {
				rl_push_head(&prob, cand);
				continue;
			}
			victim = prob.n > 0 ? prob.tail : prot.tail;
			if (cms_estimate(&sk, (uint32_t)cand) >
			    cms_estimate(&sk, (uint32_t)victim)) {
				rl_remove(prob.n > 0 ? &prob : &prot, victim);
				rl_push_head(&prob, cand);
			}
		}
	}
	rl_free(&win);
	rl_free(&prob);
	rl_free(&prot);
	free(sk.cnt);
	return (double)miss / (double)n;
}

/* ---- LeCaR (HotStorage '18): LRU and LFU weighted by regret ---- */

#define LECAR_RATE 0.45

struct lfu_heap {
	int32_t *h;		/* ids, least frequent first */
	int32_t *pos;		/* an id's index in h, or -1 */
	uint32_t *freq;
	uint64_t *last;		/* ties go to the least recent */
	size_t n;
};

static int
lfu_less(const struct lfu_heap *q, int32_t a, int32_t b)
{
	return q->freq[a] != q->freq[b] ? q->freq[a] < q->freq[b] :
	    q->last[a] < q->last[b];
}

static void
lfu_swap(struct lfu_heap *q, size_t i, size_t j)
{
	int32_t t = q->h[i];

	q->h[i] = q->h[j];
	q->h[j] = t;
	q->pos[q->h[i]] = (int32_t)i;
	q->pos[q->h[j]] = (int32_t)j;
}

static void
lfu_fix(struct lfu_heap *q, size_t i)
{
	while (i > 0 && lfu_less(q, q->h[i], q->h[(i - 1) / 2])) {
		lfu_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->n && lfu_less(q, q->h[l], q->h[m]))
			m = l;
		if (r < q->n && lfu_less(q, q->h[r], q->h[m]))
			m = r;
		if (m == i)
			return;
		lfu_swap(q, i, m);
		i = m;
	}
}

static void
lfu_remove(struct lfu_heap *q, int32_t id)
{
	size_t i = (size_t)q->pos[id];

	lfu_swap(q, i, --q->n);
	q->pos[id] = -1;
	if (i < q->n)
		lfu_fix(q, i);
}

static double
ref_lecar(const uint32_t *req, size_t n, size_t ids, size_t cap)
{
	struct rlist lru, hist_lru, hist_lfu;
	struct lfu_heap q;
	uint64_t *evicted_at = calloc(ids, sizeof(*evicted_at)), rng = 42;
	double w_lru = 0.5, w_lfu = 0.5;
	double discount = pow(0.005, 1.0 / (double)cap);
	size_t miss = 0;

	q.h = malloc(cap * sizeof(*q.h));
	q.pos = malloc(ids * sizeof(*q.pos));
	q.freq = calloc(ids, sizeof(*q.freq));
	q.last = calloc(ids, sizeof(*q.last));
	q.n = 0;
	for (size_t i = 0; i < ids; i++)
		q.pos[i] = -1;
	rl_init(&lru, ids);
	rl_init(&hist_lru, ids);
	rl_init(&hist_lfu, ids);
	for (size_t i = 0; i < n; i++) {
		int32_t x = (int32_t)req[i];

		if (q.pos[x] >= 0) {
			q.freq[x]++;
			q.last[x] = i;
			lfu_fix(&q, (size_t)q.pos[x]);
			rl_to_head(&lru, x);
			continue;
		}
		miss++;
		if (rl_has(&hist_lru, x) || rl_has(&hist_lfu, x)) {
			double r = pow(discount, (double)(i - evicted_at[x]));

			/* The policy that evicted x was wrong: the other
			 * one gains weight. */
			if (rl_has(&hist_lru, x)) {
				rl_remove(&hist_lru, x);
				w_lfu *= exp(LECAR_RATE * r);
			} else {
				rl_remove(&hist_lfu, x);
				w_lru *= exp(LECAR_RATE * r);
			}
			w_lru /= w_lru + w_lfu;
			w_lfu = 1 - w_lru;
		}
		if (q.n >= cap) {
			int32_t v;
			struct rlist *hist;

			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			if ((double)(rng >> 11) / 9007199254740992.0 < w_lru) {
				v = lru.tail;
				hist = &hist_lru;
			} else {
				v = q.h[0];
				hist = &hist_lfu;
			}
			lfu_remove(&q, v);
			rl_remove(&lru, v);
			if (hist->n >= cap)
				rl_pop_tail(hist);
			rl_push_head(hist, v);
			evicted_at[v] = i;
		}
		q.freq[x] = 1;
		q.last[x] = i;
		q.h[q.n] = x;
		q.pos[x] = (int32_t)q.n++;
		lfu_fix(&q, q.n - 1);
		rl_push_head(&lru, x);
	}
	rl_free(&lru);
	rl_free(&hist_lru);
	rl_free(&hist_lfu);
	free(q.h);
	free(q.pos);
	free(q.freq);
	free(q.last);
	free(evicted_at);
	return (double)miss / (double)n;
}

/* ---- the table of them ---- */

typedef double ref_policy_fn(const uint32_t *, size_t, size_t, size_t);

static const struct {
	const char *name;
	ref_policy_fn *run;
} ref_policies[] = {
	{ "FIFO", ref_fifo },
	{ "CLOCK", ref_clock },
	{ "SIEVE", ref_sieve },
	{ "S3-FIFO", ref_s3fifo },
	{ "ARC", ref_arc },
	{ "LIRS", ref_lirs },
	{ "W-TinyLFU", ref_wtinylfu },
	{ "LeCaR", ref_lecar },
};
#define REF_POLICIES (sizeof(ref_policies) / sizeof(ref_policies[0]))

#endif
