/*
 * fill: the fill rules, once, as a step machine per key (cw.h says what
 * the rules are).
 *
 * A key's fill moves LOCK -> (WAITING -> LOCK)* -> FETCHING -> DONE, or
 * ends early when L2 or another process's fill answers. Each step does
 * at most one round trip to Redis and never waits: WAITING says when to
 * look again, FETCHING that the source has the key in flight and
 * cw_fill_poll will finish it. So cw-get drives one key at a time with
 * cw_fill_run, and a warmer keeps many in flight over one source.
 *
 * The handle owns the levels and builds each one's options from the
 * configuration, which it copies: nothing of the caller's is kept.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "fill_int.h"
#include "l2_int.h"
#include "src_int.h"
#include "cal_int.h"
#include "key_int.h"
#include "l1_int.h"

/* How long a waiter waits between looks at L1 and L2 while another
 * process fetches: from 1 ms, doubling to at most 20 ms. */
#define WAIT_FIRST_NS 1000000
#define WAIT_MAX_NS 20000000

struct cw_fill {
	struct cw_clock clock;
	int no_fill;
	unsigned l1_flags;
	int64_t l1_ttl_ms, source_ttl_ms, negative_ttl_ms;
	int l1_ttl_given;		/* by the caller: it wins for L1 */
	int64_t closed_day_ttl_ms;
	char closed_day_types[256];
	int64_t lock_ms;		/* how long a fetcher may hold a key */
	void (*on_degraded)(void *ctx, const char *msg);
	void *on_degraded_ctx;
	/* Each level's options, with the strings they point to. */
	struct cw_l2_opts l2_opts;
	char l2_url[CW_CFG_STR], l2_password_file[CW_CFG_STR];
	char l2_prefix[64];
	struct cw_src_opts src_opts;
	char src_url[CW_CFG_STR];
	char *templates;
	/* The levels. */
	struct cw_l1 *l1;		/* NULL when the file could not be used */
	struct cw_err l1_err;		/* why, then */
	struct cw_l2 *l2;		/* NULL until the first need */
	int l2_configured;
	int l2_reported;		/* its failure was said */
	struct cw_src *src;		/* NULL until the first fetch */
	size_t in_flight;
	struct cw_key key;		/* scratch: the key being submitted */
	struct cw_src_done *done;	/* scratch for cw_fill_poll: the */
	struct cw_l2_write *writes;	/* answers, their stores in L2, */
	size_t *write_of;		/* and which store is whose */
	size_t done_cap;
	struct cw_l1_write *l1_writes;	/* scratch: a batch's L1 fills */
	size_t *l1_write_of;		/* and which fill is whose */
	size_t l1_writes_cap;
};

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The source's options from cfg, its URL and templates at url and
 * templates (copies the caller keeps, or cfg's own). */
static void
src_opts_of(struct cw_src_opts *so, const struct cw_cfg *cfg,
    const char *url, const char *templates, struct cw_clock clock)
{
	memset(so, 0, sizeof(*so));
	so->url = url;
	so->connect_timeout_ms = cfg->source_connect_timeout_ms;
	so->timeout_ms = cfg->source_timeout_ms;
	so->max_value_bytes = cfg->source_max_value_bytes;
	so->templates = templates;
	so->templates_len = cfg->templates_len;
	so->random_endpoint = cfg->source_random_endpoint;
	so->clock = clock;
}

int
cw_fill_check_cfg(const struct cw_cfg *cfg, struct cw_err *err)
{
	struct cw_src_opts so;
	struct cw_src *src;
	int rc;

	if (cfg->l2_url[0] != '\0' &&
	    (rc = cw_l2_check_url(cfg->l2_url, err)) != CW_OK)
		return rc;
	src_opts_of(&so, cfg, cfg->source, cfg->templates, cw_clock_system());
	if ((rc = cw_src_open(&src, &so, err)) != CW_OK)
		return rc;
	cw_src_close(src);
	return CW_OK;
}

int
cw_fill_open(struct cw_fill **out, const struct cw_fill_opts *o,
    struct cw_err *err)
{
	const struct cw_cfg *cfg = o->cfg;
	struct cw_l1_opts lo = { 0 };
	struct cw_fill *f;
	int rc;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->templates = malloc(cfg->templates_len + 1)) == NULL) {
		free(f);
		return cw_err_set(err, CW_ENOMEM, 0, "fill");
	}
	f->clock = o->clock;
	f->no_fill = o->no_fill;
	f->l1_flags = o->l1_flags;
	f->l1_ttl_ms = o->ttl_ms > 0 ? o->ttl_ms : cfg->l1_ttl_ms;
	f->source_ttl_ms = cfg->source_ttl_ms;
	f->negative_ttl_ms = cfg->negative_ttl_ms;
	f->l1_ttl_given = o->ttl_ms > 0;
	f->closed_day_ttl_ms = cfg->closed_day_ttl_ms;
	strcpy(f->closed_day_types, cfg->closed_day_types);
	/* A holder may take the source's whole timeout, and a little. */
	f->lock_ms = cfg->source_timeout_ms + 1000;
	f->on_degraded = o->on_degraded;
	f->on_degraded_ctx = o->on_degraded_ctx;

	strcpy(f->l2_url, cfg->l2_url);
	strcpy(f->l2_password_file, cfg->l2_password_file);
	snprintf(f->l2_prefix, sizeof(f->l2_prefix), "%s", cfg->l2_prefix);
	f->l2_configured = f->l2_url[0] != '\0';
	/* A URL that can never work is the configuration's fault: said at
	 * the start, exit 78, not as a degraded level at the first miss. */
	if (f->l2_configured && (rc = cw_l2_check_url(f->l2_url, err)) !=
	    CW_OK) {
		cw_fill_close(f);
		return rc;
	}
	f->l2_opts.url = f->l2_url;
	f->l2_opts.password_file = f->l2_password_file;
	f->l2_opts.prefix = f->l2_prefix;
	f->l2_opts.ttl_ms = cfg->l2_ttl_ms;
	f->l2_opts.connect_timeout_ms = cfg->l2_connect_timeout_ms;
	f->l2_opts.timeout_ms = cfg->l2_timeout_ms;
	f->l2_opts.failover_ms = cfg->l2_failover_ms;
	f->l2_opts.by_instrument = cfg->l2_by_instrument;
	f->l2_opts.clock = o->clock;
	f->l2_opts.calendar_expiry = cfg->l2_calendar_expiry;

	strcpy(f->src_url, cfg->source);
	memcpy(f->templates, cfg->templates, cfg->templates_len);
	src_opts_of(&f->src_opts, cfg, f->src_url, f->templates, o->clock);

	cw_cfg_l1_opts(cfg, o->clock, &lo);
	lo.role = o->role;
	/* Without L1 the levels below still answer: a full disk, a file
	 * that is not ours or not writable costs speed, not the data. */
	if ((rc = cw_l1_open(&f->l1, &lo, &f->l1_err)) == CW_ENOMEM) {
		if (err != NULL)
			*err = f->l1_err;
		cw_fill_close(f);
		return rc;
	}
	if (rc != CW_OK && f->on_degraded != NULL)
		f->on_degraded(f->on_degraded_ctx, f->l1_err.msg);
	*out = f;
	return CW_OK;
}

int
cw_fill_l1_status(const struct cw_fill *f, struct cw_err *err)
{
	if (f->l1 != NULL)
		return CW_OK;
	if (err != NULL)
		*err = f->l1_err;
	return f->l1_err.code;
}

void
cw_fill_close(struct cw_fill *f)
{
	if (f == NULL)
		return;
	cw_src_close(f->src);
	cw_l2_close(f->l2);
	cw_l1_close(f->l1);
	free(f->done);
	free(f->writes);
	free(f->write_of);
	free(f->l1_writes);
	free(f->l1_write_of);
	free(f->templates);
	free(f);
}

void
cw_fill_int_abandon(struct cw_fill *f)
{
	if (f->in_flight == 0)
		return;
	cw_src_close(f->src);	/* the next fetch opens it again */
	f->src = NULL;
	f->in_flight = 0;
}

/* ---- the levels ---- */

struct cw_l1 *
cw_fill_int_l1(struct cw_fill *f)
{
	return f->l1;
}

void
cw_fill_int_l2_failed(struct cw_fill *f, const struct cw_err *e)
{
	if (f->l2_reported || !cw_l2_down(f->l2))
		return;
	f->l2_reported = 1;
	if (f->on_degraded != NULL)
		f->on_degraded(f->on_degraded_ctx, e->msg);
}

unsigned
cw_fill_int_l2_flags(const struct cw_fill *f)
{
	/* The life left caps an L1 fill: without one it is not asked. */
	return f->no_fill ? CW_L2_VALUES_ONLY : 0;
}

struct cw_l2 *
cw_fill_int_l2(struct cw_fill *f)
{
	struct cw_err e;

	if (!f->l2_configured)
		return NULL;
	if (f->l2 == NULL && cw_l2_open(&f->l2, &f->l2_opts, &e) != CW_OK) {
		/* A bad URL or password file: a configuration error, but
		 * L1 and the source still answer. Said once. */
		f->l2_configured = 0;
		if (f->on_degraded != NULL)
			f->on_degraded(f->on_degraded_ctx, e.msg);
		return NULL;
	}
	return cw_l2_down(f->l2) ? NULL : f->l2;
}

void
cw_fill_int_record(struct cw_fill *f, enum cw_level level,
    enum cw_result result, int64_t latency_ns)
{
	if (f->l1 != NULL)
		cw_l1_record(f->l1, level, result, latency_ns);
}

enum cw_result
cw_fill_int_result_of(int rc)
{
	return rc == CW_OK ? CW_RESULT_HIT : rc == CW_ENOTFOUND ?
	    CW_RESULT_MISS : rc == CW_ETIMEOUT ? CW_RESULT_TIMEOUT :
	    CW_RESULT_ERROR;
}

/* ---- the rules ---- */

/* Each level's lifetime for one key. */
struct lifetimes {
	int64_t l1, l2, source;
};

/*
 * A bar of a trading day that has closed never changes: a key of a type
 * the configuration names, whose date is before today (UTC, by the
 * calendar: the FX day closes at 17:00 New York, before UTC midnight),
 * lives closed_day_ttl at every level; any other key the configured
 * TTLs. A lifetime the caller gave (--ttl) still rules L1.
 */
static struct lifetimes
lifetimes_of(const struct cw_fill *f, const char *key, size_t klen)
{
	struct lifetimes lt = { f->l1_ttl_ms, f->l2_opts.ttl_ms,
		f->source_ttl_ms };
	const char *colon = memchr(key, ':', klen), *date = key + klen - 10;
	char type[CW_KEY_MAX + 3], day[11];
	int y, m, d, n = 0;

	if (f->closed_day_types[0] == '\0' || colon == NULL || klen < 16 ||
	    date[-1] != ':')
		return lt;
	snprintf(type, sizeof(type), " %.*s ", (int)(colon - key), key);
	memcpy(day, date, 10);
	day[10] = '\0';
	if (strstr(f->closed_day_types, type) == NULL ||
	    sscanf(day, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    cw_cal_days_from_civil(y, m, d) >= cw_cal_floor_div(
	    cw_clock_calendar_ns(&f->clock), 86400000000000LL))
		return lt;
	lt.l2 = lt.source = f->closed_day_ttl_ms;
	if (!f->l1_ttl_given)
		lt.l1 = f->closed_day_ttl_ms;
	return lt;
}

int64_t
cw_fill_int_copy_life_ms(const struct cw_fill *f, const char *key,
    size_t klen)
{
	struct lifetimes lt = lifetimes_of(f, key, klen);
	int64_t life = f->l2_configured ? lt.l2 : lt.l1;

	return lt.source < life ? lt.source : life;
}

/* The L1 fill for a lower level's answer (a value, or with
 * CW_L1_NEGATIVE a remembered "not found"), for at most L1's own
 * lifetime, into w; 0 when L1 is not to be filled. */
static int
l1_write_of(struct cw_fill *f, const char *key, size_t klen,
    const struct cw_buf *val, unsigned flags, int64_t ttl_ms,
    struct cw_l1_write *w)
{
	int64_t cap;

	if (f->no_fill || ttl_ms == 0 || f->l1 == NULL)
		return 0;
	cap = lifetimes_of(f, key, klen).l1;
	if (ttl_ms < 0 || ttl_ms > cap)
		ttl_ms = cap;
	*w = (struct cw_l1_write){ key, klen, val->data,
	    flags & CW_L1_NEGATIVE ? 0 : val->len, ttl_ms,
	    flags | f->l1_flags, CW_OK };
	return 1;
}

/* Make one L1 fill, now: CW_FILL_L1 when stored. A failed fill only
 * costs the next lookup. */
static unsigned
store_l1(struct cw_fill *f, const struct cw_l1_write *w)
{
	return cw_l1_set(f->l1, w->key, w->klen, w->val, w->vlen, w->ttl_ms,
	    w->flags, NULL) == CW_OK ? CW_FILL_L1 : 0;
}

/* Make the scratch hold the L1 fills of a batch of n. */
static int
reserve_l1_writes(struct cw_fill *f, size_t n)
{
	void *p;

	if (f->l1_writes_cap >= n)
		return CW_OK;
	if ((p = realloc(f->l1_writes, n * sizeof(*f->l1_writes))) == NULL)
		return CW_ENOMEM;
	f->l1_writes = p;
	if ((p = realloc(f->l1_write_of, n * sizeof(*f->l1_write_of))) ==
	    NULL)
		return CW_ENOMEM;
	f->l1_write_of = p;
	f->l1_writes_cap = n;
	return CW_OK;
}

/* Whether batch member i's L1 fill, if it had one, was stored. */
static unsigned
l1_filled(const struct cw_fill *f, size_t i)
{
	return f->l1_write_of[i] != SIZE_MAX &&
	    f->l1_writes[f->l1_write_of[i]].rc == CW_OK ? CW_FILL_L1 : 0;
}

/* L2's answer q: whether it settles the key (then *rc is CW_OK or
 * CW_ENOTFOUND), and into *w, with flags, the L1 fill it makes (*has_w). */
static int
l2_answer(struct cw_fill *f, const struct cw_l2_lookup *q, unsigned flags,
    int *rc, struct cw_l1_write *w, int *has_w)
{
	*has_w = 0;
	if (q->rc == CW_OK) {
		*has_w = l1_write_of(f, q->key, q->klen, q->val, flags,
		    q->ttl_ms, w);
		*rc = CW_OK;
		return 1;
	}
	if (q->negative) {
		*has_w = l1_write_of(f, q->key, q->klen, q->val,
		    flags | CW_L1_NEGATIVE, min64(q->ttl_ms < 0 ?
		    f->negative_ttl_ms : q->ttl_ms, f->negative_ttl_ms), w);
		*rc = CW_ENOTFOUND;
		return 1;
	}
	return 0;
}

/* L2's answer q: fill L1 from it with flags; which L1 was written
 * (CW_FILL_L1 or 0) into *filled. */
static int
from_l2(struct cw_fill *f, const struct cw_l2_lookup *q, unsigned flags,
    int *rc, unsigned *filled)
{
	struct cw_l1_write w;
	int has_w;

	if (!l2_answer(f, q, flags, rc, &w, &has_w))
		return 0;
	*filled = has_w ? store_l1(f, &w) : 0;
	return 1;
}

void
cw_fill_int_from_l2_many(struct cw_fill *f, const struct cw_l2_lookup *q,
    size_t n, const unsigned *flags, int *settled, int *rc,
    unsigned *filled)
{
	size_t nw = 0;
	int has_w;

	if (reserve_l1_writes(f, n) != CW_OK) {
		unsigned one;

		/* One at a time, then. */
		for (size_t i = 0; i < n; i++) {
			settled[i] = from_l2(f, &q[i], flags != NULL ?
			    flags[i] : 0, &rc[i], &one);
			if (filled != NULL)
				filled[i] = settled[i] ? one : 0;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		f->l1_write_of[i] = SIZE_MAX;
		settled[i] = l2_answer(f, &q[i], flags != NULL ? flags[i] : 0,
		    &rc[i], &f->l1_writes[nw], &has_w);
		if (has_w)
			f->l1_write_of[i] = nw++;
	}
	if (nw > 0)
		cw_l1_set_batch(f->l1, f->l1_writes, nw);
	for (size_t i = 0; filled != NULL && i < n; i++)
		filled[i] = l1_filled(f, i);
}

static void
done(struct cw_fill_key *k, int rc, enum cw_level level)
{
	k->state = CW_FILL_DONE;
	k->rc = rc;
	k->level = rc == CW_OK ? level : CW_LEVEL_NONE;
	if (rc != CW_OK)
		k->val->len = 0;
}

/* Release k's lock if this process holds it. */
static void
release(struct cw_fill *f, struct cw_fill_key *k)
{
	struct cw_l2 *l2;
	struct cw_err e;

	if (!k->held)
		return;
	k->held = 0;
	if ((l2 = cw_fill_int_l2(f)) != NULL &&
	    cw_l2_unlock(l2, k->key, k->klen, &e) != CW_OK)
		cw_fill_int_l2_failed(f, &e);
}

/* Has another process on this host filled L1 meanwhile? */
static int
in_l1(struct cw_fill *f, struct cw_fill_key *k)
{
	struct cw_l1_entry_info info;

	if (f->l1 == NULL || cw_l1_get(f->l1, k->key, k->klen, k->val, &info,
	    NULL) != CW_OK)
		return 0;
	done(k, info.flags & CW_L1_NEGATIVE ? CW_ENOTFOUND : CW_OK,
	    CW_LEVEL_L1);
	return 1;
}

/* Hand k to the source; FETCHING, or done when that fails at once. */
static void
submit(struct cw_fill *f, struct cw_fill_key *k)
{
	int rc;

	if (f->src == NULL && (rc = cw_src_open(&f->src, &f->src_opts,
	    &k->err)) != CW_OK) {
		release(f, k);
		done(k, rc, CW_LEVEL_NONE);
		return;
	}
	if ((rc = cw_key_parse(k->key, k->klen, &f->key, &k->err)) != CW_OK ||
	    (rc = cw_src_submit(f->src, &f->key, k->val, k, &k->err)) !=
	    CW_OK) {
		release(f, k);
		done(k, rc, CW_LEVEL_NONE);
		return;
	}
	k->fetch_ns = cw_clock_elapsed_ns(&f->clock);
	k->state = CW_FILL_FETCHING;
	f->in_flight++;
}

/* Should the source's answer rc for k go to L2? Then w describes it. */
static int
l2_write_of(struct cw_fill *f, const struct cw_fill_key *k, int rc,
    struct cw_l2_write *w)
{
	struct lifetimes lt;

	if (f->no_fill || !k->via_l2 || (rc != CW_OK && (rc != CW_ENOTFOUND ||
	    f->negative_ttl_ms <= 0)))
		return 0;
	w->key = k->key;
	w->klen = k->klen;
	w->val = k->val->data;
	w->vlen = k->val->len;
	/* The lock goes in the round trip that fills L2. */
	w->flags = (k->held ? CW_L2_UNLOCK : 0) |
	    (rc == CW_OK ? 0 : CW_L2_NEGATIVE);
	lt = lifetimes_of(f, k->key, k->klen);
	w->max_ttl_ms = rc == CW_OK ? lt.source : f->negative_ttl_ms;
	w->base_ttl_ms = lt.l2;
	w->ttl_ms = 0;
	w->refused = 0;
	return 1;
}

/*
 * The source answered k with rc, and w is what was stored in L2 for it
 * (NULL: nothing): the L1 fill of the answer into *lw, "not found"
 * included, never longer than L2 was given; 0 when there is none (an
 * error fills nothing).
 */
static int
fetched_l1_write(struct cw_fill *f, struct cw_fill_key *k, int rc,
    const struct cw_l2_write *w, struct cw_l1_write *lw)
{
	struct lifetimes lt = lifetimes_of(f, k->key, k->klen);
	int64_t ttl_ms = min64(lt.l1, lt.source);

	if (w != NULL) {
		if (w->flags & CW_L2_UNLOCK)
			k->held = 0;	/* released, or another's now */
		/* Another process took the key over while we fetched:
		 * its answer is the newer, and ours is cached nowhere. */
		if (w->refused)
			return 0;
		k->filled |= CW_FILL_L2;
	}
	if (f->no_fill || (rc != CW_OK && rc != CW_ENOTFOUND))
		return 0;
	if (rc == CW_OK)
		return l1_write_of(f, k->key, k->klen, k->val, k->l1_flags,
		    w != NULL ? min64(ttl_ms, w->ttl_ms) : ttl_ms, lw);
	return f->negative_ttl_ms > 0 && l1_write_of(f, k->key, k->klen,
	    k->val, CW_L1_NEGATIVE | k->l1_flags, f->negative_ttl_ms, lw);
}

/* ---- the machine ---- */

void
cw_fill_begin(struct cw_fill *f, struct cw_fill_key *k)
{
	k->state = CW_FILL_LOCK;
	k->rc = CW_OK;
	k->level = CW_LEVEL_NONE;
	k->held = 0;
	k->via_l2 = 0;
	k->filled = 0;
	k->deadline_ns = cw_clock_elapsed_ns(&f->clock) + f->lock_ms *
	    1000000;
	k->pause_ns = WAIT_FIRST_NS;
	k->val->len = 0;
	if (cw_key_parse(k->key, k->klen, &f->key, &k->err) != CW_OK)
		done(k, CW_EDATA, CW_LEVEL_NONE);
}

/* One try at k's lock, looking at L2 in the same round trip. */
static void
try_lock(struct cw_fill *f, struct cw_fill_key *k)
{
	struct cw_l2_lookup q = { k->key, k->klen, k->val, 0, 0, 0 };
	struct cw_l2 *l2;
	struct cw_err e;
	int64_t now;
	int held, rc;

	/* Without a usable L2 there is no lock to share: ask directly. */
	if ((l2 = cw_fill_int_l2(f)) == NULL) {
		k->via_l2 = 0;
		submit(f, k);
		return;
	}
	if (cw_l2_lock(l2, &q, f->lock_ms, &held, &e) != CW_OK) {
		cw_fill_int_l2_failed(f, &e);
		k->via_l2 = 0;
		submit(f, k);
		return;
	}
	k->via_l2 = 1;
	k->held = held;
	/* Filled between our miss and our try (a refresh wants the
	 * source's answer, not this one). */
	if (!(k->flags & CW_FILL_REFRESH) && from_l2(f, &q,
	    k->l1_flags, &rc, &k->filled)) {
		release(f, k);
		done(k, rc, CW_LEVEL_L2);
		return;
	}
	if (held) {
		submit(f, k);
		return;
	}
	now = cw_clock_elapsed_ns(&f->clock);
	if (now >= k->deadline_ns) {
		done(k, cw_err_set(&k->err, CW_ETIMEOUT, 0,
		    "%.*s: waited %lld ms for another process to fetch it",
		    (int)k->klen, k->key, (long long)f->lock_ms),
		    CW_LEVEL_NONE);
		return;
	}
	k->state = CW_FILL_WAITING;
	k->wake_ns = now + k->pause_ns;
	k->pause_ns = min64(k->pause_ns * 2, WAIT_MAX_NS);
}

enum cw_fill_state
cw_fill_step(struct cw_fill *f, struct cw_fill_key *k)
{
	for (;;) {
		switch (k->state) {
		case CW_FILL_LOCK:
			try_lock(f, k);
			if (k->state == CW_FILL_LOCK)
				continue;
			return k->state;
		case CW_FILL_WAITING:
			if (cw_clock_elapsed_ns(&f->clock) < k->wake_ns)
				return k->state;
			/* The holder's answer may be in L1 already (it
			 * shares this host) or in L2 (the next try looks);
			 * a refresh waits for the lock itself. */
			if (!(k->flags & CW_FILL_REFRESH) && in_l1(f, k))
				return k->state;
			k->state = CW_FILL_LOCK;
			continue;
		case CW_FILL_FETCHING:
		case CW_FILL_DONE:
			return k->state;
		}
	}
}

/* Make the poll's scratch hold cap answers and their L2 stores. */
static int
reserve_done(struct cw_fill *f, size_t cap)
{
	void *p;

	if (f->done_cap >= cap)
		return CW_OK;
	if ((p = realloc(f->done, cap * sizeof(*f->done))) == NULL)
		return CW_ENOMEM;
	f->done = p;
	if ((p = realloc(f->writes, cap * sizeof(*f->writes))) == NULL)
		return CW_ENOMEM;
	f->writes = p;
	if ((p = realloc(f->write_of, cap * sizeof(*f->write_of))) == NULL)
		return CW_ENOMEM;
	f->write_of = p;
	f->done_cap = cap;
	return CW_OK;
}

size_t
cw_fill_poll(struct cw_fill *f, int64_t wait_ns, struct cw_fill_key **out,
    size_t cap)
{
	struct cw_l2 *l2;
	struct cw_err e;
	size_t n, nw = 0;
	int64_t now;

	if (f->src == NULL || f->in_flight == 0 || cap == 0)
		return 0;
	if ((reserve_done(f, cap) != CW_OK || reserve_l1_writes(f, cap) !=
	    CW_OK) && (cap = f->done_cap < f->l1_writes_cap ? f->done_cap :
	    f->l1_writes_cap) == 0)
		return 0;	/* fewer at a time, or none until memory */
	n = cw_src_poll(f->src, wait_ns, f->done, cap);
	now = cw_clock_elapsed_ns(&f->clock);
	/* Every answer that goes to L2 goes in one round trip. */
	l2 = n > 0 ? cw_fill_int_l2(f) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct cw_fill_key *k = f->done[i].tag;
		int rc = f->done[i].rc;

		f->in_flight--;
		cw_fill_int_record(f, CW_LEVEL_L3,
		    cw_fill_int_result_of(rc), now - k->fetch_ns);
		if (rc != CW_OK && rc != CW_ENOTFOUND)
			k->err = f->done[i].err;
		f->write_of[i] = SIZE_MAX;
		if (l2 != NULL && l2_write_of(f, k, rc, &f->writes[nw]))
			f->write_of[i] = nw++;
	}
	if (nw > 0 && cw_l2_set_many(l2, f->writes, nw, &e) != CW_OK) {
		cw_fill_int_l2_failed(f, &e);
		for (size_t i = 0; i < n; i++)
			f->write_of[i] = SIZE_MAX;	/* none stored */
	}
	/* ...and every answer that goes to L1 under one lock. */
	nw = 0;
	for (size_t i = 0; i < n; i++) {
		struct cw_fill_key *k = f->done[i].tag;

		f->l1_write_of[i] = SIZE_MAX;
		if (fetched_l1_write(f, k, f->done[i].rc, f->write_of[i] ==
		    SIZE_MAX ? NULL : &f->writes[f->write_of[i]],
		    &f->l1_writes[nw]))
			f->l1_write_of[i] = nw++;
	}
	if (nw > 0)
		cw_l1_set_batch(f->l1, f->l1_writes, nw);
	/* Then the locks the L2 stores did not release. */
	for (size_t i = 0; i < n; i++) {
		struct cw_fill_key *k = f->done[i].tag;

		k->filled |= l1_filled(f, i);
		release(f, k);
		done(k, f->done[i].rc, CW_LEVEL_L3);
		out[i] = k;
	}
	return n;
}

size_t
cw_fill_in_flight(const struct cw_fill *f)
{
	return f->in_flight;
}

void
cw_fill_run(struct cw_fill *f, struct cw_fill_key *k)
{
	struct cw_fill_key *got;

	cw_fill_begin(f, k);
	for (;;) {
		switch (cw_fill_step(f, k)) {
		case CW_FILL_WAITING: {
			int64_t left = k->wake_ns -
			    cw_clock_elapsed_ns(&f->clock);

			if (left > 0)
				cw_clock_sleep_ns(&f->clock, left);
			break;
		}
		case CW_FILL_FETCHING:
			(void)cw_fill_poll(f, -1, &got, 1);
			break;
		case CW_FILL_LOCK:
			break;
		case CW_FILL_DONE:
			return;
		}
	}
}

/* ---- for warmers ---- */

/* What is left of a lifetime of life_ms, of which ttl_ms is the whole. */
static double
share_left(int64_t left_ms, int64_t ttl_ms)
{
	return ttl_ms > 0 ? (double)left_ms / (double)ttl_ms : 1;
}

void
cw_fill_freshness(struct cw_fill *f, struct cw_fill_fresh *q, size_t n)
{
	int64_t now = cw_clock_calendar_ns(&f->clock);
	struct cw_l2_lookup *lq = NULL;
	struct cw_buf val = { 0 };
	struct cw_l2 *l2 = cw_fill_int_l2(f);
	struct cw_err e;

	for (size_t i = 0; i < n; i++) {
		struct cw_l1_entry_info info;

		q[i].l1_left = q[i].l2_left = -1;
		q[i].has_l2 = l2 != NULL;
		if (f->l1 != NULL && cw_l1_get(f->l1, q[i].key, q[i].klen, &val,
		    &info, NULL) == CW_OK)
			q[i].l1_left = share_left((info.expires_ns - now) /
			    1000000, lifetimes_of(f, q[i].key, q[i].klen).l1);
	}
	cw_buf_free(&val);
	if (l2 == NULL || n == 0)
		return;
	if ((lq = calloc(n, sizeof(*lq))) == NULL)
		return;	/* unknown counts as absent: it is warmed */
	for (size_t i = 0; i < n; i++) {
		lq[i].key = q[i].key;
		lq[i].klen = q[i].klen;
	}
	/* Lives only: a refresh-ahead run checks its keys every minute, and
	 * asking for the values moved each over the wire to read its PTTL. */
	if (cw_l2_get(l2, lq, n, CW_L2_LIVES_ONLY, &e) != CW_OK)
		cw_fill_int_l2_failed(f, &e);
	else
		for (size_t i = 0; i < n; i++)
			if (lq[i].rc == CW_OK || lq[i].negative)
				q[i].l2_left = lq[i].ttl_ms < 0 ? 1 :
				    share_left(lq[i].ttl_ms, lq[i].negative ?
				    f->negative_ttl_ms : lifetimes_of(f,
				    q[i].key, q[i].klen).l2);
	free(lq);
}

int
cw_fill_drop(struct cw_fill *f, const char *key, size_t klen, int *existed,
    struct cw_err *err)
{
	struct cw_l2 *l2 = cw_fill_int_l2(f);
	int in_l2 = 0, rc;

	*existed = f->l1 != NULL && cw_l1_del(f->l1, key, klen, NULL) ==
	    CW_OK;
	if (l2 == NULL)
		return f->l2_configured ? cw_err_set(err, CW_EUNAVAIL, 0,
		    "%.*s: L2 is down, not dropped there", (int)klen, key) :
		    CW_OK;
	if ((rc = cw_l2_del(l2, key, klen, &in_l2, err)) != CW_OK) {
		cw_fill_int_l2_failed(f, err);
		return rc;
	}
	*existed |= in_l2;
	return CW_OK;
}
