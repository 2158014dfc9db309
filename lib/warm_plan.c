/*
 * warm_plan: the list of what a cw-warm run warms, built from its inputs:
 * input lines (keys, cw-predict's TSV), a session's opening, a forecast.
 * The program reads the inputs and says what was wrong with them; which
 * task each becomes, with which class and deadline, is decided here.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "calendar_int.h"
#include "l1_int.h"
#include "predict_int.h"
#include "sched_int.h"
#include "warm_int.h"

/* Room for one more task, zeroed and numbered in input order. */
static struct cw_warm_task *
next_task(struct cw_warm_plan *p, struct cw_err *err)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		void *q = realloc(p->t, cap * sizeof(*p->t));

		if (q == NULL) {
			cw_err_set(err, CW_ENOMEM, 0, "warming plan");
			return NULL;
		}
		p->t = q;
		p->cap = cap;
	}
	memset(&p->t[p->n], 0, sizeof(p->t[0]));
	p->t[p->n].seq = p->n;
	return &p->t[p->n++];
}

int
cw_warm_plan_line(struct cw_warm_plan *p, const char *line, size_t len,
    int prio, unsigned flags, struct cw_err *err)
{
	struct cw_warm_task t, *slot;
	int rc;

	if ((rc = cw_warm_parse_line(line, len, prio, &t, err)) != CW_OK)
		return rc;
	if ((slot = next_task(p, err)) == NULL)
		return CW_ENOMEM;
	t.flags = flags;
	t.seq = slot->seq;
	*slot = t;
	return CW_OK;
}

/* The keys of a session's opening, critical, due at its open (at_s is
 * the planning moment, now_ns the elapsed time that stands for it). */
static int
plan_opening(struct cw_warm_plan *p, const struct cw_calendar *cal,
    const struct cw_cal_open *o, int64_t at_s, int64_t now_ns,
    struct cw_err *err)
{
	struct cw_buf keys = { 0 };
	int rc;

	if ((rc = cw_calendar_keys(cal, o, &keys, err)) != CW_OK)
		goto out;
	for (size_t at = 0; at < keys.len && rc == CW_OK;) {
		const char *nl = memchr(keys.data + at, '\n', keys.len - at);
		size_t n = (size_t)(nl - (keys.data + at));

		/* Critical, due at the open: that is what it is for. */
		if ((rc = cw_warm_plan_line(p, keys.data + at, n,
		    CW_PRIO_CRITICAL, 0, err)) == CW_OK && o->open_s > at_s)
			p->t[p->n - 1].deadline_ns = now_ns +
			    (o->open_s - at_s) * 1000000000;
		at += n + 1;
	}
out:
	cw_buf_free(&keys);
	return rc;
}

int
cw_warm_plan_forecast(struct cw_warm_plan *p, const struct cw_forecast *list,
    size_t n, int prio, struct cw_err *err)
{
	int rc = CW_OK;

	for (size_t i = 0; i < n && rc == CW_OK; i++) {
		int cls = prio;

		/* The forecast's own class, else its probability's. */
		if (cls < 0 && cw_prio_parse(list[i].priority,
		    strlen(list[i].priority), &cls) != CW_OK)
			cls = list[i].probability > 0.7 ? CW_PRIO_HIGH :
			    CW_PRIO_MEDIUM;
		rc = cw_warm_plan_line(p, list[i].key, strlen(list[i].key), cls,
		    0, err);
	}
	return rc;
}

void
cw_warm_plan_finish(struct cw_warm_plan *p)
{
	p->n = cw_warm_dedup(p->t, p->n);
	for (size_t i = 0; i < p->n; i++)
		p->t[i].seq = i;
}

void
cw_warm_plan_free(struct cw_warm_plan *p)
{
	free(p->t);
	memset(p, 0, sizeof(*p));
}

int
cw_warm_plan_sessions(struct cw_warm_plan *p, const struct cw_calendar *cal,
    const char *name, int64_t at_s, int64_t lead_s, int64_t now_ns,
    struct cw_cal_open *opened, size_t cap, size_t *n, struct cw_err *err)
{
	const struct cw_cal_session *s;
	int rc = CW_OK;

	*n = 0;
	if (strcmp(name, "auto") == 0) {
		*n = cw_calendar_opening(cal, at_s, lead_s, opened, cap);
		*n += cw_calendar_releasing(cal, at_s, lead_s, opened + *n,
		    cap - *n);
	} else {
		if (strcmp(name, "new_york") == 0)
			name = "newyork";	/* cw-predict's spelling */
		if ((s = cw_calendar_session(cal, name)) == NULL)
			return cw_err_set(err, CW_ENOTFOUND, 0,
			    "'%s': not in the calendar", name);
		if (cap > 0 && cw_calendar_day_of(cal, s, at_s, &opened[0]) ==
		    CW_OK)
			*n = 1;
	}
	for (size_t i = 0; i < *n && rc == CW_OK; i++)
		rc = plan_opening(p, cal, &opened[i], at_s, now_ns,
		    err);
	return rc;
}

int
cw_warm_plan_predicted(struct cw_warm_plan *p, const char *state,
    int64_t at_s, int64_t look_ahead_s, double min_probability, int prio,
    struct cw_err *err)
{
	struct cw_forecast_opts fo = { min_probability, 0, 0 };
	struct cw_forecast *list;
	struct cw_predict *m;
	size_t n;
	int rc;

	if ((rc = cw_predict_load(&m, state, err)) != CW_OK)
		return rc;
	cw_predict_advance(m, at_s);
	rc = cw_predict_forecast(m, at_s, look_ahead_s, &fo, &list, &n, err);
	cw_predict_free(m);
	if (rc != CW_OK)
		return rc;
	rc = cw_warm_plan_forecast(p, list, n, prio, err);
	free(list);
	return rc;
}

/* What --optimize promotes: L2 answered it this often in this window. */
#define HOT_WINDOW_S 3600
#define HOT_MIN_READS 2

int
cw_warm_plan_optimize(struct cw_warm_plan *p, const struct cw_cfg *cfg,
    int64_t at_s, struct cw_clock clock, uint64_t *reclaimed,
    size_t *promoted, struct cw_err *err)
{
	struct cw_l1_opts lo = { 0 };
	struct cw_buf keys = { 0 };
	struct cw_l1 *l1;
	struct cw_err e2;
	int rc, rc2;

	*reclaimed = 0;
	*promoted = 0;
	cw_cfg_l1_opts(cfg, clock, &lo);
	lo.must_exist = 1;
	if ((rc = cw_l1_open(&l1, &lo, err)) == CW_OK) {
		rc = cw_l1_reclaim(l1, reclaimed, err);
		cw_l1_close(l1);
	}
	/* Without L1 there is nothing to reclaim, and still what to
	 * promote: the first failure is the one reported. */
	rc2 = cw_warm_read_lately(cfg->log_file, at_s - HOT_WINDOW_S,
	    HOT_MIN_READS, "l2", &keys, promoted, rc == CW_OK ? err : &e2);
	if (rc2 == CW_ENOTFOUND)
		rc2 = CW_OK;	/* no log yet: nothing read */
	for (size_t at = 0; rc2 == CW_OK && at < keys.len;) {
		const char *nl = memchr(keys.data + at, '\n', keys.len - at);
		size_t len = (size_t)(nl - (keys.data + at));

		rc2 = cw_warm_plan_line(p, keys.data + at, len, CW_PRIO_HIGH,
		    0, rc == CW_OK ? err : &e2);
		at += len + 1;
	}
	cw_buf_free(&keys);
	return rc != CW_OK ? rc : rc2;
}

int
cw_warm_plan_refresh_ahead(struct cw_warm_plan *p, const struct cw_cfg *cfg,
    int64_t at_s, size_t *n, struct cw_err *err)
{
	struct cw_buf keys = { 0 };
	int rc;

	*n = 0;
	/* Readers' lookups only: cw-warm's own fills are not in the log,
	 * so a key nobody reads stops being refreshed. */
	rc = cw_warm_read_lately(cfg->log_file, at_s - CW_REFRESH_RECENT_S, 1,
	    NULL, &keys, n, err);
	if (rc == CW_ENOTFOUND)
		rc = CW_OK;	/* no log yet: nothing read */
	for (size_t at = 0; rc == CW_OK && at < keys.len;) {
		const char *nl = memchr(keys.data + at, '\n', keys.len - at);
		size_t len = (size_t)(nl - (keys.data + at));

		rc = cw_warm_plan_line(p, keys.data + at, len, CW_PRIO_HIGH, 0,
		    err);
		at += len + 1;
	}
	cw_buf_free(&keys);
	return rc;
}
