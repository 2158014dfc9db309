/*
 * warm: the warming engine behind cw-warm: tasks in, each filled through
 * the fill machine, many at once.
 *
 * The loop keeps up to `jobs` fills going. The scheduler (sched.c) says
 * which task starts next; a started task is stepped (fill.c) until it
 * waits for another process's fetch, for the source, or is done; the
 * source's answers come from cw_fill_poll, which is also where the loop
 * sleeps, never longer than until the next thing due (a waiter's next
 * look, a retry's back-off, the rate cap's next start, the deadline).
 * Everything time-related reads elapsed time from the clock handed in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"
#include "fill_int.h"
#include "hash_int.h"
#include "sched_int.h"
#include "intern_int.h"
#include "key_int.h"
#include "l2_int.h"
#include "predict_int.h"
#include "warm_int.h"

/* Fresh-check this many keys per L2 round trip. */
#define FRESH_BATCH 256

/* A task being filled. */
struct slot {
	struct cw_fill_key k;
	struct cw_buf val;
	size_t task;		/* index into tasks */
	int64_t started_ns;
	int busy;
};

struct run {
	const struct cw_warm_opts *o;
	struct cw_warm_task *tasks;
	struct cw_fill *fill;
	struct cw_sched *sched;
	struct slot *slots;
	unsigned nslots;
	struct cw_fill_key **done;
	size_t *task_of;	/* the task of each scheduler number */
	struct cw_warm_totals *tot;
	unsigned char *from_l2;	/* per task: L1 wants a copy, L2 has a
				   fresh one (NULL in a dry run) */
	double tokens;		/* the rate cap's bucket */
	int64_t tokens_at_ns;
};

static int64_t
now_ns(const struct run *r)
{
	return cw_clock_elapsed_ns(&r->o->clock);
}

/* Report a task that ended. */
static void
report(struct run *r, struct cw_warm_task *t, int result)
{
	t->result = result;
	r->tot->by_result[result]++;
	if (result == CW_WARM_FAILED) {
		if (t->rc == CW_ENOTFOUND)
			r->tot->not_found++;
		else
			r->tot->worst_rc = cw_exit_worse(cw_exit_code(
			    r->tot->worst_rc), cw_exit_code(t->rc)) ==
			    cw_exit_code(t->rc) ? t->rc : r->tot->worst_rc;
	}
	if ((result == CW_WARM_FAILED || result == CW_WARM_EXPIRED) &&
	    t->prio == CW_PRIO_CRITICAL)
		r->tot->critical_left++;
	if (r->o->on_task != NULL)
		r->o->on_task(r->o->ctx, t);
}

static void
set_filled(struct cw_warm_task *t, unsigned filled)
{
	strcpy(t->filled, filled == (CW_FILL_L1 | CW_FILL_L2) ? "l1,l2" :
	    filled == CW_FILL_L1 ? "l1" : filled == CW_FILL_L2 ? "l2" : "-");
}

/* Mark the tasks that need nothing (fresh in every level), and those
 * whose lower copy is running out (refresh from the source). */
static void
check_fresh(struct run *r, size_t n)
{
	struct cw_fill_fresh q[FRESH_BATCH];
	double below = r->o->refresh_below;

	for (size_t from = 0; from < n; from += FRESH_BATCH) {
		size_t m = n - from < FRESH_BATCH ? n - from : FRESH_BATCH;

		for (size_t i = 0; i < m; i++) {
			q[i].key = r->tasks[from + i].key;
			q[i].klen = r->tasks[from + i].klen;
		}
		cw_fill_freshness(r->fill, q, m);
		for (size_t i = 0; i < m; i++) {
			struct cw_warm_task *t = &r->tasks[from + i];
			int l1_ok = q[i].l1_left >= below;
			int l2_ok = !q[i].has_l2 || q[i].l2_left >= below;

			t->result = -1;
			if (t->flags & (CW_WARM_REFRESH | CW_WARM_DROP))
				continue;
			if (r->o->force)
				t->flags |= CW_WARM_REFRESH;
			else if (l1_ok && l2_ok)
				t->result = CW_WARM_FRESH;
			else if (q[i].has_l2 && q[i].l2_left >= 0 && !l2_ok)
				/* L2's copy is about to go: the source's
				 * answer, not a copy of the old one. */
				t->flags |= CW_WARM_REFRESH;
			else if (r->from_l2 != NULL && q[i].l2_left >= 0)
				r->from_l2[from + i] = 1;
		}
	}
}

int
cw_warm_plan(const struct cw_warm_opts *o, struct cw_warm_task *tasks,
    size_t n, struct cw_err *err)
{
	struct cw_fill_opts fo = { .cfg = o->cfg, .clock = o->clock,
	    .role = CW_ROLE_WARMER };
	struct cw_warm_totals tot;
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.tasks = tasks;
	r.tot = &tot;
	if ((rc = cw_fill_open(&r.fill, &fo, err)) != CW_OK)
		return rc;
	check_fresh(&r, n);
	for (size_t i = 0; i < n; i++)
		if (tasks[i].result < 0)
			tasks[i].result = tasks[i].flags & CW_WARM_DROP ?
			    CW_WARM_DROPPED : tasks[i].flags & CW_WARM_REFRESH ?
			    CW_WARM_REFRESHED : CW_WARM_WARMED;
	cw_fill_close(r.fill);
	return CW_OK;
}

/*
 * The tasks whose L1 copy is missing or low while L2 has a fresh one:
 * L1 filled from L2 a batch at a time, one round trip for FRESH_BATCH
 * keys, as cw-get's batch does, and by the same rules
 * (cw_fill_int_from_l2_many). Through the fill machine each would take
 * the key's lock and release it, two round trips, for an answer no
 * fetch is needed for: a refresh-ahead run is mostly such keys. What L2
 * no longer has (gone since the check) is left to the machine.
 */
static void
fill_from_l2(struct run *r, size_t n)
{
	struct cw_l2_lookup q[FRESH_BATCH];
	struct cw_buf val[FRESH_BATCH];
	unsigned flags[FRESH_BATCH], filled[FRESH_BATCH];
	int settled[FRESH_BATCH], rc[FRESH_BATCH];
	size_t task[FRESH_BATCH], from = 0;
	struct cw_l2 *l2 = cw_fill_int_l2(r->fill);

	memset(val, 0, sizeof(val));
	while (l2 != NULL && from < n) {
		size_t m = 0;
		int64_t t0 = now_ns(r), dt;
		struct cw_err e;

		for (; from < n && m < FRESH_BATCH; from++) {
			if (!r->from_l2[from])
				continue;
			task[m] = from;
			q[m].key = r->tasks[from].key;
			q[m].klen = r->tasks[from].klen;
			q[m].val = &val[m];
			flags[m] = r->tasks[from].prio == CW_PRIO_LOW ?
			    CW_L1_NO_EVICT : 0;
			m++;
		}
		if (m == 0)
			break;
		if (cw_l2_get(l2, q, m, 0, &e) != CW_OK) {
			cw_fill_int_l2_failed(r->fill, &e);
			break;	/* the machine takes them all */
		}
		cw_fill_int_from_l2_many(r->fill, q, m, flags, settled, rc,
		    filled);
		dt = now_ns(r) - t0;
		for (size_t i = 0; i < m; i++) {
			struct cw_warm_task *t = &r->tasks[task[i]];

			if (!settled[i])
				continue;
			r->from_l2[task[i]] = 2;	/* done here */
			t->rc = rc[i];
			t->elapsed_ns = dt;
			t->level = CW_LEVEL_L2;
			set_filled(t, filled[i]);
			if (rc[i] == CW_ENOTFOUND) {
				cw_err_set(&t->err, CW_ENOTFOUND, 0,
				    "not found");
				report(r, t, CW_WARM_FAILED);
			} else {
				report(r, t, CW_WARM_WARMED);
			}
		}
	}
	for (size_t i = 0; i < FRESH_BATCH; i++)
		cw_buf_free(&val[i]);
}

/* May a task start now under the rate cap? */
static int
rate_allows(struct run *r, int64_t now)
{
	double rate = r->o->max_rate;

	if (rate <= 0)
		return 1;
	r->tokens += (double)(now - r->tokens_at_ns) / 1e9 * rate;
	r->tokens_at_ns = now;
	/* A burst of at most a second's worth, and at least one. */
	if (r->tokens > (rate > 1 ? rate : 1))
		r->tokens = rate > 1 ? rate : 1;
	return r->tokens >= 1;
}

/* When the rate cap next lets a task start; INT64_MAX when it holds
 * nothing back. */
static int64_t
rate_wake(const struct run *r, int64_t now)
{
	if (r->o->max_rate <= 0 || r->tokens >= 1)
		return INT64_MAX;
	return now + (int64_t)((1 - r->tokens) / r->o->max_rate * 1e9) + 1;
}

/* A task's fill ended: report it, or queue it for a retry. */
static void
finish(struct run *r, struct slot *s)
{
	struct cw_warm_task *t = &r->tasks[r->task_of[s->task]];
	int64_t now = now_ns(r);
	int failed = s->k.rc != CW_OK && s->k.rc != CW_ENOTFOUND;

	s->busy = 0;
	t->rc = s->k.rc;
	t->tries = cw_sched_tries(r->sched, s->task);
	t->elapsed_ns = now - s->started_ns;
	t->level = s->k.level;
	set_filled(t, s->k.filled);
	if (failed) {
		t->err = s->k.err;
		if (cw_sched_done(r->sched, s->task, 1, now))
			return;	/* critical: again after a back-off */
		report(r, t, CW_WARM_FAILED);
		return;
	}
	cw_sched_done(r->sched, s->task, 0, now);
	if (s->k.rc == CW_ENOTFOUND) {
		cw_err_set(&t->err, CW_ENOTFOUND, 0, "not found");
		report(r, t, CW_WARM_FAILED);
		return;
	}
	report(r, t, t->flags & CW_WARM_REFRESH ? CW_WARM_REFRESHED :
	    CW_WARM_WARMED);
}

/* Start the scheduler's task i in a free slot. */
static void
start(struct run *r, size_t i)
{
	struct cw_warm_task *t = &r->tasks[r->task_of[i]];
	struct slot *s = NULL;
	int existed = 0;

	for (unsigned j = 0; j < r->nslots; j++)
		if (!r->slots[j].busy) {
			s = &r->slots[j];
			break;
		}
	if (t->flags & CW_WARM_DROP) {
		int64_t t0 = now_ns(r);

		t->rc = cw_fill_drop(r->fill, t->key, t->klen, &existed,
		    &t->err);
		t->elapsed_ns = now_ns(r) - t0;
		strcpy(t->filled, existed ? "l1,l2" : "-");
		cw_sched_done(r->sched, i, 0, now_ns(r));
		report(r, t, t->rc == CW_OK ? CW_WARM_DROPPED : CW_WARM_FAILED);
		return;
	}
	memset(&s->k, 0, sizeof(s->k));
	s->busy = 1;
	s->task = i;
	s->started_ns = now_ns(r);
	s->k.key = t->key;
	s->k.klen = t->klen;
	s->k.val = &s->val;
	s->k.flags = t->flags & CW_WARM_REFRESH ? CW_FILL_REFRESH : 0;
	s->k.l1_flags = t->prio == CW_PRIO_LOW ? CW_L1_NO_EVICT : 0;
	s->k.ctx = s;
	cw_fill_begin(r->fill, &s->k);
	if (cw_fill_step(r->fill, &s->k) == CW_FILL_DONE)
		finish(r, s);
}

/* Step the fills that wait for another process; the soonest wake. */
static int64_t
step_waiters(struct run *r, int64_t until)
{
	for (unsigned j = 0; j < r->nslots; j++) {
		struct slot *s = &r->slots[j];

		if (!s->busy || s->k.state != CW_FILL_WAITING)
			continue;
		if (cw_fill_step(r->fill, &s->k) == CW_FILL_DONE) {
			finish(r, s);
			continue;
		}
		if (s->k.state == CW_FILL_WAITING && s->k.wake_ns < until)
			until = s->k.wake_ns;
	}
	return until;
}

/* The deadline passed: what is still queued, backing off or running is
 * expired. */
static void
expire_rest(struct run *r)
{
	size_t ids[64], n;

	for (unsigned j = 0; j < r->nslots; j++)
		if (r->slots[j].busy) {
			struct cw_warm_task *t =
			    &r->tasks[r->task_of[r->slots[j].task]];

			r->slots[j].busy = 0;
			t->elapsed_ns = now_ns(r) - r->slots[j].started_ns;
			cw_err_set(&t->err, CW_ETIMEOUT, 0, "deadline passed");
			t->rc = CW_ETIMEOUT;
			report(r, t, CW_WARM_EXPIRED);
		}
	while ((n = cw_sched_expire(r->sched, ids, 64)) > 0)
		for (size_t i = 0; i < n; i++) {
			struct cw_warm_task *t = &r->tasks[r->task_of[ids[i]]];

			if (t->err.msg[0] == '\0')
				cw_err_set(&t->err, CW_ETIMEOUT, 0,
				    "deadline passed");
			t->rc = CW_ETIMEOUT;
			strcpy(t->filled, "-");
			report(r, t, CW_WARM_EXPIRED);
		}
}

struct scored {
	uint64_t score;
	size_t task;
};

/* Highest score first; the given order among equal scores. */
static int
by_score(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->task < y->task ? -1 : x->task > y->task;
}

/*
 * The order tasks go to the scheduler in, which keeps it among tasks of
 * one class and deadline: as given, or with spread, by each key's score
 * for this host (rendezvous hashing). The host with a key's highest
 * score, its owner among the hosts that run, comes to it first; the
 * others come to it later and mostly find it fetched. No host needs to
 * know which others are alive: one that is not simply fetches nothing.
 * NULL when out of memory.
 */
static size_t *
start_order(const struct cw_warm_task *tasks, size_t n, const char *spread)
{
	size_t *order = malloc((n > 0 ? n : 1) * sizeof(*order));
	struct scored *rk;
	uint64_t seed;

	if (order == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (spread == NULL || n < 2)
		return order;
	if ((rk = malloc(n * sizeof(*rk))) == NULL) {
		free(order);
		return NULL;
	}
	seed = cw_hash(spread, strlen(spread));
	for (size_t i = 0; i < n; i++) {
		rk[i].score = cw_hash_seeded(tasks[i].key, tasks[i].klen, seed);
		rk[i].task = i;
	}
	qsort(rk, n, sizeof(*rk), by_score);
	for (size_t i = 0; i < n; i++)
		order[i] = rk[i].task;
	free(rk);
	return order;
}

int
cw_warm_run(const struct cw_warm_opts *o, struct cw_warm_task *tasks,
    size_t n, struct cw_warm_totals *tot, struct cw_err *err)
{
	struct cw_fill_opts fo = { .cfg = o->cfg, .clock = o->clock,
	    .l1_flags = CW_L1_WARM, .role = CW_ROLE_WARMER };
	struct cw_sched_opts so = { o->jobs > 0 ? o->jobs : 1,
		o->deadline_ns, 200000000, 5000000000ll };
	struct run r;
	size_t *order = NULL;
	int rc;

	memset(tot, 0, sizeof(*tot));
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.tasks = tasks;
	r.tot = tot;
	r.nslots = so.slots;
	fo.on_degraded = o->on_degraded;
	fo.on_degraded_ctx = o->ctx;
	if (o->fill != NULL)
		r.fill = o->fill;
	else if ((rc = cw_fill_open(&r.fill, &fo, err)) != CW_OK)
		return rc;
	tot->l1_rc = cw_fill_l1_status(r.fill, NULL);
	if ((rc = cw_sched_new(&r.sched, &so, err)) != CW_OK)
		goto out;
	if ((r.slots = calloc(r.nslots, sizeof(*r.slots))) == NULL ||
	    (r.done = calloc(r.nslots, sizeof(*r.done))) == NULL ||
	    (r.task_of = calloc(n > 0 ? n : 1, sizeof(*r.task_of))) == NULL ||
	    (r.from_l2 = calloc(n > 0 ? n : 1, 1)) == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "warm");
		goto out;
	}
	check_fresh(&r, n);
	if ((order = start_order(tasks, n, o->spread)) == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "warm");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		tasks[i].tries = 0;
		tasks[i].level = CW_LEVEL_NONE;
		tasks[i].err.msg[0] = '\0';
		strcpy(tasks[i].filled, "-");
	}
	fill_from_l2(&r, n);
	for (size_t j = 0; j < n; j++) {
		size_t id, i = order[j];

		if (r.from_l2[i] == 2)
			continue;	/* filled from L2 */
		if (tasks[i].result == CW_WARM_FRESH) {
			report(&r, &tasks[i], CW_WARM_FRESH);
			continue;
		}
		if ((rc = cw_sched_add(r.sched, tasks[i].prio,
		    tasks[i].deadline_ns > 0 ? tasks[i].deadline_ns :
		    o->deadline_ns, &id, err)) != CW_OK)
			goto out;
		r.task_of[id] = i;
	}
	r.tokens = 1;
	r.tokens_at_ns = now_ns(&r);
	while (cw_sched_left(r.sched) > 0) {
		int64_t now = now_ns(&r), until;
		size_t id, got, left;

		if (now >= o->deadline_ns) {
			expire_rest(&r);
			break;
		}
		while (rate_allows(&r, now) && cw_sched_next(r.sched, now,
		    &id)) {
			r.tokens -= o->max_rate > 0;
			start(&r, id);
		}
		left = cw_sched_left(r.sched);
		until = step_waiters(&r, cw_sched_wake_ns(r.sched));
		if (cw_sched_left(r.sched) == 0)
			break;	/* the last ended without waiting */
		/* A waiter that ended freed its slot for the next task: start
		 * it now, not at the wake computed while every slot was
		 * taken (with nothing in flight, that was the deadline). */
		if (cw_sched_left(r.sched) < left)
			continue;
		if (until > rate_wake(&r, now) && cw_sched_left(r.sched) >
		    cw_fill_in_flight(r.fill))
			until = rate_wake(&r, now);
		now = now_ns(&r);
		if (cw_fill_in_flight(r.fill) > 0) {
			got = cw_fill_poll(r.fill, until > now ? until - now : 0,
			    r.done, r.nslots);
			for (size_t i = 0; i < got; i++)
				finish(&r, r.done[i]->ctx);
		} else if (until > now) {
			cw_clock_sleep_ns(&o->clock, until - now);
		}
	}
	rc = CW_OK;
out:
	if (o->fill == NULL)
		cw_fill_close(r.fill);	/* stops what still runs */
	else
		cw_fill_int_abandon(r.fill);
	for (unsigned j = 0; r.slots != NULL && j < r.nslots; j++)
		cw_buf_free(&r.slots[j].val);
	free(r.slots);
	free(r.done);
	free(r.task_of);
	free(r.from_l2);
	free(order);
	cw_sched_free(r.sched);
	return rc;
}

/* ---- input ---- */

int
cw_warm_parse_line(const char *line, size_t len, int default_prio,
    struct cw_warm_task *t, struct cw_err *err)
{
	const char *col[4] = { line, NULL, NULL, NULL };
	size_t clen[4] = { len, 0, 0, 0 }, ncol = 1;
	struct cw_key k;
	int rc;

	if (len > 0 && line[len - 1] == '\r')
		clen[0] = --len;
	/* Columns: key first; cw-predict's probability third and priority
	 * fourth when present; the rest ignored. */
	for (size_t i = 0; i < len && ncol < 4; i++)
		if (line[i] == '\t') {
			clen[ncol - 1] = (size_t)(line + i - col[ncol - 1]);
			col[ncol] = line + i + 1;
			clen[ncol++] = len - i - 1;
		}
	if (ncol == 4) {
		const char *tab = memchr(col[3], '\t', clen[3]);

		if (tab != NULL)
			clen[3] = (size_t)(tab - col[3]);
	}
	if ((rc = cw_key_parse(col[0], clen[0], &k, err)) != CW_OK)
		return rc;
	memset(t, 0, sizeof(*t));
	memcpy(t->key, col[0], clen[0]);
	t->klen = clen[0];
	t->prio = default_prio;
	if (ncol >= 4 && cw_prio_parse(col[3], clen[3], &t->prio) == CW_OK)
		return CW_OK;
	if (ncol >= 3 && clen[2] > 0 && clen[2] < 32) {
		char num[32];
		double p;

		memcpy(num, col[2], clen[2]);
		num[clen[2]] = '\0';
		if (cw_num_parse_double(num, 0, 1, "probability", &p, NULL) ==
		    CW_OK)
			t->prio = p > 0.7 ? CW_PRIO_HIGH : CW_PRIO_MEDIUM;
	}
	return CW_OK;
}

static int
by_key_then_seq(const void *a, const void *b)
{
	const struct cw_warm_task *x = a, *y = b;
	int c;

	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	if ((c = memcmp(x->key, y->key, x->klen)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
by_seq(const void *a, const void *b)
{
	const struct cw_warm_task *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t
cw_warm_dedup(struct cw_warm_task *t, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;	/* t may be NULL */
	qsort(t, n, sizeof(*t), by_key_then_seq);
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && t[out - 1].klen == t[i].klen &&
		    memcmp(t[out - 1].key, t[i].key, t[i].klen) == 0) {
			struct cw_warm_task *keep = &t[out - 1];

			/* The first place, the most urgent class, the
			 * earliest deadline, every flag. */
			if (t[i].prio < keep->prio)
				keep->prio = t[i].prio;
			if (t[i].deadline_ns > 0 && (keep->deadline_ns == 0 ||
			    t[i].deadline_ns < keep->deadline_ns))
				keep->deadline_ns = t[i].deadline_ns;
			keep->flags |= t[i].flags;
			continue;
		}
		if (out != i)
			t[out] = t[i];
		out++;
	}
	qsort(t, out, sizeof(*t), by_seq);
	return out;
}

/* ---- what was read lately (--optimize, --refresh-ahead) ---- */

struct hot {
	struct cw_intern keys;
	uint32_t *count;
	size_t cap;
};

/* Count the reads of one log file's lines since since_s answered at
 * level ("l2"; NULL: any). */
static int
count_reads(struct hot *h, const char *path, int64_t since_s,
    const char *level, struct cw_err *err)
{
	char tag[8];
	size_t taglen = 0;
	struct cw_lines in = { .fd = -1 };
	struct cw_log_line ll;
	const char *line;
	size_t len;
	int rc;

	/* The field after the key: ",l2," (NULL: no filter). */
	if (level != NULL)
		taglen = (size_t)snprintf(tag, sizeof(tag), ",%.4s,", level);
	if ((in.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? CW_ENOTFOUND : cw_err_set(err, CW_EIO,
		    errno, "log %s", path);
	for (;;) {
		while (cw_lines_next(&in, &line, &len)) {
			int64_t id;

			/* "ts,key,level,latency_us[,count]" */
			if (cw_predict_parse_line(line, len, &ll) != CW_OK ||
			    ll.ts_ms / 1000 < since_s || ll.rest_len < taglen ||
			    memcmp(ll.rest, tag, taglen) != 0)
				continue;
			if ((id = cw_intern_id(&h->keys, ll.key, ll.klen, 1)) < 0)
				goto nomem;
			if ((size_t)id >= h->cap) {
				size_t cap = h->cap ? 2 * h->cap : 1024;
				void *p = realloc(h->count, cap *
				    sizeof(*h->count));

				if (p == NULL)
					goto nomem;
				memset((uint32_t *)p + h->cap, 0, (cap -
				    h->cap) * sizeof(*h->count));
				h->count = p;
				h->cap = cap;
			}
			h->count[id] += ll.reads;
		}
		if ((rc = cw_lines_fill(&in, err)) == CW_ENOTFOUND)
			break;
		if (rc != CW_OK)
			goto out;
	}
	rc = CW_OK;
	goto out;
nomem:
	rc = cw_err_set(err, CW_ENOMEM, 0, "log %s", path);
out:
	close(in.fd);
	cw_lines_free(&in);
	return rc;
}

struct ranked {
	uint32_t id, count;
};

static int
by_count(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int
cw_warm_read_lately(const char *path, int64_t since_s, unsigned min_reads,
    const char *level, struct cw_buf *keys, size_t *n, struct cw_err *err)
{
	struct hot h;
	struct ranked *r = NULL;
	char rotated[CW_PATH_MAX + 3];
	size_t m = 0;
	int rc, rc1;

	memset(&h, 0, sizeof(h));
	*n = 0;
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	if ((rc1 = count_reads(&h, rotated, since_s, level, err)) != CW_OK &&
	    rc1 != CW_ENOTFOUND) {
		rc = rc1;
		goto out;
	}
	if ((rc = count_reads(&h, path, since_s, level, err)) ==
	    CW_ENOTFOUND &&
	    rc1 == CW_OK)
		rc = CW_OK;
	if (rc != CW_OK)
		goto out;
	if (h.keys.n > 0 && (r = malloc(h.keys.n * sizeof(*r))) == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "log %s", path);
		goto out;
	}
	for (size_t i = 0; i < h.keys.n; i++)
		if (h.count[i] >= min_reads) {
			r[m].id = (uint32_t)i;
			r[m++].count = h.count[i];
		}
	if (m > 0)
		qsort(r, m, sizeof(*r), by_count);
	for (size_t i = 0; i < m && rc == CW_OK; i++)
		rc = cw_buf_appendf(keys, err, "%s\n",
		    cw_intern_name(&h.keys, r[i].id));
	*n = m;
out:
	free(r);
	free(h.count);
	cw_intern_free(&h.keys);
	return rc;
}
