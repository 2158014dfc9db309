/*
 * l1_adapt: which eviction policy the L1 runs, chosen while it runs.
 *
 * Why this design. S3-FIFO with the split of l1_int.h is at or below
 * every policy we measured on the shipped traces and most others, but
 * on a loop larger than the cache it misses every read: each key is
 * evicted just before its reuse. Freezing main (l1_int.h, THE POLICY'S
 * CHOICE) keeps the part of a loop that fits, as LIRS does, and costs
 * badly anywhere else. Nothing a writer sees by itself tells the two
 * cases apart (a loop's tails go unread, and so do a scan's and a trace
 * of one-hit wonders; bench/RESULTS.md has the rules tried), so the
 * policies are simulated side by side on the same requests, as
 * miniature caches over a spatial sample of the keys (Waldspurger et
 * al., ATC '17), and the cache takes the one that missed less. The
 * same choice sizes the split, as ARC moves its own between recency
 * and frequency: on Zipf traffic a small queue of 5% and a ghost of 90%
 * beat our 15% and 140% (and S3-FIFO's published 10%) by 0.003-0.01,
 * and a burst of new keys read again soon wants the wider small queue
 * back. Loops mixed with other reads want neither: there W-TinyLFU's
 * door (a key enters main only if seen more often than the one it
 * would evict) won by up to 0.08, so tinylfu, that door on our rings
 * with a sketch the writers alone feed (l1_sketch.c), is the fourth;
 * alone it loses badly on the shipped traces, as a choice it only
 * wins. bench/adaptsim tried splits, thresholds and selectors in
 * simulation first; measuring the L1 itself (bench/evict) added the
 * last rule: but for freezing and thawing, a lead must be steady, not
 * only large (steady), since a bursty database trace's leads come and
 * go and each switch costs the real cache entries moved between its
 * queues. On 30 trace/size pairs this is at or below S3-FIFO on 28
 * (19 with S3-FIFO and frozen only) and within 0.005 of the best online
 * policy on 24 (19), and on 12 drawn after the split's setting, 11 and
 * 10 (4 and 6); what still loses is W-TinyLFU on loop mixes and bursts
 * at 10% (by 0.009-0.03) and LIRS on scans at 10% (bench/RESULTS.md).
 *
 * A miniature is S3-FIFO itself, without values: a table of slots (the
 * key's hash, where it is, its reads, and for the ghost its number) and
 * two rings of hashes for the small and main queues, in the L1 file so
 * that every process's lookups teach the same miniatures. A slot that
 * cannot be placed within a few probes displaces another: a miniature
 * may forget a key, which only blurs its count a little; tinylfu's runs
 * the same door on a sketch of its own. Every position is taken modulo
 * its ring and every loop is bounded, so whatever a killed writer or a
 * damaged file left here, the worst outcome is a worse choice of
 * policy; a repair starts the choice over.
 */
#include <string.h>

#include "cw.h"
#include "l1_int.h"

#define MINI_PROBES 8
/* Between choices: half a miniature's capacity of sampled lookups, the
 * past weighing four fifths as much at each. */
#define EPOCH_NUM 1
#define EPOCH_DEN 2
#define DECAY_NUM 4
#define DECAY_DEN 5
/* To freeze, its miniature must miss a fifth less (bench/adaptsim: a
 * smaller margin lets near-ties switch to and fro, and a frozen cache
 * that should not be pays dearly); to any other, a hundredth less. */
#define FREEZE_MARGIN_PCT 20
#define SWITCH_MARGIN_PCT 1
/* But for freezing and thawing, the lead must also be steady (steady):
 * beyond so many times its spread. A lead toward tinylfu must be
 * steadier (its small queue is a fifteenth of S3-FIFO's, and a switch
 * to it changes which keys main lets in: on a shifting working set a
 * lead held to 1.25 times its spread switched there and lost 0.01;
 * on the margin alone, the shipped cloudphysics trace lost 0.02); away
 * from it, as from the others, so that a change of traffic is
 * followed soon. */
#define SPLIT_Z 1.25
#define TINYLFU_Z 3.0
/* The miniatures are fed at every FEED_EVERY-th store. */
#define FEED_EVERY 16

enum { WHERE_NONE = 0, WHERE_SMALL = 1, WHERE_MAIN = 2, WHERE_GHOST = 3 };
enum { Q_SMALL = 0, Q_MAIN = 1 };

uint64_t
cw_l1_int_mini_cap(uint64_t max_entries)
{
	while (max_entries > L1_MINI_MAX)
		max_entries >>= 1;
	return max_entries > 0 ? max_entries : 1;
}

/* A slot table four times the entries (the ghost adds 1.4 of them), and
 * rings with room for the stale hashes a displaced slot leaves. */
static uint64_t
mini_slots(uint64_t cap)
{
	return l1_pow2_at_least(4 * cap);
}

static uint64_t
mini_queue(uint64_t cap)
{
	return l1_pow2_at_least(2 * cap);
}

/* Each readers' ring holds twice a miniature's keys: a run of hits with
 * no store between them (a frozen loop's kept part) is at most the
 * cache's entries, of which a miniature samples its own size, and one
 * process may make them all. */
static uint64_t
sample_slots(uint64_t cap)
{
	return l1_pow2_at_least(2 * cap > 1024 ? 2 * cap : 1024);
}

static uint64_t
region_head_bytes(uint64_t cap)
{
	return l1_align8(sizeof(struct l1_adapt)) +
	    L1_STRIPES * sample_slots(cap) * sizeof(uint64_t);
}

/* The head, the miniatures, then (on a cache line's boundary) the
 * cache's sketch and tinylfu's miniature's. */
static uint64_t
sketches_off(uint64_t mini_cap)
{
	return (region_head_bytes(mini_cap) + L1_POLICIES *
	    (mini_slots(mini_cap) * sizeof(struct l1_mini_slot) +
	    2 * mini_queue(mini_cap) * sizeof(uint64_t)) + L1_SKETCH_LINE - 1) &
	    ~(uint64_t)(L1_SKETCH_LINE - 1);
}

uint64_t
cw_l1_int_adapt_bytes(uint64_t max_entries, uint64_t mini_cap)
{
	return sketches_off(mini_cap) + (cw_l1_int_sketch_lines(max_entries) +
	    cw_l1_int_sketch_lines(mini_cap)) * L1_SKETCH_LINE;
}

void
cw_l1_int_adapt_map(struct cw_l1 *l1)
{
	const struct l1_header *h = l1->hdr;
	char *at = l1->map + h->adapt_off;
	uint64_t ratio = h->max_entries / h->mini_cap;

	l1->adapt = (struct l1_adapt *)at;
	l1->samples = (uint64_t *)(at + l1_align8(sizeof(struct l1_adapt)));
	l1->mini_cap = h->mini_cap;
	l1->mini_slots = mini_slots(h->mini_cap);
	l1->mini_queue = mini_queue(h->mini_cap);
	/* One key in ratio (rounded down to a power of two) is sampled. */
	l1->sample_mask = l1_pow2_at_least(ratio + 1) / 2 - 1;
	l1->sample_slots = sample_slots(h->mini_cap);
	at += region_head_bytes(h->mini_cap);
	for (int v = 0; v < L1_POLICIES; v++) {
		l1->mini_tab[v] = (struct l1_mini_slot *)at;
		at += l1->mini_slots * sizeof(struct l1_mini_slot);
		for (int q = 0; q < 2; q++) {
			l1->mini_q[v][q] = (uint64_t *)at;
			at += l1->mini_queue * sizeof(uint64_t);
		}
	}
	at = l1->map + h->adapt_off + sketches_off(h->mini_cap);
	l1->sketch.counters = (uint8_t *)at;
	l1->sketch.lines = cw_l1_int_sketch_lines(h->max_entries);
	l1->sketch.entries = h->max_entries;
	l1->sketch.adds = &l1->adapt->sketch_adds;
	l1->mini_sketch = l1->sketch.counters + l1->sketch.lines *
	    L1_SKETCH_LINE;
	l1->mini_sketch_lines = cw_l1_int_sketch_lines(h->mini_cap);
}

/* ---- a miniature cache ---- */

struct mini {
	struct l1_mini *m;
	struct l1_mini_slot *tab;
	uint64_t *q[2];
	uint64_t tab_mask, q_slots, cap, small_cap, ghost_cap;
	uint64_t policy;
	struct l1_sketch sketch;	/* tinylfu's */
};

static unsigned
where_of(const struct l1_mini_slot *s)
{
	return (unsigned)(s->state & 3);
}

static unsigned
reads_of(const struct l1_mini_slot *s)
{
	return (unsigned)(s->state >> 2 & 3);
}

static void
place(struct l1_mini_slot *s, unsigned where, unsigned reads, uint64_t seq)
{
	s->state = seq << 4 | (uint64_t)reads << 2 | where;
}

static int
ghost_alive(const struct mini *c, const struct l1_mini_slot *s)
{
	return where_of(s) == WHERE_GHOST &&
	    c->m->ghost_seq - (s->state >> 4) < c->ghost_cap;
}

static struct l1_mini_slot *
find(const struct mini *c, uint64_t x)
{
	for (uint64_t k = 0; k < MINI_PROBES; k++) {
		struct l1_mini_slot *s = &c->tab[(x + k) & c->tab_mask];

		if (s->hash == x)
			return s;
	}
	return NULL;
}

static uint64_t *
count_of(struct mini *c, unsigned where)
{
	return where == WHERE_SMALL ? &c->m->n_small : &c->m->n_main;
}

/* Forget a slot's key, whatever it was. */
static void
forget(struct mini *c, struct l1_mini_slot *s)
{
	unsigned where = where_of(s);

	if ((where == WHERE_SMALL || where == WHERE_MAIN) &&
	    *count_of(c, where) > 0)
		(*count_of(c, where))--;
	s->hash = 0;
	s->state = 0;
}

/* A slot for x: a free one, else the oldest ghost, else the first. */
static struct l1_mini_slot *
claim(struct mini *c, uint64_t x)
{
	struct l1_mini_slot *victim = NULL;

	for (uint64_t k = 0; k < MINI_PROBES; k++) {
		struct l1_mini_slot *s = &c->tab[(x + k) & c->tab_mask];

		if (s->hash == 0 || where_of(s) == WHERE_NONE ||
		    (where_of(s) == WHERE_GHOST && !ghost_alive(c, s))) {
			victim = s;
			break;
		}
		if (where_of(s) == WHERE_GHOST && (victim == NULL ||
		    where_of(victim) != WHERE_GHOST ||
		    (s->state >> 4) < (victim->state >> 4)))
			victim = s;
	}
	if (victim == NULL)
		victim = &c->tab[x & c->tab_mask];
	forget(c, victim);
	victim->hash = x;
	return victim;
}

static uint64_t *
head_of(struct mini *c, int q)
{
	return q == Q_SMALL ? &c->m->small_head : &c->m->main_head;
}

static uint64_t *
tail_of(struct mini *c, int q)
{
	return q == Q_SMALL ? &c->m->small_tail : &c->m->main_tail;
}

static void
push(struct mini *c, int q, uint64_t x)
{
	uint64_t *head = head_of(c, q), *tail = tail_of(c, q);

	if (*head - *tail >= c->q_slots) {
		/* Full of stale hashes: the oldest goes, as if evicted. */
		struct l1_mini_slot *s = find(c, c->q[q][*tail % c->q_slots]);

		if (s != NULL && where_of(s) == (q == Q_SMALL ? WHERE_SMALL :
		    WHERE_MAIN))
			forget(c, s);
		(*tail)++;
	}
	c->q[q][*head % c->q_slots] = x;
	(*head)++;
}

/* The slot of the oldest key still in queue q, taken off it; NULL when
 * the queue holds none (its count was wrong). */
static struct l1_mini_slot *
pop(struct mini *c, int q)
{
	uint64_t *head = head_of(c, q), *tail = tail_of(c, q);
	unsigned want = q == Q_SMALL ? WHERE_SMALL : WHERE_MAIN;

	while (*tail != *head) {
		struct l1_mini_slot *s = find(c, c->q[q][*tail % c->q_slots]);

		(*tail)++;
		if (s != NULL && where_of(s) == want)
			return s;
	}
	*count_of(c, want) = 0;
	return NULL;
}

static int
main_has_room(const struct mini *c)
{
	return c->m->n_main + c->small_cap < c->cap;
}

/* Bring positions and counts no writer leaves back in range. */
static void
sanitize(struct mini *c)
{
	struct l1_mini *m = c->m;

	if (m->small_head - m->small_tail > c->q_slots)
		m->small_tail = m->small_head;
	if (m->main_head - m->main_tail > c->q_slots)
		m->main_tail = m->main_head;
	if (m->n_small > c->cap || m->n_main > c->cap)
		m->n_small = m->n_main = 0;
}

/* Main's next victim as its CLOCK turns, left at its tail; NULL if
 * none within a bound (as l1_evict.c's main_victim). */
static struct l1_mini_slot *
clock_victim(struct mini *c)
{
	uint64_t *head = &c->m->main_head, *tail = &c->m->main_tail;

	for (uint64_t turn = 0; turn < 16 && *tail != *head; turn++) {
		struct l1_mini_slot *s = find(c, c->q[Q_MAIN][*tail %
		    c->q_slots]);

		if (s != NULL && where_of(s) == WHERE_MAIN &&
		    reads_of(s) == 0)
			return s;
		(*tail)++;
		if (s != NULL && where_of(s) == WHERE_MAIN) {
			place(s, WHERE_MAIN, reads_of(s) - 1, 0);
			push(c, Q_MAIN, s->hash);
		}
	}
	return NULL;
}

/* tinylfu's door for s, off the window: into main while it has room,
 * else only if the sketch saw it more often than main's victim, which
 * then goes; or out. */
static void
tinylfu_door(struct mini *c, struct l1_mini_slot *s)
{
	struct l1_mini *m = c->m;
	struct l1_mini_slot *v;

	cw_l1_int_sketch_add(&c->sketch, s->hash, reads_of(s));
	if (!main_has_room(c) && (v = clock_victim(c)) != NULL) {
		if (cw_l1_int_sketch_estimate(&c->sketch, s->hash) <=
		    cw_l1_int_sketch_estimate(&c->sketch, v->hash)) {
			place(s, WHERE_NONE, 0, 0);
			forget(c, s);
			return;
		}
		forget(c, v);
	}
	place(s, WHERE_MAIN, 0, 0);
	m->n_main++;
	push(c, Q_MAIN, s->hash);
}

/* Make room for one more entry, as the L1's eviction does. */
static void
evict(struct mini *c)
{
	struct l1_mini *m = c->m;

	/* Each turn evicts or takes a read off a main key (at most 3
	 * each), or moves one from small: bounded by a few capacities. */
	for (uint64_t turn = 0; m->n_small + m->n_main >= c->cap &&
	    turn < 8 * c->cap + 8; turn++) {
		struct l1_mini_slot *s;

		if (m->n_small >= c->small_cap || m->n_main == 0) {
			if ((s = pop(c, Q_SMALL)) == NULL)
				continue;
			m->n_small--;
			if (c->policy == L1_POLICY_TINYLFU)
				tinylfu_door(c, s);
			else if (reads_of(s) >= L1_MOVE_THRESHOLD ||
			    (c->policy == L1_POLICY_FREEZE &&
			    main_has_room(c))) {
				place(s, WHERE_MAIN, 0, 0);
				m->n_main++;
				push(c, Q_MAIN, s->hash);
			} else {
				place(s, WHERE_GHOST, 0, m->ghost_seq++);
			}
		} else {
			if ((s = pop(c, Q_MAIN)) == NULL)
				continue;
			if (reads_of(s) > 0) {
				place(s, WHERE_MAIN, reads_of(s) - 1, 0);
				push(c, Q_MAIN, s->hash);
			} else {
				forget(c, s);
			}
		}
	}
}

/* One sampled lookup of x: the miniature's hit or miss. */
static void
access_one(struct mini *c, uint64_t x)
{
	struct l1_mini_slot *s = find(c, x);
	int ghost_hit, to_main;

	if (s != NULL && (where_of(s) == WHERE_SMALL ||
	    where_of(s) == WHERE_MAIN)) {
		if (reads_of(s) < 3)
			place(s, where_of(s), reads_of(s) + 1, 0);
		return;
	}
	c->m->misses++;
	if (c->policy == L1_POLICY_TINYLFU)
		cw_l1_int_sketch_add(&c->sketch, x, 1);
	ghost_hit = s != NULL && ghost_alive(c, s);
	evict(c);
	/* Eviction moves keys between queues but no slot: s is still x's. */
	if (s == NULL)
		s = claim(c, x);
	to_main = ghost_hit && (c->policy != L1_POLICY_FREEZE ||
	    main_has_room(c));
	place(s, to_main ? WHERE_MAIN : WHERE_SMALL, 0, 0);
	(*count_of(c, to_main ? WHERE_MAIN : WHERE_SMALL))++;
	push(c, to_main ? Q_MAIN : Q_SMALL, x);
}

static void
mini_of(struct cw_l1 *l1, uint64_t policy, struct mini *c)
{
	c->m = &l1->adapt->mini[policy];
	c->tab = l1->mini_tab[policy];
	c->q[Q_SMALL] = l1->mini_q[policy][Q_SMALL];
	c->q[Q_MAIN] = l1->mini_q[policy][Q_MAIN];
	c->tab_mask = l1->mini_slots - 1;
	c->q_slots = l1->mini_queue;
	c->cap = l1->mini_cap;
	c->small_cap = l1_small_share(c->cap, policy);
	c->ghost_cap = l1_ghost_share(c->cap, policy);
	c->policy = policy;
	c->sketch.counters = l1->mini_sketch;
	c->sketch.lines = l1->mini_sketch_lines;
	c->sketch.entries = c->cap;
	c->sketch.adds = &c->m->sketch_adds;
	sanitize(c);
}

/* ---- the choice ---- */

static int64_t
clamp(int64_t x, int64_t limit)
{
	return x > limit ? limit : x < -limit ? -limit : x;
}

/* Add this epoch's lead of each policy over each other (how many fewer
 * misses its miniature made) to their decayed sums. Clamped, so that
 * whatever a damaged file holds, the sums stay far from overflow. */
static void
lead_evidence(struct l1_adapt *a)
{
	for (int v = 0; v < L1_POLICIES; v++)
		for (int w = 0; w < L1_POLICIES; w++) {
			int64_t d = clamp((int64_t)((a->mini[w].misses -
			    a->last_misses[w]) - (a->mini[v].misses -
			    a->last_misses[v])), INT64_C(1) << 31);
			int64_t sum = clamp(a->lead[v][w], INT64_C(1) << 40);
			uint64_t sq = a->lead_sq[v][w];

			a->lead[v][w] = sum - sum / DECAY_DEN *
			    (DECAY_DEN - DECAY_NUM) + d;
			a->lead_sq[v][w] = sq - sq / DECAY_DEN *
			    (DECAY_DEN - DECAY_NUM) + (uint64_t)(d * d);
		}
}

/*
 * Is v's lead over the policy in force steady? Its decayed sum must
 * exceed SPLIT_Z (TINYLFU_Z) times the root of the decayed sum of its
 * squares: with the decay's five epochs of weight and SPLIT_Z, a mean
 * lead of about nine tenths of its spread. A small lead that holds
 * epoch after epoch passes (Zipf traffic in a cache of 1,000, the narrow
 * split over S3-FIFO: 5 misses an epoch, give or take 4); a large one
 * that comes and goes does not (the database trace in a cache of 4,400:
 * 2 an epoch the other way, give or take 64), and a switch on it costs
 * the real cache more than the miniatures say: each moves entries
 * between the queues.
 */
static int
steady(const struct l1_adapt *a, uint64_t v, uint64_t now)
{
	double lead = (double)a->lead[v][now];
	double z = v == L1_POLICY_TINYLFU ? TINYLFU_Z : SPLIT_Z;

	return lead > 0 && lead * lead > (double)a->lead_sq[v][now] * z * z;
}

/* Freezing and thawing go on the margin alone: a loop's lead is large
 * and sudden, and a cache frozen that should not be must thaw at once. */
static int
on_margin_alone(uint64_t v, uint64_t now)
{
	return v == L1_POLICY_FREEZE || now == L1_POLICY_FREEZE;
}

static void
choose(struct cw_l1 *l1)
{
	struct l1_adapt *a = l1->adapt;
	uint64_t epoch = l1->mini_cap * EPOCH_NUM / EPOCH_DEN + 1;
	const struct l1_mini *s3 = &a->mini[L1_POLICY_S3FIFO];
	uint64_t *score = a->score, now = l1_policy(l1), best = now;

	if (++a->sampled % epoch != 0)
		return;
	/* A cache filling up says nothing of how it evicts. */
	if (s3->n_small + s3->n_main < l1->mini_cap) {
		for (int v = 0; v < L1_POLICIES; v++)
			a->last_misses[v] = a->mini[v].misses;
		return;
	}
	lead_evidence(a);
	for (int v = 0; v < L1_POLICIES; v++) {
		score[v] = score[v] * DECAY_NUM / DECAY_DEN +
		    (a->mini[v].misses - a->last_misses[v]);
		a->last_misses[v] = a->mini[v].misses;
	}
	/* In the policies' order, each must beat the best so far by its
	 * margin and hold a steady lead: the one in force wins ties, then
	 * the earlier. */
	for (uint64_t v = 0; v < L1_POLICIES; v++)
		if (v != now && score[v] * 100 < score[best] *
		    (100 - (v == L1_POLICY_FREEZE ? FREEZE_MARGIN_PCT :
		    SWITCH_MARGIN_PCT)) && (on_margin_alone(v, now) ||
		    steady(a, v, now)))
			best = v;
	if (best != now) {	/* read by cw_l1_stats without the lock */
		l1_put(&a->policy, best);
		l1_put(&a->switches, a->switches + 1);
	}
}

/* Feed one stripe's ring of samples to the miniatures. */
static void
feed(struct cw_l1 *l1, unsigned stripe, struct mini *c)
{
	struct l1_adapt *a = l1->adapt;
	uint64_t *ring = l1->samples + stripe * l1->sample_slots;
	uint64_t head = __atomic_load_n(&a->head[stripe].next,
	    __ATOMIC_ACQUIRE), tail = a->tail[stripe];

	if (head - tail > l1->sample_slots)	/* overrun: the newest */
		tail = head - l1->sample_slots;
	for (; tail != head; tail++) {
		/* A reader that took this number may not have stored yet:
		 * then it is 0 here, and its sample lands a lap later. */
		uint64_t x = __atomic_exchange_n(&ring[tail &
		    (l1->sample_slots - 1)], 0, __ATOMIC_RELAXED);

		if (x == 0)
			continue;
		for (int v = 0; v < L1_POLICIES; v++)
			access_one(&c[v], x);
		choose(l1);
	}
	a->tail[stripe] = tail;
}

void
cw_l1_int_adapt(struct cw_l1 *l1, uint64_t stores)
{
	struct l1_adapt *a = l1->adapt;
	struct mini c[L1_POLICIES];
	int prepared = 0;

	/* Every FEED_EVERY-th store, not every one: a look at the eight
	 * rings would cost each set a few percent, and the rings keep the
	 * samples meanwhile. */
	if ((a->unfed += stores) < FEED_EVERY)
		return;
	a->unfed = 0;
	for (unsigned s = 0; s < L1_STRIPES; s++) {
		if (__atomic_load_n(&a->head[s].next, __ATOMIC_RELAXED) ==
		    a->tail[s])
			continue;
		if (!prepared++)
			for (uint64_t v = 0; v < L1_POLICIES; v++)
				mini_of(l1, v, &c[v]);
		feed(l1, s, c);
	}
}

void
cw_l1_int_adapt_reset(struct cw_l1 *l1)
{
	struct l1_adapt *a = l1->adapt;

	for (unsigned s = 0; s < L1_STRIPES; s++)
		a->tail[s] = __atomic_load_n(&a->head[s].next, __ATOMIC_ACQUIRE);
	a->sampled = 0;
	a->unfed = 0;
	l1_put(&a->policy, L1_POLICY_S3FIFO);
	memset(a->score, 0, sizeof(a->score));
	memset(a->last_misses, 0, sizeof(a->last_misses));
	memset(a->lead, 0, sizeof(a->lead));
	memset(a->lead_sq, 0, sizeof(a->lead_sq));
	memset(a->mini, 0, sizeof(a->mini));
	for (int v = 0; v < L1_POLICIES; v++)
		memset(l1->mini_tab[v], 0, l1->mini_slots *
		    sizeof(struct l1_mini_slot));
	memset(l1->mini_sketch, 0, l1->mini_sketch_lines * L1_SKETCH_LINE);
}
