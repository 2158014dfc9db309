/*
 * l1_stats: the counters and histograms in the L1 file, and the listing
 * of its entries. Reading either takes no lock and needs only read
 * access, so a monitoring user can watch a file it cannot change.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "hash_int.h"
#include "l1_int.h"
#include "hist_int.h"

static const struct l1_stripe *
stripe_at(const struct cw_l1 *l1, unsigned k)
{
	return (const struct l1_stripe *)(l1->stripes + k * l1->stripe_bytes);
}

/*
 * The window slot counting the wall clock's running minute, restarted
 * first if it still holds an older minute; NULL while another process
 * restarts it (those few counts are lost, not misplaced).
 */
static struct l1_window *
window_now(struct cw_l1 *l1)
{
	int64_t wall = cw_clock_calendar_ns(&l1->clock);
	uint64_t minute = wall > 0 ? (uint64_t)wall / 1000000000 /
	    L1_WINDOW_S : 0;
	struct l1_window *w = &l1->stripe->window[minute % L1_WINDOWS];
	uint64_t seen = __atomic_load_n(&w->minute, __ATOMIC_ACQUIRE);

	if (seen == minute)
		return w;
	/* Someone restarts it for this minute, or for a later one (a
	 * clock behind another process's): leave it be. */
	if ((seen & L1_WINDOW_RESTART) && (seen & ~L1_WINDOW_RESTART) >=
	    minute)
		return NULL;
	if (!(seen & L1_WINDOW_RESTART) && seen > minute)
		return NULL;
	if (!__atomic_compare_exchange_n(&w->minute, &seen,
	    L1_WINDOW_RESTART | minute, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_RELAXED))
		return NULL;
	/* Only what was counted is cleared: a minute of one short process
	 * touches few pages, and its restart dirties no others. */
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
		for (int r = 0; r < CW_RESULT_COUNT; r++)
			if (l1_load(&w->results[lv][r]) != 0)
				l1_store(&w->results[lv][r], 0);
	for (unsigned b = 0; b < CW_HIST_BUCKETS; b++)
		if (l1_load(&w->latency[b]) != 0)
			l1_store(&w->latency[b], 0);
	__atomic_store_n(&w->minute, minute, __ATOMIC_RELEASE);
	return w;
}

void
cw_l1_record_many(struct cw_l1 *handle, enum cw_level level,
    enum cw_result result, int64_t latency_ns, uint64_t n)
{
	struct cw_l1 *l1 = l1_live(handle);
	struct l1_window *w;

	if (level >= CW_LEVEL_COUNT || l1->read_only || n == 0)
		return;
	l1_count(&l1->stripe->results[l1->role][level][result], n);
	if (l1->role != CW_ROLE_READER)
		return;
	l1_count(&l1->stripe->latency[cw_hist_bucket(latency_ns)][level], n);
	if ((w = window_now(l1)) != NULL)
		l1_count(&w->results[level][result], n);
}

void
cw_l1_record(struct cw_l1 *handle, enum cw_level level, enum cw_result result,
    int64_t latency_ns)
{
	cw_l1_record_many(handle, level, result, latency_ns, 1);
}

void
cw_l1_record_lookups(struct cw_l1 *handle, int64_t latency_ns, uint64_t n)
{
	struct cw_l1 *l1 = l1_live(handle);
	unsigned b = cw_hist_bucket(latency_ns);
	struct l1_window *w;

	if (l1->read_only || n == 0 || l1->role != CW_ROLE_READER)
		return;
	l1_count(&l1->stripe->latency[b][L1_HIST_OVERALL], n);
	if ((w = window_now(l1)) != NULL)
		l1_count(&w->latency[b], n);
}

void
cw_l1_record_lookup(struct cw_l1 *handle, int64_t latency_ns)
{
	cw_l1_record_lookups(handle, latency_ns, 1);
}

/* Is a slot's minute one of the `minutes` ending with now_minute? A
 * slot being restarted is in no window. */
static int
in_window(uint64_t slot_minute, uint64_t now_minute, unsigned minutes)
{
	return !(slot_minute & L1_WINDOW_RESTART) &&
	    slot_minute <= now_minute && now_minute - slot_minute < minutes;
}

/* Sum of the readers' L1 requests (every lookup starts there) in the
 * whole minutes of the last `minutes` before the running one. */
static uint64_t
lookups_in_minutes(const struct cw_l1 *l1, uint64_t now_minute,
    unsigned minutes)
{
	uint64_t sum = 0;

	if (now_minute == 0)
		return 0;
	for (unsigned k = 0; k < L1_STRIPES; k++) {
		const struct l1_stripe *st = stripe_at(l1, k);

		for (unsigned i = 0; i < L1_WINDOWS; i++) {
			const struct l1_window *w = &st->window[i];
			uint64_t m = __atomic_load_n(&w->minute,
			    __ATOMIC_ACQUIRE);

			if (!in_window(m, now_minute - 1, minutes))
				continue;
			for (int r = 0; r < CW_RESULT_COUNT; r++)
				sum += l1_load(&w->results[CW_LEVEL_L1][r]);
		}
	}
	return sum;
}

/* The readers' counts of the window's minutes into out. */
static void
sum_window(const struct cw_l1 *l1, uint64_t now_minute,
    struct cw_l1_stats *out)
{
	unsigned minutes = out->window_s / L1_WINDOW_S;

	for (unsigned k = 0; k < L1_STRIPES; k++) {
		const struct l1_stripe *st = stripe_at(l1, k);

		for (unsigned i = 0; i < L1_WINDOWS; i++) {
			const struct l1_window *w = &st->window[i];

			if (!in_window(__atomic_load_n(&w->minute,
			    __ATOMIC_ACQUIRE), now_minute, minutes))
				continue;
			for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
				for (int r = 0; r < CW_RESULT_COUNT; r++)
					out->window_results[lv][r] +=
					    l1_load(&w->results[lv][r]);
			for (unsigned b = 0; b < CW_HIST_BUCKETS; b++)
				out->window_overall[b] +=
				    l1_load(&w->latency[b]);
		}
	}
}

const char *
cw_level_name(enum cw_level level)
{
	static const char *const names[] = { "l1", "l2", "l3", "none" };

	return level <= CW_LEVEL_NONE ? names[level] : "none";
}

const char *
cw_role_name(enum cw_role role)
{
	static const char *const names[] = { "reader", "warmer" };

	return role < CW_ROLE_COUNT ? names[role] : "reader";
}

void
cw_l1_stats(struct cw_l1 *handle, unsigned window_s, struct cw_l1_stats *out)
{
	struct cw_l1 *l1 = l1_live(handle);
	const struct l1_header *h = l1->hdr;
	int64_t now = cw_clock_calendar_ns(&l1->clock);
	uint64_t minute = now > 0 ? (uint64_t)now / 1000000000 / L1_WINDOW_S :
	    0;

	memset(out, 0, sizeof(*out));
	out->reset_ns = (int64_t)l1_load((const uint64_t *)&h->reset_ns);
	out->lookups_1m = lookups_in_minutes(l1, minute, 1);
	out->lookups_5m = lookups_in_minutes(l1, minute, 5);
	out->lookups_15m = lookups_in_minutes(l1, minute, 15);
	if (window_s == 0)
		window_s = CW_L1_WINDOW_DEFAULT_S;
	window_s = window_s / L1_WINDOW_S * L1_WINDOW_S;
	out->window_s = window_s < L1_WINDOW_S ? L1_WINDOW_S :
	    window_s > CW_L1_WINDOW_MAX_S ? CW_L1_WINDOW_MAX_S : window_s;
	sum_window(l1, minute, out);
	out->max_entries = h->max_entries;
	out->max_bytes = l1->ring_size[0] + l1->ring_size[1];
	out->entries = l1_load(&h->live_entries);
	out->bytes = l1_load(&h->ring[0].bytes) + l1_load(&h->ring[1].bytes);
	out->sets = l1_load(&h->sets);
	out->evictions = l1_load(&h->evictions);
	out->expirations = l1_load(&h->expirations);
	out->damaged = l1_load(&h->damaged);
	out->too_big = l1_load(&h->too_big);
	out->repairs = l1_load(&h->repairs);
	out->stale_served = l1_load(&h->stale_served);
	out->eviction = (enum cw_eviction)l1_policy(l1);
	out->policy_switches = l1_load(&l1->adapt->switches);
	out->created_ns = h->created_ns;
	for (unsigned k = 0; k < L1_STRIPES; k++) {
		const struct l1_stripe *st = stripe_at(l1, k);

		for (int role = 0; role < CW_ROLE_COUNT; role++)
			for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
				for (int res = 0; res < CW_RESULT_COUNT; res++)
					out->by_role[role][lv][res] +=
					    l1_load(&st->results[role][lv][res]);
		for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
			for (unsigned b = 0; b < CW_HIST_BUCKETS; b++)
				out->level[lv].latency[b] +=
				    l1_load(&st->latency[b][lv]);
		for (unsigned b = 0; b < CW_HIST_BUCKETS; b++)
			out->overall[b] +=
			    l1_load(&st->latency[b][L1_HIST_OVERALL]);
	}
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
		memcpy(out->level[lv].results, out->by_role[CW_ROLE_READER][lv],
		    sizeof(out->level[lv].results));
}

int
cw_l1_stats_reset(struct cw_l1 *handle, struct cw_err *err)
{
	struct cw_l1 *l1 = l1_live(handle);
	struct l1_header *h = l1->hdr;
	int rc;

	/* Under the writer lock so that no two resets interleave; lookups
	 * counting meanwhile may lose a count, which a reset means anyway. */
	if ((rc = cw_l1_int_lock(l1, err)) != CW_OK)
		return rc;
	for (unsigned k = 0; k < L1_STRIPES; k++) {
		uint64_t *p = (uint64_t *)(l1->stripes + k * l1->stripe_bytes);

		for (size_t w = 0; w < sizeof(struct l1_stripe) / 8; w++)
			if (l1_load(&p[w]) != 0)
				l1_store(&p[w], 0);
	}
	l1_store(&h->sets, 0);
	l1_store(&h->evictions, 0);
	l1_store(&h->expirations, 0);
	l1_store(&h->damaged, 0);
	l1_store(&h->too_big, 0);
	l1_store(&h->repairs, 0);
	l1_store(&h->stale_served, 0);
	l1_store((uint64_t *)&h->reset_ns,
	    (uint64_t)cw_clock_calendar_ns(&l1->clock));
	cw_l1_int_unlock(l1);
	return CW_OK;
}

/*
 * Copy live slot s's entry as a reader would, without the lock: the
 * record's header, then its key, accepted only when the key still hashes
 * to the header's key hash and the slot still points there (a record
 * reused meanwhile fails one or the other). The value is not read.
 */
static int
copy_entry(const struct cw_l1 *l1, uint64_t i, uint64_t s,
    struct cw_l1_entry *e, struct cw_buf *keys)
{
	const struct l1_rec *at = l1_slot_rec(l1, s);
	struct l1_rec r;
	size_t mark = keys->len;

	if (at == NULL)
		return 0;
	L1_RACY_READS_BEGIN();
	memcpy(&r, at, sizeof(r));
	L1_RACY_READS_END();
	if (!l1_rec_sane(&r, l1_slot_phys(s), l1->ring_size[l1_slot_ring(s)]) ||
	    !l1_slot_tag_matches(s, r.key_hash))
		return 0;
	if (cw_buf_reserve(keys, keys->len + r.key_len, NULL) != CW_OK)
		return -1;
	L1_RACY_READS_BEGIN();
	memcpy(keys->data + keys->len, at + 1, r.key_len);
	L1_RACY_READS_END();
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (cw_hash(keys->data + mark, r.key_len) != r.key_hash ||
	    l1_slot(l1, i) != s)
		return 0;
	keys->len += r.key_len;
	e->key = NULL;	/* set once keys stops moving */
	e->key_len = r.key_len;
	e->value_bytes = r.value_len;
	e->expires_ns = r.expires_ns;
	e->flags = r.flags;
	e->reads = (unsigned)l1_slot_freq(s);
	e->in_main = l1_slot_ring(s) == L1_MAIN;
	return 1;
}

/* Hottest first: S3-FIFO's main queue holds what was read again, then
 * the access count, then the longer lifetime left (the later fill); the
 * key last, so that one file always lists in one order. */
static int
hotter_first(const void *a, const void *b)
{
	const struct cw_l1_entry *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c;

	if (x->in_main != y->in_main)
		return y->in_main - x->in_main;
	if (x->reads != y->reads)
		return (int)y->reads - (int)x->reads;
	if (x->expires_ns != y->expires_ns)
		return x->expires_ns < y->expires_ns ? 1 : -1;
	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

int
cw_l1_int_collect(struct cw_l1 *l1, int hot, struct cw_l1_entry **out,
    size_t *nout, struct cw_buf *keys, struct cw_err *err)
{
	struct cw_l1_entry *list = NULL;
	size_t n = 0, cap = 0, at = 0;
	int got;

	/* Nothing for the caller to free on a failure. */
	*out = NULL;
	*nout = 0;
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1_slot(l1, i);
		void *p;

		if (!l1_slot_live(s))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((p = realloc(list, cap * sizeof(*list))) == NULL)
				goto nomem;
			list = p;
		}
		if ((got = copy_entry(l1, i, s, &list[n], keys)) < 0)
			goto nomem;
		n += (size_t)got;
	}
	for (size_t i = 0; i < n; at += list[i++].key_len)
		list[i].key = keys->data + at;
	if (hot && n > 1)
		qsort(list, n, sizeof(*list), hotter_first);
	*out = list;
	*nout = n;
	return CW_OK;
nomem:
	free(list);
	return cw_err_set(err, CW_ENOMEM, 0, "scan %s", l1->path);
}

/* Copied first, lock-free, then handed to fn: fn may print into a pipe
 * nobody reads without holding anyone back. */
static int
scan(struct cw_l1 *l1, int hot, cw_l1_scan_fn *fn, void *ctx,
    struct cw_err *err)
{
	struct cw_buf keys = { 0 };
	struct cw_l1_entry *list;
	size_t n;
	int rc;

	if ((rc = cw_l1_int_collect(l1_live(l1), hot, &list, &n, &keys,
	    err)) != CW_OK) {
		cw_buf_free(&keys);
		return rc;
	}
	for (size_t i = 0; i < n && fn(&list[i], ctx) == 0; i++)
		;
	free(list);
	cw_buf_free(&keys);
	return CW_OK;
}

int
cw_l1_scan(struct cw_l1 *l1, cw_l1_scan_fn *fn, void *ctx, struct cw_err *err)
{
	return scan(l1, 0, fn, ctx, err);
}

int
cw_l1_scan_hot(struct cw_l1 *l1, cw_l1_scan_fn *fn, void *ctx,
    struct cw_err *err)
{
	return scan(l1, 1, fn, ctx, err);
}

int
cw_l1_hot_list(struct cw_l1 *l1, size_t limit, struct cw_buf *out, size_t *n,
    struct cw_err *err)
{
	struct cw_buf keys = { 0 };
	struct cw_l1_entry *list;
	size_t got;
	int rc;

	*n = 0;
	if ((rc = cw_l1_int_collect(l1_live(l1), 1, &list, &got, &keys,
	    err)) != CW_OK)
		goto out;
	for (size_t i = 0; i < got && (limit == 0 || *n < limit) &&
	    rc == CW_OK; i++) {
		if (list[i].flags & CW_L1_NEGATIVE)
			continue;
		if ((rc = cw_buf_append(out, list[i].key, list[i].key_len,
		    err)) == CW_OK && (rc = cw_buf_append(out, "\n", 1,
		    err)) == CW_OK)
			(*n)++;
	}
	free(list);
out:
	cw_buf_free(&keys);
	return rc;
}
