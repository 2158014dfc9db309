/*
 * hier: lookups through the levels, L1 file -> Redis -> source.
 *
 * A batch goes level by level: every key is tried in L1, the misses in L2
 * in one round trip, and what is still missing is filled one key at a
 * time by the fill machine (fill.c), which holds every rule of how the
 * levels fill: the TTL cascade, remembered misses, single flight. This
 * module only looks up, counts and logs.
 *
 * Nothing below L1 is opened or connected before a lookup needs it. A
 * level that fails is counted, reported once through on_degraded, and
 * bypassed; what L1 holds is still served.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "fill_int.h"
#include "l2_int.h"
#include "alog_int.h"
#include "key_int.h"
#include "l1_int.h"

/* Where each key of a batch stands between the stages: KEY_NEW keys are
 * not yet checked against the grammar (see l1_stage). */
enum { KEY_DONE, KEY_MISSED, KEY_SETTLED, KEY_NEW };

struct cw_hier {
	struct cw_fill *fill;	/* the levels, and how they fill */
	struct cw_clock clock;
	int64_t stale_ms;	/* [l1] stale_if_error; 0: off */
	struct cw_alog *log;	/* NULL when not logging */
	/* Scratch for the stages of a batch, kept between batches: the
	 * lookups of the L1 and L2 stages, and the item each stands for. */
	struct cw_l1_lookup *l1q;
	struct cw_l2_lookup *l2q;
	size_t *item_of;
	int *l2_settled, *l2_rc;	/* what L2's answers made of them */
	size_t scratch_cap;
};

int
cw_hier_open(struct cw_hier **out, const struct cw_hier_opts *o,
    struct cw_err *err)
{
	struct cw_fill_opts fo = { 0 };
	struct cw_hier *h;
	struct cw_err e;
	int rc;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "hierarchy");
	h->clock = o->clock;
	h->stale_ms = o->cfg->l1_stale_if_error_ms;
	fo.cfg = o->cfg;
	fo.clock = o->clock;
	fo.no_fill = o->no_fill;
	fo.ttl_ms = o->ttl_ms;
	fo.on_degraded = o->on_degraded;
	fo.on_degraded_ctx = o->on_degraded_ctx;
	if ((rc = cw_fill_open(&h->fill, &fo, err)) != CW_OK)
		goto fail;
	/* A log that cannot be written costs the predictor its data, not
	 * the reader its answers: said once, and the lookups go on. A log
	 * shared through l1.group is the group's to append to. */
	if (o->log_access && o->cfg->log_file[0] != '\0' &&
	    (rc = cw_alog_open(&h->log, o->cfg->log_file,
	    o->cfg->log_max_bytes, o->cfg->log_keep, o->cfg->l1_gid >= 0 ?
	    0660 : 0600, &e)) != CW_OK) {
		if (rc == CW_ENOMEM) {
			cw_err_set(err, rc, 0, "%s", e.msg);
			goto fail;
		}
		if (o->on_degraded != NULL)
			o->on_degraded(o->on_degraded_ctx, e.msg);
		h->log = NULL;
	}
	*out = h;
	return CW_OK;
fail:
	cw_hier_close(h);
	return rc;
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

/* Look the items that L1 missed up in L2, in one round trip; those it
 * answers become KEY_SETTLED. Returns the stage's time, which each of
 * its keys waited. */
static int64_t
l2_stage(struct cw_hier *h, struct cw_hier_item *items, size_t n,
    char *state)
{
	struct cw_l2 *l2;
	struct cw_err e;
	size_t m = 0;
	int64_t t0, dt;
	int rc;

	if ((l2 = cw_fill_int_l2(h->fill)) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (state[i] != KEY_MISSED)
			continue;
		h->l2q[m].key = items[i].key;
		h->l2q[m].klen = items[i].klen;
		h->l2q[m].val = &items[i].val;
		h->item_of[m++] = i;
	}
	t0 = cw_clock_elapsed_ns(&h->clock);
	rc = cw_l2_get(l2, h->l2q, m, cw_fill_int_l2_flags(h->fill), &e);
	dt = cw_clock_elapsed_ns(&h->clock) - t0;
	if (rc == CW_OK)
		cw_fill_int_from_l2_many(h->fill, h->l2q, m, NULL,
		    h->l2_settled, h->l2_rc, NULL);
	for (size_t j = 0; j < m; j++) {
		const struct cw_l2_lookup *q = &h->l2q[j];
		struct cw_hier_item *it = &items[h->item_of[j]];

		cw_fill_int_record(h->fill, CW_LEVEL_L2, rc != CW_OK ?
		    cw_fill_int_result_of(rc) : q->negative ?
		    CW_RESULT_HIT : cw_fill_int_result_of(q->rc), dt);
		if (rc == CW_OK && h->l2_settled[j]) {
			settle(it, h->l2_rc[j], CW_LEVEL_L2);
			state[h->item_of[j]] = KEY_SETTLED;
		}
	}
	if (rc != CW_OK)
		cw_fill_int_l2_failed(h->fill, &e);
	return cw_clock_elapsed_ns(&h->clock) - t0;
}

/*
 * Stale if error (RFC 5861's idea): every level below L1 failed for the
 * item (rc), so L1's value, if it expired less than stale_if_error ago,
 * is served as it was. The item keeps the failure in res.stale_rc and
 * err, for the caller to say so and to choose the exit status.
 */
static void
serve_stale(struct cw_hier *h, struct cw_hier_item *it, int rc)
{
	struct cw_l1 *l1 = cw_fill_int_l1(h->fill);
	struct cw_l1_entry_info info;

	if (l1 == NULL || cw_l1_get_stale(l1, it->key, it->klen, h->stale_ms,
	    &it->val, &info, NULL) != CW_OK)
		return;
	settle(it, CW_OK, CW_LEVEL_L1);
	it->res.stale_rc = rc;
	it->res.stale_ns = cw_clock_calendar_ns(&h->clock) - info.expires_ns;
	if (it->res.stale_ns <= 0)
		it->res.stale_ns = 1;	/* expired as it was read */
}

/* Fill an item that no level above the source had: the fill machine,
 * driven to its end. */
static void
fetch(struct cw_hier *h, struct cw_hier_item *it)
{
	struct cw_fill_key k;

	memset(&k, 0, sizeof(k));
	k.key = it->key;
	k.klen = it->klen;
	k.val = &it->val;
	cw_fill_run(h->fill, &k);
	if (k.rc != CW_OK && k.rc != CW_ENOTFOUND)
		it->err = k.err;
	settle(it, k.rc, k.level);
	if (k.rc != CW_OK && k.rc != CW_ENOTFOUND && h->stale_ms > 0)
		serve_stale(h, it, k.rc);
}

/* Log and describe a settled item that took total_ns, answered at
 * calendar time now_ns; its lookup is counted by the caller. key_hash:
 * the key's cw_hash when L1 computed it, else 0. */
static void
finish(struct cw_hier *h, struct cw_hier_item *it, int64_t total_ns,
    int64_t now_ns, uint64_t key_hash)
{
	/* The log is a hint for the predictor: losing a line must not fail
	 * the lookup it describes. */
	if (h->log != NULL && key_hash != 0)
		(void)cw_alog_append_hashed(h->log, now_ns, it->key, it->klen,
		    key_hash, it->res.level, total_ns, NULL);
	else if (h->log != NULL)
		(void)cw_alog_append(h->log, now_ns, it->key, it->klen,
		    it->res.level, total_ns, NULL);
	it->res.latency_ns = total_ns;
	if (it->rc == CW_ENOTFOUND)
		cw_err_set(&it->err, CW_ENOTFOUND, 0, "%.*s: not found",
		    (int)it->klen, it->key);
}

/* The same for an item settled below L1 (or not at all), counted on
 * its own. */
static void
finish_below(struct cw_hier *h, struct cw_hier_item *it, int64_t total_ns)
{
	if (cw_fill_int_l1(h->fill) != NULL)
		cw_l1_record_lookup(cw_fill_int_l1(h->fill), total_ns);
	finish(h, it, total_ns, cw_clock_calendar_ns(&h->clock), 0);
}

/* Check a key L1 did not answer against the grammar: KEY_MISSED, for
 * the levels below, or settled with the refusal, neither counted nor
 * logged (KEY_DONE). */
static int
checked(struct cw_hier_item *it)
{
	int rc = cw_key_check(it->key, it->klen, &it->err);

	if (rc == CW_OK)
		return KEY_MISSED;
	settle(it, rc, CW_LEVEL_NONE);
	return KEY_DONE;
}

/*
 * Look the new (KEY_NEW) items up in L1 in one batch; those it answers
 * are settled and finished (KEY_DONE), the others checked (checked()).
 *
 * A key is checked after L1, and only when L1 did not answer it: the
 * grammar guards what a key reaches below L1 (file paths, query text),
 * and a key L1 answers reaches none of that. It equals, byte for byte, a
 * key that was stored, and every store's key passed the grammar first
 * (the fill machine parses each key it fills; an entry stored by an
 * earlier build passed that build's, until it expires). It reaches
 * only the output and the access log, which escape and quote what they
 * write. The check was a fifth of
 * a batch hit's instructions (issue 17). The lookups of a batch
 * overlap in memory, so no one key's time can be told apart: each is
 * counted at its share of the batch's time, all in one count per
 * outcome, and logged at the time the batch ended. Returns that share.
 */
static int64_t
l1_stage(struct cw_hier *h, struct cw_hier_item *items, size_t n,
    char *state)
{
	struct cw_l1 *l1 = cw_fill_int_l1(h->fill);
	uint64_t results[CW_RESULT_COUNT] = { 0 };
	size_t m = 0;
	int64_t t0, share, now;

	for (size_t i = 0; i < n; i++) {
		if (state[i] != KEY_NEW)
			continue;
		h->l1q[m].key = items[i].key;
		h->l1q[m].klen = items[i].klen;
		h->l1q[m].val = &items[i].val;
		h->item_of[m++] = i;
	}
	if (m == 0 || l1 == NULL)
		return 0;
	t0 = cw_clock_elapsed_ns(&h->clock);
	cw_l1_get_batch(l1, h->l1q, m);
	share = (cw_clock_elapsed_ns(&h->clock) - t0) / (int64_t)m;
	now = cw_clock_calendar_ns(&h->clock);
	for (size_t j = 0; j < m; j++) {
		const struct cw_l1_lookup *q = &h->l1q[j];
		struct cw_hier_item *it = &items[h->item_of[j]];

		if (q->rc != CW_OK) {
			/* For the levels below, if it is a key at all. */
			if ((state[h->item_of[j]] = (char)checked(it)) ==
			    KEY_MISSED)
				results[cw_fill_int_result_of(q->rc)]++;
			continue;
		}
		results[CW_RESULT_HIT]++;
		settle(it, q->info.flags & CW_L1_NEGATIVE ? CW_ENOTFOUND :
		    CW_OK, CW_LEVEL_L1);
		it->res.l1_expires_ns = q->info.expires_ns;
		finish(h, it, share, now, q->key_hash);
		state[h->item_of[j]] = KEY_DONE;
	}
	for (int r = 0; r < CW_RESULT_COUNT; r++)
		cw_l1_record_many(l1, CW_LEVEL_L1, (enum cw_result)r, share,
		    results[r]);
	cw_l1_record_lookups(l1, share, results[CW_RESULT_HIT]);
	return share;
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
	if ((p = realloc(h->l2_settled, n * sizeof(*h->l2_settled))) == NULL)
		return CW_ENOMEM;
	h->l2_settled = p;
	if ((p = realloc(h->l2_rc, n * sizeof(*h->l2_rc))) == NULL)
		return CW_ENOMEM;
	h->l2_rc = p;
	h->scratch_cap = n;
	return CW_OK;
}

int
cw_hier_get_batch(struct cw_hier *h, struct cw_hier_item *items, size_t n)
{
	size_t missed = 0;
	int64_t waited, t0;
	char *state;

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
		it->res.stale_ns = 0;
		it->res.stale_rc = CW_OK;
		it->res.l1_expires_ns = 0;
		state[i] = KEY_NEW;
	}
	waited = l1_stage(h, items, n, state);
	for (size_t i = 0; i < n; i++) {
		if (state[i] == KEY_NEW)	/* no L1 */
			state[i] = (char)checked(&items[i]);
		missed += state[i] == KEY_MISSED;
	}
	if (missed > 0) {
		/* Below L1, a key's latency is the stages it took part in
		 * (its share of L1's, L2's round trip, its own fetch), not
		 * its wait behind the keys before it: a warm-up batch of
		 * misses must not read as slow lookups. */
		waited += l2_stage(h, items, n, state);
		for (size_t i = 0; i < n; i++) {
			t0 = cw_clock_elapsed_ns(&h->clock);
			if (state[i] == KEY_MISSED)
				fetch(h, &items[i]);
			if (state[i] != KEY_DONE)
				finish_below(h, &items[i], waited +
				    cw_clock_elapsed_ns(&h->clock) - t0);
		}
	}
	free(state);
	return CW_OK;
}

int
cw_hier_l1_status(const struct cw_hier *h, struct cw_err *err)
{
	return cw_fill_l1_status(h->fill, err);
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
	cw_fill_close(h->fill);
	free(h->l1q);
	free(h->l2q);
	free(h->item_of);
	free(h->l2_settled);
	free(h->l2_rc);
	free(h);
}
