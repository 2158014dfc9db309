/*
 * hier: lookups through the levels, L1 file -> Redis -> source.
 *
 * A batch goes level by level: every key is tried in L1, the misses in L2
 * in one round trip, and what is still missing from the source one key at
 * a time, each answer filling the levels above it. An entry never lives
 * longer above than below: L2's TTL is capped by the source's, L1's by
 * what remains of L2's.
 *
 * A key missing everywhere is fetched from the source by one process
 * only: it takes the key's lock in Redis, the others wait for its answer
 * to appear in L1 or L2 (single flight). Without Redis every process asks
 * the source itself. "Not found" is remembered in both levels for
 * negative_ttl, so a key that does not exist does not reach the source
 * on every lookup either.
 *
 * Nothing below L1 is opened or connected before a lookup needs it. A
 * level that fails is counted, reported once through on_degraded, and
 * bypassed; what L1 holds is still served.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"

/* Where each key of a batch stands between the stages. */
enum { KEY_DONE, KEY_MISSED, KEY_SETTLED };

/* How long a waiter polls between looks at L1 and L2 while another
 * process fetches: from 1 ms, doubling to at most 20 ms. */
#define WAIT_FIRST_NS 1000000
#define WAIT_MAX_NS 20000000

struct cw_hier {
	struct cw_src_opts src_opts;
	const struct cw_cfg *cfg;	/* the caller's, alive until close */
	struct cw_clock clock;
	int no_fill;
	int64_t l1_ttl_ms;
	struct cw_l1 *l1;	/* NULL when the file could not be used */
	struct cw_err l1_err;	/* why, then */
	struct cw_l2 *l2;	/* NULL without L2, until the first miss */
	int l2_configured;
	int l2_reported;	/* its failure was said */
	struct cw_src *src;	/* NULL until the first miss */
	struct cw_alog *log;	/* NULL when not logging */
	void (*on_degraded)(void *ctx, const char *msg);
	void *on_degraded_ctx;
	struct cw_key key;	/* scratch: the parsed key */
	/* Scratch for the stages of a batch, kept between batches: the
	 * lookups of the L1 and L2 stages, and the item each stands for. */
	struct cw_l1_lookup *l1q;
	struct cw_l2_lookup *l2q;
	size_t *item_of;
	size_t scratch_cap;
};

int
cw_hier_open(struct cw_hier **out, const struct cw_hier_opts *o,
    struct cw_err *err)
{
	struct cw_l1_opts lo = { 0 };
	struct cw_hier *h;
	int rc;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "hierarchy");
	/* The lower levels open lazily, from the caller's configuration. */
	h->cfg = o->cfg;
	h->src_opts.cfg = h->cfg;
	h->src_opts.clock = o->clock;
	h->clock = o->clock;
	h->no_fill = o->no_fill;
	h->on_degraded = o->on_degraded;
	h->on_degraded_ctx = o->on_degraded_ctx;
	h->l2_configured = o->cfg->l2_url[0] != '\0';
	h->l1_ttl_ms = o->ttl_ms > 0 ? o->ttl_ms : o->cfg->l1_ttl_ms;
	lo.path = o->cfg->l1_file;
	lo.max_entries = o->cfg->l1_max_entries;
	lo.max_bytes = o->cfg->l1_max_bytes;
	lo.mode = o->cfg->l1_mode;
	lo.clock = o->clock;
	/* Without L1 the levels below still answer: a full disk, a file
	 * that is not ours or not writable costs speed, not the data. */
	if ((rc = cw_l1_open(&h->l1, &lo, &h->l1_err)) == CW_ENOMEM) {
		*err = h->l1_err;
		goto fail;
	}
	if (rc != CW_OK && h->on_degraded != NULL)
		h->on_degraded(h->on_degraded_ctx, h->l1_err.msg);
	if (o->log_access && o->cfg->log_file[0] != '\0' &&
	    (rc = cw_alog_open(&h->log, o->cfg->log_file,
	    o->cfg->log_max_bytes, o->cfg->log_keep, err)) != CW_OK)
		goto fail;
	*out = h;
	return CW_OK;
fail:
	cw_hier_close(h);
	return rc;
}

/* Count an outcome in L1's shared counters, when there is an L1. */
static void
record(struct cw_hier *h, enum cw_level level, enum cw_result result,
    int64_t latency_ns)
{
	if (h->l1 != NULL)
		cw_l1_record(h->l1, level, result, latency_ns);
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Say once that L2 is gone; lookups go on without it. */
static void
l2_failed(struct cw_hier *h, const struct cw_err *e)
{
	if (h->l2_reported || !cw_l2_down(h->l2))
		return;
	h->l2_reported = 1;
	if (h->on_degraded != NULL)
		h->on_degraded(h->on_degraded_ctx, e->msg);
}

/* L2, opened at first need; NULL when there is none or it is down. */
static struct cw_l2 *
l2_usable(struct cw_hier *h)
{
	struct cw_l2_opts lo = { h->cfg, h->clock };
	struct cw_err e;

	if (!h->l2_configured)
		return NULL;
	if (h->l2 == NULL && cw_l2_open(&h->l2, &lo, &e) != CW_OK) {
		/* A bad URL or password file: a configuration error, but
		 * L1 and the source still answer. Said once. */
		h->l2_configured = 0;
		if (h->on_degraded != NULL)
			h->on_degraded(h->on_degraded_ctx, e.msg);
		return NULL;
	}
	return cw_l2_down(h->l2) ? NULL : h->l2;
}

static enum cw_result
result_of(int rc)
{
	return rc == CW_OK ? CW_RESULT_HIT : rc == CW_ENOTFOUND ?
	    CW_RESULT_MISS : rc == CW_ETIMEOUT ? CW_RESULT_TIMEOUT :
	    CW_RESULT_ERROR;
}

/* Fill L1 from a lower level's answer (a value, or with CW_L1_NEGATIVE
 * a remembered "not found"). A failed fill only costs the next lookup. */
static void
fill_l1(struct cw_hier *h, const struct cw_hier_item *it, unsigned flags,
    int64_t ttl_ms)
{
	if (h->no_fill || ttl_ms == 0 || h->l1 == NULL)
		return;
	if (ttl_ms < 0 || ttl_ms > h->l1_ttl_ms)
		ttl_ms = h->l1_ttl_ms;
	(void)cw_l1_set(h->l1, it->key, it->klen, it->val.data,
	    flags & CW_L1_NEGATIVE ? 0 : it->val.len, ttl_ms, flags, NULL);
}

/* The item's outcome: level is who answered with a value, NONE for
 * anything else (a remembered "not found" included). */
static void
settle(struct cw_hier_item *it, int rc, enum cw_level level)
{
	it->rc = rc;
	it->res.level = rc == CW_OK ? level : CW_LEVEL_NONE;
	if (rc != CW_OK)
		it->val.len = 0;
}

/* Settle an item from L2's answer q, filling L1; 0 when L2 had nothing. */
static int
settle_from_l2(struct cw_hier *h, struct cw_hier_item *it,
    const struct cw_l2_lookup *q)
{
	if (q->rc == CW_OK) {
		fill_l1(h, it, 0, q->ttl_ms);
		settle(it, CW_OK, CW_LEVEL_L2);
		return 1;
	}
	if (q->negative) {
		fill_l1(h, it, CW_L1_NEGATIVE, min64(q->ttl_ms < 0 ?
		    h->cfg->negative_ttl_ms : q->ttl_ms,
		    h->cfg->negative_ttl_ms));
		settle(it, CW_ENOTFOUND, CW_LEVEL_L2);
		return 1;
	}
	return 0;
}

/* Look the items that L1 missed up in L2, in one round trip; those it
 * answers become KEY_SETTLED. */
static void
l2_stage(struct cw_hier *h, struct cw_hier_item *items, size_t n,
    char *state)
{
	struct cw_l2 *l2;
	struct cw_err e;
	size_t m = 0;
	int64_t t0, dt;
	int rc;

	if ((l2 = l2_usable(h)) == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		if (state[i] != KEY_MISSED)
			continue;
		h->l2q[m].key = items[i].key;
		h->l2q[m].klen = items[i].klen;
		h->l2q[m].val = &items[i].val;
		h->item_of[m++] = i;
	}
	t0 = cw_clock_mono_ns(&h->clock);
	rc = cw_l2_get(l2, h->l2q, m, &e);
	dt = cw_clock_mono_ns(&h->clock) - t0;
	for (size_t j = 0; j < m; j++) {
		const struct cw_l2_lookup *q = &h->l2q[j];

		record(h, CW_LEVEL_L2, rc != CW_OK ? result_of(rc) :
		    q->negative ? CW_RESULT_HIT : result_of(q->rc), dt);
		if (rc == CW_OK && settle_from_l2(h, &items[h->item_of[j]], q))
			state[h->item_of[j]] = KEY_SETTLED;
	}
	if (rc != CW_OK)
		l2_failed(h, &e);
}

/*
 * Ask the source and fill L2 and L1 with the answer, "not found"
 * included; with locked, the fill of L2 also releases our fetch lock.
 * An error fills nothing: what is cached stays. *unlocked says whether
 * the lock went with a fill.
 */
static int
from_source(struct cw_hier *h, struct cw_hier_item *it, struct cw_l2 *l2,
    int locked, int *unlocked)
{
	int64_t t0, ttl_ms = min64(h->l1_ttl_ms, h->cfg->source_ttl_ms), l2_ttl;
	unsigned flags = locked ? CW_L2_UNLOCK : 0;
	struct cw_err e;
	int rc;

	*unlocked = 0;
	if (h->src == NULL && (rc = cw_src_open(&h->src, &h->src_opts,
	    &it->err)) != CW_OK)
		return rc;
	if ((rc = cw_key_parse(it->key, it->klen, &h->key, &it->err)) !=
	    CW_OK)
		return rc;
	t0 = cw_clock_mono_ns(&h->clock);
	rc = cw_src_get(h->src, &h->key, &it->val, &it->err);
	record(h, CW_LEVEL_L3, result_of(rc),
	    cw_clock_mono_ns(&h->clock) - t0);
	if (h->no_fill || (rc != CW_OK && rc != CW_ENOTFOUND))
		return rc;
	if (rc == CW_OK) {
		if (l2 != NULL && cw_l2_set(l2, it->key, it->klen,
		    it->val.data, it->val.len, h->cfg->source_ttl_ms, flags,
		    &l2_ttl, &e) == CW_OK) {
			ttl_ms = min64(ttl_ms, l2_ttl);
			*unlocked = locked;
		} else if (l2 != NULL) {
			l2_failed(h, &e);
		}
		fill_l1(h, it, 0, ttl_ms);
	} else if (h->cfg->negative_ttl_ms > 0) {
		if (l2 != NULL && cw_l2_set(l2, it->key, it->klen, NULL, 0,
		    h->cfg->negative_ttl_ms, flags | CW_L2_NEGATIVE, NULL,
		    &e) == CW_OK)
			*unlocked = locked;
		else if (l2 != NULL)
			l2_failed(h, &e);
		fill_l1(h, it, CW_L1_NEGATIVE, h->cfg->negative_ttl_ms);
	}
	return rc;
}

/* Has another process on this host filled L1 meanwhile? 1 and the item
 * settled when it has. */
static int
in_l1(struct cw_hier *h, struct cw_hier_item *it)
{
	struct cw_l1_entry_info info;

	if (h->l1 == NULL || cw_l1_get(h->l1, it->key, it->klen, &it->val,
	    &info, NULL) != CW_OK)
		return 0;
	settle(it, info.flags & CW_L1_NEGATIVE ? CW_ENOTFOUND : CW_OK,
	    CW_LEVEL_L1);
	return 1;
}

/*
 * Single flight: fetch from the source holding the key's lock in L2, or
 * wait for the holder's answer, at most as long as the holder may take.
 * Each try at the lock looks at L2 in the same round trip. Without a
 * usable L2, ask the source directly.
 */
static void
fetch(struct cw_hier *h, struct cw_hier_item *it)
{
	int64_t lock_ms = h->cfg->source_timeout_ms + 1000;
	int64_t deadline = cw_clock_mono_ns(&h->clock) + lock_ms * 1000000;
	int64_t pause = WAIT_FIRST_NS;
	struct cw_l2_lookup q = { it->key, it->klen, &it->val, 0, 0, 0 };
	struct cw_l2 *l2;
	struct cw_err e;
	int held, unlocked, rc;

	while ((l2 = l2_usable(h)) != NULL) {
		if (cw_l2_lock(l2, &q, lock_ms, &held, &e) != CW_OK) {
			l2_failed(h, &e);
			break;
		}
		if (settle_from_l2(h, it, &q)) {
			/* Filled between our miss and our try. */
			if (held && cw_l2_unlock(l2, it->key, it->klen, &e) !=
			    CW_OK)
				l2_failed(h, &e);
			return;
		}
		if (held) {
			rc = from_source(h, it, l2, 1, &unlocked);
			settle(it, rc, CW_LEVEL_L3);
			if (!unlocked && (l2 = l2_usable(h)) != NULL &&
			    cw_l2_unlock(l2, it->key, it->klen, &e) != CW_OK)
				l2_failed(h, &e);
			return;
		}
		if (cw_clock_mono_ns(&h->clock) >= deadline) {
			settle(it, cw_err_set(&it->err, CW_ETIMEOUT, 0,
			    "%.*s: waited %lld ms for another process to fetch "
			    "it", (int)it->klen, it->key, (long long)lock_ms),
			    CW_LEVEL_NONE);
			return;
		}
		cw_clock_sleep_ns(&h->clock, pause);
		pause = min64(pause * 2, WAIT_MAX_NS);
		if (in_l1(h, it))
			return;
	}
	rc = from_source(h, it, NULL, 0, &unlocked);
	settle(it, rc, CW_LEVEL_L3);
}

/* Count, log and describe a settled item that took total_ns. */
static void
finish(struct cw_hier *h, struct cw_hier_item *it, int64_t total_ns)
{
	if (h->l1 != NULL)
		cw_l1_record_lookup(h->l1, total_ns);
	if (h->log != NULL)
		/* The log is a hint for the predictor: losing a line must
		 * not fail the lookup it describes. */
		(void)cw_alog_append(h->log, cw_clock_wall_ns(&h->clock),
		    it->key, it->klen, it->res.level, total_ns, NULL);
	it->res.latency_ns = total_ns;
	if (it->rc == CW_ENOTFOUND)
		cw_err_set(&it->err, CW_ENOTFOUND, 0, "%.*s: not found",
		    (int)it->klen, it->key);
}

/*
 * Look the pending (KEY_MISSED) items up in L1 in one batch; those it
 * answers are settled and finished (KEY_DONE). The lookups of a batch
 * overlap in memory, so no one key's time can be told apart: each is
 * counted at its share of the batch's time.
 */
static void
l1_stage(struct cw_hier *h, struct cw_hier_item *items, size_t n,
    char *state)
{
	size_t m = 0;
	int64_t t0, share;

	for (size_t i = 0; i < n; i++) {
		if (state[i] != KEY_MISSED)
			continue;
		h->l1q[m].key = items[i].key;
		h->l1q[m].klen = items[i].klen;
		h->l1q[m].val = &items[i].val;
		h->item_of[m++] = i;
	}
	if (m == 0 || h->l1 == NULL)
		return;
	t0 = cw_clock_mono_ns(&h->clock);
	cw_l1_get_batch(h->l1, h->l1q, m);
	share = (cw_clock_mono_ns(&h->clock) - t0) / (int64_t)m;
	for (size_t j = 0; j < m; j++) {
		const struct cw_l1_lookup *q = &h->l1q[j];
		struct cw_hier_item *it = &items[h->item_of[j]];

		record(h, CW_LEVEL_L1, result_of(q->rc), share);
		if (q->rc != CW_OK)
			continue;	/* for the levels below */
		settle(it, q->info.flags & CW_L1_NEGATIVE ? CW_ENOTFOUND :
		    CW_OK, CW_LEVEL_L1);
		finish(h, it, share);
		state[h->item_of[j]] = KEY_DONE;
	}
}

/* Make the stages' scratch hold n keys. Grown to the largest batch seen,
 * on the heap: a batch of one key touches no more memory than it needs,
 * which is what a short process pays for (a page fault per page). */
static int
reserve_scratch(struct cw_hier *h, size_t n)
{
	void *p;

	if (n <= h->scratch_cap)
		return CW_OK;
	if ((p = realloc(h->l1q, n * sizeof(*h->l1q))) == NULL)
		return CW_ENOMEM;
	h->l1q = p;
	if ((p = realloc(h->l2q, n * sizeof(*h->l2q))) == NULL)
		return CW_ENOMEM;
	h->l2q = p;
	if ((p = realloc(h->item_of, n * sizeof(*h->item_of))) == NULL)
		return CW_ENOMEM;
	h->item_of = p;
	h->scratch_cap = n;
	return CW_OK;
}

int
cw_hier_get_batch(struct cw_hier *h, struct cw_hier_item *items, size_t n)
{
	int64_t t0 = cw_clock_mono_ns(&h->clock);
	size_t missed = 0;
	char *state;
	int rc;

	if (reserve_scratch(h, n) != CW_OK ||
	    (state = calloc(n > 0 ? n : 1, 1)) == NULL) {
		for (size_t i = 0; i < n; i++)
			items[i].rc = cw_err_set(&items[i].err, CW_ENOMEM, 0,
			    "hierarchy");
		return CW_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct cw_hier_item *it = &items[i];

		it->res.level = CW_LEVEL_NONE;
		if ((rc = cw_key_parse(it->key, it->klen, &h->key,
		    &it->err)) != CW_OK)
			settle(it, rc, CW_LEVEL_NONE);	/* neither counted
							   nor logged */
		else
			state[i] = KEY_MISSED;
	}
	l1_stage(h, items, n, state);
	for (size_t i = 0; i < n; i++)
		missed += state[i] == KEY_MISSED;
	if (missed > 0) {
		l2_stage(h, items, n, state);
		/* Below L1, a key's latency counts from the batch's start:
		 * it waited for the keys before it. */
		for (size_t i = 0; i < n; i++) {
			if (state[i] == KEY_MISSED)
				fetch(h, &items[i]);
			if (state[i] != KEY_DONE)
				finish(h, &items[i],
				    cw_clock_mono_ns(&h->clock) - t0);
		}
	}
	free(state);
	return CW_OK;
}

int
cw_hier_l1_status(const struct cw_hier *h, struct cw_err *err)
{
	if (h->l1 != NULL)
		return CW_OK;
	if (err != NULL)
		*err = h->l1_err;
	return h->l1_err.code;
}

int
cw_hier_get(struct cw_hier *h, const char *key, size_t klen,
    struct cw_buf *val, struct cw_hier_result *res, struct cw_err *err)
{
	struct cw_hier_item it;

	memset(&it, 0, sizeof(it));
	it.key = key;
	it.klen = klen;
	it.val = *val;
	cw_hier_get_batch(h, &it, 1);
	*val = it.val;
	if (res != NULL)
		*res = it.res;
	if (err != NULL && it.rc != CW_OK)
		*err = it.err;
	return it.rc;
}

void
cw_hier_close(struct cw_hier *h)
{
	if (h == NULL)
		return;
	cw_alog_close(h->log);
	cw_src_close(h->src);
	cw_l2_close(h->l2);
	cw_l1_close(h->l1);
	free(h->l1q);
	free(h->l2q);
	free(h->item_of);
	free(h);
}
