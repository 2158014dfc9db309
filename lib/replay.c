/*
 * replay: a trace through the real levels on a simulated calendar, one
 * warming strategy at a time.
 *
 * The replay's environment is its clock (cw_clock_replay): the calendar
 * reads the trace's own time, set before each lookup and before each
 * cron tick, so L1 and L2 entries expire, sessions open and the
 * predictor learns as they would have; elapsed time stays real, so a
 * lookup's latency is what the levels really cost, and a simulated hour
 * between two lookups costs nothing. Redis expires by its own clock,
 * which the replay cannot move: L2 judges expiry by calendar stamps
 * instead (cw_l2_opts.calendar_expiry).
 *
 * Lookups go through the hierarchy as cw-get's do; warming goes through
 * the warming engine as cw-warm's runs do, with the levels kept open
 * across runs. The strategies differ only in which tasks a tick plans.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"
#include "calendar_int.h"
#include "fill_int.h"
#include "intern_int.h"
#include "l2_int.h"
#include "trace_int.h"
#include "cal_int.h"
#include "hist_int.h"
#include "key_int.h"
#include "predict_int.h"
#include "warm_int.h"

#define REFRESH_TICK_S 60	/* refresh-ahead runs every minute */
#define REFRESH_BELOW 0.25	/* with less than a quarter of a TTL left */
#define SESSION_LEAD_S 1800	/* cw-warm --session auto's look ahead */
#define RUN_DEADLINE_NS 60000000000LL	/* a warm run's bound, real */
#define BACKFILL_DEADLINE_NS 1800000000000LL	/* the backfill's */
#define BACKFILL_AT_S 300	/* each day's backfill, after midnight UTC */
#define BACKFILL_LEARN_S 86400	/* the key space: the first day's reads */

static const char *const strategy_names[CW_STRATEGY_COUNT] = {
	"none", "market_open", "predictive", "refresh_ahead", "oracle",
	"backfill", "xfetch", "combined", "combined_oracle",
};

/* What a strategy does, for those that share their parts with
 * combined: keep the keys read lately (refresh-ahead), learn from every
 * read (the predictor), warm recent closed days (backfill). */
static int
runs_combined(int s)
{
	return s == CW_STRATEGY_COMBINED || s == CW_STRATEGY_COMBINED_ORACLE;
}

static int
keeps_recent(int s)
{
	return s == CW_STRATEGY_REFRESH_AHEAD || s == CW_STRATEGY_BACKFILL ||
	    runs_combined(s);
}

static int
learns(int s)
{
	return s == CW_STRATEGY_PREDICTIVE || s == CW_STRATEGY_COMBINED;
}

static int
backfills(int s)
{
	return s == CW_STRATEGY_BACKFILL || runs_combined(s);
}

const char *
cw_strategy_name(int s)
{
	return s >= 0 && s < CW_STRATEGY_COUNT ? strategy_names[s] : "?";
}

int
cw_strategy_parse(const char *s, size_t len, int *out)
{
	for (int i = 0; i < CW_STRATEGY_COUNT; i++)
		if (strlen(strategy_names[i]) == len &&
		    memcmp(s, strategy_names[i], len) == 0) {
			*out = i;
			return CW_OK;
		}
	return CW_EUSAGE;
}

/* What the replay knows of each key (ids of its own table: the trace's
 * first, in the trace's order, then keys only warming named). */
struct key_state {
	int64_t warm_until_ms;	/* a warm fetch unread until then; 0 none */
	int64_t last_read_ms;	/* -1: never */
	int recent;		/* on the refresh-ahead list */
	uint32_t count;		/* the oracle's reads in its window */
};

struct replay {
	const struct cw_replay_opts *o;
	const struct cw_trace *t;
	int strategy;
	struct cw_replay_result *r;
	struct cw_cfg cfg;
	int64_t calendar_ns;
	struct cw_clock clock;
	struct cw_hier *hier;
	struct cw_fill *warm_fill;
	struct cw_calendar *cal;
	struct cw_predict *model;
	struct cw_l1_stats *stats;
	struct cw_intern ids;
	struct key_state *ks;
	size_t nks;
	uint32_t *recent;	/* refresh-ahead's candidates */
	size_t nrecent;
	int64_t *opens_s;	/* session opens in the trace's span */
	size_t nopens;
	size_t next;		/* the trace's next access */
	struct cw_warm_plan plan;
	struct cw_intern space;	/* backfill's TYPE:INSTRUMENT:GRANULARITY */
	int64_t backfilled_day;	/* the last day backfill warmed, or -1 */
	int64_t next_cron_s;		/* combined: its next cron run */
	int64_t stop_ns;		/* max_real_ns's end, elapsed; 0: none */
	uint64_t draws;		/* xfetch's, from the clock's seeded sequence */
	int64_t l3_ns;		/* xfetch's delta: a fetch's time, averaged */
	struct cw_err *err;
};

/* Count a source answer in the hour of the calendar's now. */
static void
count_l3(struct replay *p)
{
	size_t hour = (size_t)((p->calendar_ns / 1000000000 -
	    p->r->first_hour_s) / 3600);

	if (hour < p->r->hours)
		p->r->hourly[hour][2]++;
}

/* The state of key id, growing the table as ids come. */
static struct key_state *
state_of(struct replay *p, size_t id)
{
	if (id >= p->nks) {
		size_t n = p->nks ? p->nks : 1024;
		struct key_state *k;

		while (n <= id)
			n *= 2;
		if ((k = realloc(p->ks, n * sizeof(*k))) == NULL)
			return NULL;
		for (size_t i = p->nks; i < n; i++)
			k[i] = (struct key_state){ 0, -1, 0, 0 };
		p->ks = k;
		p->nks = n;
	}
	return &p->ks[id];
}

static void
sample_l1(struct replay *p)
{
	struct cw_l1 *l1 = cw_fill_int_l1(p->warm_fill);

	if (l1 == NULL)
		return;
	cw_l1_stats(l1, 0, p->stats);
	if (p->stats->bytes > p->r->peak_l1_bytes)
		p->r->peak_l1_bytes = p->stats->bytes;
}

/* ---- warming ---- */

/* A warm task ended: a fetch from the source is wasted unless read
 * before the copy it made expires. */
static void
on_task(void *ctx, const struct cw_warm_task *t)
{
	struct replay *p = ctx;
	int64_t id;
	struct key_state *k;

	if (t->level != CW_LEVEL_L3 || t->rc != CW_OK)
		return;
	p->r->warm_fetches++;
	count_l3(p);
	if ((id = cw_intern_id(&p->ids, t->key, t->klen, 1)) < 0 ||
	    (k = state_of(p, (size_t)id)) == NULL)
		return;	/* out of memory: the count is all we lose */
	if (k->warm_until_ms != 0)
		p->r->warm_wasted++;	/* the last one was never read */
	k->warm_until_ms = p->calendar_ns / 1000000 +
	    cw_fill_int_copy_life_ms(p->warm_fill, t->key, t->klen);
}

static int
warm_within(struct replay *p, double refresh_below, int64_t deadline_ns)
{
	struct cw_warm_opts wo;
	struct cw_warm_totals tot;
	int rc;

	cw_warm_plan_finish(&p->plan);
	if (p->plan.n == 0)
		return CW_OK;
	memset(&wo, 0, sizeof(wo));
	wo.cfg = &p->cfg;
	wo.clock = p->clock;
	wo.jobs = p->o->jobs > 0 ? p->o->jobs : p->cfg.warm_jobs;
	wo.deadline_ns = cw_clock_elapsed_ns(&p->clock) + deadline_ns;
	/* A replay given a time limit ends its warm runs by it too. */
	if (p->stop_ns > 0 && p->stop_ns < wo.deadline_ns)
		wo.deadline_ns = p->stop_ns;
	wo.refresh_below = refresh_below;
	wo.on_task = on_task;
	wo.ctx = p;
	wo.fill = p->warm_fill;
	rc = cw_warm_run(&wo, p->plan.t, p->plan.n, &tot, p->err);
	p->r->warm_runs++;
	p->plan.n = 0;
	sample_l1(p);
	return rc;
}

static int
warm(struct replay *p, double refresh_below)
{
	return warm_within(p, refresh_below, RUN_DEADLINE_NS);
}

/* The key space: TYPE:INSTRUMENT:GRANULARITY of every structured key the
 * first day of the trace reads (what the desk is known to read, not
 * what it will). */
static int
learn_space(struct replay *p)
{
	const struct cw_trace *t = p->t;
	int64_t until_ms = t->ts_ms[0] + BACKFILL_LEARN_S * 1000;

	for (size_t i = 0; i < t->n && t->ts_ms[i] < until_ms; i++) {
		const char *key = cw_intern_name(&t->keys, t->key[i]);
		const char *last = strrchr(key, ':');
		struct cw_key k;

		if (cw_key_parse(key, strlen(key), &k, NULL) != CW_OK ||
		    !k.structured)
			continue;
		if (cw_intern_id(&p->space, key, (size_t)(last - key), 1) < 0)
			return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
	}
	return CW_OK;
}

/* Warm the key space on the trading days closed by day: at the start,
 * backfill_days of them; then each day, the one that has just closed,
 * whose keys were cached with today's short lifetimes. */
static int
backfill(struct replay *p, int64_t day)
{
	unsigned days = p->backfilled_day < 0 ? p->o->backfill_days : 1;
	char key[CW_KEY_MAX + 1];
	int rc = CW_OK;

	p->backfilled_day = day;
	for (int64_t d = day - 1; days > 0 && d > day - 3660 && rc == CW_OK;
	    d--) {
		int y, m, dd;

		if (!cw_calendar_trading_day(p->cal, d))
			continue;
		days--;
		cw_cal_civil_from_days(d, &y, &m, &dd);
		for (size_t i = 0; i < p->space.n && rc == CW_OK; i++) {
			int n = snprintf(key, sizeof(key), "%s:%04d-%02d-%02d",
			    cw_intern_name(&p->space, i), y, m, dd);

			if (n > 0 && (size_t)n < sizeof(key))
				rc = cw_warm_plan_line(&p->plan, key,
				    (size_t)n, CW_PRIO_LOW, 0, p->err);
		}
	}
	return rc == CW_OK ? warm_within(p, p->cfg.warm_refresh_below,
	    BACKFILL_DEADLINE_NS) : rc;
}

/* The keys read in [from, from + window), most read first, budget at
 * most: what a warmer that knew the future would warm. */
static int
plan_oracle(struct replay *p, int64_t from_s, int64_t window_s)
{
	const struct cw_trace *t = p->t;
	int64_t end_ms = (from_s + window_s) * 1000;
	uint32_t *seen = NULL;
	size_t nseen = 0, cap = 0;
	int rc = CW_OK;

	for (size_t i = p->next; i < t->n && t->ts_ms[i] < end_ms; i++) {
		struct key_state *k = state_of(p, t->key[i]);

		if (k == NULL)
			return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
		if (k->count++ > 0)
			continue;
		if (nseen == cap) {
			uint32_t *s = realloc(seen, (cap = cap ? 2 * cap :
			    256) * sizeof(*s));

			if (s == NULL) {
				free(seen);
				return cw_err_set(p->err, CW_ENOMEM, 0,
				    "replay");
			}
			seen = s;
		}
		seen[nseen++] = t->key[i];
	}
	/* Most read first; the first read decides a tie. */
	for (size_t i = 1; i < nseen; i++) {
		uint32_t v = seen[i];
		size_t j = i;

		while (j > 0 && p->ks[seen[j - 1]].count < p->ks[v].count) {
			seen[j] = seen[j - 1];
			j--;
		}
		seen[j] = v;
	}
	for (size_t i = 0; i < nseen; i++) {
		const char *name = cw_intern_name(&t->keys, seen[i]);

		if (rc == CW_OK && i < p->o->budget)
			rc = cw_warm_plan_line(&p->plan, name, strlen(name),
			    CW_PRIO_HIGH, 0, p->err);
		p->ks[seen[i]].count = 0;
	}
	free(seen);
	return rc;
}

static int
plan_predicted(struct replay *p, int64_t from_s, int64_t window_s)
{
	struct cw_forecast_opts fo = { p->o->min_probability > 0 ?
	    p->o->min_probability : CW_REPLAY_FLOOR, 0, p->o->budget };
	struct cw_forecast *list = NULL;
	size_t n = 0;
	int rc;

	cw_predict_advance(p->model, from_s);
	if ((rc = cw_predict_forecast(p->model, from_s, window_s, &fo, &list,
	    &n, p->err)) == CW_OK)
		rc = cw_warm_plan_forecast(&p->plan, list, n, -1, p->err);
	free(list);
	return rc;
}

/* Keys read lately, to be refreshed when their copies run low. */
static int
plan_refresh(struct replay *p, int64_t now_s)
{
	size_t kept = 0;
	int rc = CW_OK;

	for (size_t i = 0; i < p->nrecent; i++) {
		uint32_t id = p->recent[i];
		const char *name = cw_intern_name(&p->ids, id);

		if (p->ks[id].last_read_ms < (now_s - CW_REFRESH_RECENT_S) *
		    1000) {
			p->ks[id].recent = 0;
			continue;
		}
		p->recent[kept++] = id;
		if (rc == CW_OK)
			rc = cw_warm_plan_line(&p->plan, name, strlen(name),
			    CW_PRIO_HIGH, 0, p->err);
	}
	p->nrecent = kept;
	return rc;
}

/* market_open's plan: the keys of the sessions opening within its
 * lead, as cw-warm --session auto plans them. */
static int
plan_opens(struct replay *p, int64_t now_s, int64_t now_ns)
{
	struct cw_cal_open opened[CW_CAL_SESSIONS];
	size_t nopened;

	return cw_warm_plan_sessions(&p->plan, p->cal, "auto", now_s,
	    SESSION_LEAD_S, now_ns, opened, CW_CAL_SESSIONS, &nopened,
	    p->err);
}

/* The day's backfill when the day has changed since the last one. */
static int
backfill_due(struct replay *p, int64_t now_s)
{
	int64_t day = cw_cal_floor_div(now_s - BACKFILL_AT_S, 86400);

	return day != p->backfilled_day ? backfill(p, day) : CW_OK;
}

/* Every warmer a desk would run, each on its own clock: the backfill
 * each day, refresh-ahead each minute, and from cron every interval the
 * session opens and the forecast, in one warm run. combined_oracle runs
 * the same with the oracle's plan for the forecast: what combined would
 * get if its forecast were perfect, everything else and the budget the
 * same, so the difference is the forecast's alone. */
static int
tick_combined(struct replay *p, int64_t now_s, int64_t now_ns)
{
	int64_t every_s = p->o->interval_s > 0 ? p->o->interval_s : 900;
	int rc;

	if ((rc = backfill_due(p, now_s)) != CW_OK ||
	    (rc = plan_refresh(p, now_s)) != CW_OK ||
	    (rc = warm(p, REFRESH_BELOW)) != CW_OK)
		return rc;
	if (now_s < p->next_cron_s)
		return CW_OK;
	p->next_cron_s = (cw_cal_floor_div(now_s, every_s) + 1) * every_s;
	if ((rc = plan_opens(p, now_s, now_ns)) != CW_OK ||
	    (rc = p->strategy == CW_STRATEGY_COMBINED_ORACLE ?
	    plan_oracle(p, now_s, p->o->look_ahead_s) :
	    plan_predicted(p, now_s, p->o->look_ahead_s)) != CW_OK)
		return rc;
	return warm(p, p->cfg.warm_refresh_below);
}

/* One cron tick of the strategy at the calendar's now. */
static int
tick(struct replay *p, int64_t now_s)
{
	int64_t now_ns = cw_clock_elapsed_ns(&p->clock);
	int rc;

	switch (p->strategy) {
	case CW_STRATEGY_MARKET_OPEN:
		rc = plan_opens(p, now_s, now_ns);
		return rc == CW_OK ? warm(p, p->cfg.warm_refresh_below) : rc;
	case CW_STRATEGY_PREDICTIVE:
		rc = plan_predicted(p, now_s, p->o->look_ahead_s);
		return rc == CW_OK ? warm(p, p->cfg.warm_refresh_below) : rc;
	case CW_STRATEGY_BACKFILL:
		if ((rc = backfill_due(p, now_s)) != CW_OK)
			return rc;
		/* FALLTHROUGH */
	case CW_STRATEGY_REFRESH_AHEAD:
		rc = plan_refresh(p, now_s);
		return rc == CW_OK ? warm(p, REFRESH_BELOW) : rc;
	case CW_STRATEGY_ORACLE:
		rc = plan_oracle(p, now_s, p->o->look_ahead_s);
		return rc == CW_OK ? warm(p, p->cfg.warm_refresh_below) : rc;
	case CW_STRATEGY_COMBINED:
	case CW_STRATEGY_COMBINED_ORACLE:
		return tick_combined(p, now_s, now_ns);
	default:
		return CW_OK;
	}
}

/* ---- lookups ---- */

static int
in_open_window(struct replay *p, int64_t ts_s, size_t *cursor)
{
	while (*cursor < p->nopens && p->opens_s[*cursor] +
	    CW_REPLAY_OPEN_WINDOW_S <= ts_s)
		(*cursor)++;
	return *cursor < p->nopens && p->opens_s[*cursor] <= ts_s;
}

/*
 * XFetch (Vattani, Chierichetti and Lowenstein, VLDB 2015): a reader of a
 * copy that expires at `expires` refreshes it now when
 *     now - delta * beta * ln(U) >= expires,    U uniform in (0, 1],
 * delta the time a recomputation takes; with beta = 1 the expected early
 * margin is delta, which the paper shows optimal against a stampede. The
 * decision needs only what a read of L1 already has (the expiry), so
 * cw-get could make it; the replay measures what it would be worth.
 */
#define XFETCH_BETA 1.0

static int
xfetch_due(struct replay *p, int64_t expires_ns, int64_t now_ns)
{
	/* U in (0, 1], 53 bits of the clock's fixed-seed sequence: one
	 * run, one result. */
	double u = (double)((cw_clock_random(&p->clock, p->draws++) >> 11) +
	    1) / 9007199254740992.0;
	return expires_ns > 0 && (double)now_ns -
	    (double)p->l3_ns * XFETCH_BETA * log(u) >= (double)expires_ns;
}

static int
lookup(struct replay *p, size_t i, struct cw_buf *val, size_t *open_cursor)
{
	const struct cw_trace *t = p->t;
	const char *key = cw_intern_name(&t->keys, t->key[i]);
	size_t klen = strlen(key), hour;
	int64_t ts_ms = t->ts_ms[i];
	struct cw_hier_result res;
	struct key_state *k;
	struct cw_err e;
	int rc;

	rc = cw_hier_get(p->hier, key, klen, val, &res, &e);
	if (rc == CW_ENOMEM)
		return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
	p->r->lookups++;
	p->r->served[rc == CW_OK || rc == CW_ENOTFOUND ? res.level :
	    CW_LEVEL_NONE]++;
	p->r->latency[cw_hist_bucket(res.latency_ns)]++;
	hour = (size_t)((ts_ms / 1000 - p->r->first_hour_s) / 3600);
	if (hour < p->r->hours) {
		p->r->hourly[hour][0]++;
		p->r->hourly[hour][1] += res.level == CW_LEVEL_L1 ||
		    res.level == CW_LEVEL_L2;
	}
	if (res.level == CW_LEVEL_L3) {
		count_l3(p);
		p->l3_ns = p->l3_ns == 0 ? res.latency_ns :
		    (7 * p->l3_ns + res.latency_ns) / 8;
	}
	if (in_open_window(p, ts_ms / 1000, open_cursor)) {
		p->r->open_lookups++;
		p->r->open_l3 += res.level != CW_LEVEL_L1 &&
		    res.level != CW_LEVEL_L2;
	}
	if ((k = state_of(p, t->key[i])) == NULL)
		return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
	if (k->warm_until_ms != 0) {
		p->r->warm_wasted += ts_ms > k->warm_until_ms;
		k->warm_until_ms = 0;
	}
	k->last_read_ms = ts_ms;
	if (keeps_recent(p->strategy) && !k->recent) {
		uint32_t *r = realloc(p->recent, (p->nrecent + 1) *
		    sizeof(*r));

		if (r == NULL)
			return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
		p->recent = r;
		p->recent[p->nrecent++] = t->key[i];
		k->recent = 1;
	}
	if (learns(p->strategy) &&
	    cw_predict_learn_key(p->model, ts_ms, key, klen) == CW_ENOMEM)
		return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
	/* The reader's early refresh: from the source, through every
	 * level, as cw-get would do it after answering. */
	if (p->strategy == CW_STRATEGY_XFETCH && rc == CW_OK &&
	    res.level == CW_LEVEL_L1 &&
	    xfetch_due(p, res.l1_expires_ns, ts_ms * 1000000)) {
		if ((rc = cw_warm_plan_line(&p->plan, key, klen, CW_PRIO_HIGH,
		    CW_WARM_REFRESH, p->err)) != CW_OK)
			return rc;
		return warm(p, p->cfg.warm_refresh_below);
	}
	return CW_OK;
}

/* ---- setup ---- */

static int
setup(struct replay *p)
{
	const struct cw_trace *t = p->t;
	struct cw_hier_opts ho;
	struct cw_fill_opts fo;
	char path[CW_CFG_STR];
	int64_t last_s = t->ts_ms[t->n - 1] / 1000;
	int rc;

	p->cfg = *p->o->cfg;
	if ((size_t)snprintf(p->cfg.l1_file, sizeof(p->cfg.l1_file),
	    "%s/%s.l1", p->o->dir, cw_strategy_name(p->strategy)) >=
	    sizeof(p->cfg.l1_file))
		return cw_err_set(p->err, CW_EUSAGE, 0, "%s: too long",
		    p->o->dir);
	if (unlink(p->cfg.l1_file) != 0 && errno != ENOENT)
		return cw_err_set(p->err, CW_EIO, errno, "%s",
		    p->cfg.l1_file);
	snprintf(p->cfg.l2_prefix, sizeof(p->cfg.l2_prefix),
	    "cw-bench:%ld:%s:", (long)getpid(),
	    cw_strategy_name(p->strategy));
	p->cfg.l2_calendar_expiry = 1;
	p->cfg.log_file[0] = '\0';	/* the replay records for itself */

	p->calendar_ns = t->ts_ms[0] * 1000000;
	p->clock = cw_clock_replay(&p->calendar_ns);
	memset(&ho, 0, sizeof(ho));
	ho.cfg = &p->cfg;
	ho.clock = p->clock;
	ho.on_degraded = p->o->on_degraded;
	ho.on_degraded_ctx = p->o->ctx;
	if ((rc = cw_hier_open(&p->hier, &ho, p->err)) != CW_OK)
		return rc;
	if ((rc = cw_hier_l1_status(p->hier, p->err)) != CW_OK)
		return rc;
	memset(&fo, 0, sizeof(fo));
	fo.cfg = &p->cfg;
	fo.clock = p->clock;
	fo.l1_flags = CW_L1_WARM;
	fo.role = CW_ROLE_WARMER;
	fo.on_degraded = p->o->on_degraded;
	fo.on_degraded_ctx = p->o->ctx;
	if ((rc = cw_fill_open(&p->warm_fill, &fo, p->err)) != CW_OK)
		return rc;
	if ((p->stats = malloc(sizeof(*p->stats))) == NULL)
		return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
	cw_cfg_warm_path(&p->cfg, 'c', path);
	if ((rc = cw_calendar_load(&p->cal, path, NULL, p->err)) != CW_OK)
		return rc;
	if (learns(p->strategy) &&
	    (rc = cw_predict_new(&p->model, p->err)) != CW_OK)
		return rc;
	p->backfilled_day = -1;
	if (backfills(p->strategy) && (rc = learn_space(p)) != CW_OK)
		return rc;
	/* The trace's keys first, so that their ids are the trace's. */
	for (size_t id = 0; id < t->keys.n; id++) {
		const char *name = cw_intern_name(&t->keys, id);

		if (cw_intern_id(&p->ids, name, strlen(name), 1) < 0 ||
		    state_of(p, id) == NULL)
			return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
	}
	p->r->first_hour_s = cw_cal_floor_div(t->ts_ms[0] / 1000, 3600) * 3600;
	p->r->hours = (size_t)((last_s - p->r->first_hour_s) / 3600 + 1);
	if ((p->r->hourly = calloc(p->r->hours, sizeof(*p->r->hourly))) ==
	    NULL)
		return cw_err_set(p->err, CW_ENOMEM, 0, "replay");
	return cw_calendar_opens(p->cal, t->ts_ms[0] / 1000, last_s,
	    &p->opens_s, &p->nopens, p->err);
}

static void
teardown(struct replay *p)
{
	struct cw_l2 *l2;
	uint64_t removed;

	if (!p->o->keep_l2 && p->warm_fill != NULL &&
	    (l2 = cw_fill_int_l2(p->warm_fill)) != NULL)
		(void)cw_l2_purge(l2, &removed, NULL);
	cw_hier_close(p->hier);
	cw_fill_close(p->warm_fill);
	cw_calendar_free(p->cal);
	cw_predict_free(p->model);
	cw_warm_plan_free(&p->plan);
	cw_intern_free(&p->ids);
	cw_intern_free(&p->space);
	free(p->stats);
	free(p->ks);
	free(p->recent);
	free(p->opens_s);
}

/* Source answers of the whole run, as cw-stats would count them. */
static uint64_t
l3_answers(const struct cw_l1_stats *s)
{
	uint64_t n = 0;

	for (int role = 0; role < CW_ROLE_COUNT; role++)
		for (int i = 0; i < CW_RESULT_COUNT; i++)
			n += s->by_role[role][CW_LEVEL_L3][i];
	return n;
}

int
cw_replay_run(const struct cw_replay_opts *o, const struct cw_trace *t,
    int strategy, struct cw_replay_result *r, struct cw_err *err)
{
	struct replay p;
	struct cw_buf val = { 0 };
	size_t open_cursor = 0, step = t->n / 100 + 1;
	int64_t every_s, next_tick_s, t0 = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->strategy = strategy;
	memset(&p, 0, sizeof(p));
	p.o = o;
	p.t = t;
	p.strategy = strategy;
	p.r = r;
	p.err = err;
	if ((rc = setup(&p)) != CW_OK)
		goto out;
	every_s = keeps_recent(strategy) ? REFRESH_TICK_S :
	    o->interval_s > 0 ? o->interval_s : 900;
	next_tick_s = cw_cal_floor_div(t->ts_ms[0] / 1000, every_s) * every_s;
	t0 = cw_clock_elapsed_ns(&p.clock);
	p.stop_ns = o->max_real_ns > 0 ? t0 + o->max_real_ns : 0;
	for (p.next = 0; p.next < t->n; p.next++) {
		int64_t ts_ms = t->ts_ms[p.next];

		/* Out of real time: the result covers the reads so far. */
		if (p.stop_ns > 0 && p.next % 64 == 0 && p.next > 0 &&
		    cw_clock_elapsed_ns(&p.clock) >= p.stop_ns)
			break;

		while (strategy != CW_STRATEGY_NONE &&
		    next_tick_s * 1000 <= ts_ms) {
			p.calendar_ns = next_tick_s * 1000000000;
			if ((rc = tick(&p, next_tick_s)) != CW_OK)
				goto out;
			next_tick_s += every_s;
		}
		p.calendar_ns = ts_ms * 1000000;
		if ((rc = lookup(&p, p.next, &val, &open_cursor)) != CW_OK)
			goto out;
		if (p.next % step == 0) {
			sample_l1(&p);
			if (o->on_progress != NULL)
				o->on_progress(o->ctx, strategy,
				    (double)p.next / (double)t->n);
		}
	}
	r->real_s = (double)(cw_clock_elapsed_ns(&p.clock) - t0) / 1e9;
	/* Fetches never read, whose copies have expired by the end. */
	for (size_t id = 0; id < p.nks; id++)
		r->warm_wasted += p.ks[id].warm_until_ms != 0 &&
		    p.ks[id].warm_until_ms <= t->ts_ms[p.next - 1];
	sample_l1(&p);
	r->l3_queries = cw_fill_int_l1(p.warm_fill) != NULL ?
	    l3_answers(p.stats) : 0;
	rc = CW_OK;
out:
	teardown(&p);
	cw_buf_free(&val);
	return rc;
}

/*
 * A benchmark's real time, shared: each strategy may take an equal part
 * of what is left before the deadline. The first one's reads, as far as
 * it got, are the trace of the others, so that every row is of the same
 * reads; it takes three quarters of its part, which leaves the others
 * room for being slower (they warm). One still out of time says how far
 * it got in its result's lookups.
 */
int
cw_replay_run_all(const struct cw_replay_opts *o, struct cw_trace *t,
    const int *strategies, size_t n, const struct cw_clock *clock,
    int64_t deadline_ns, struct cw_replay_result *r, size_t *done,
    struct cw_err *err)
{
	struct cw_replay_opts each = *o;
	int rc;

	for (*done = 0; *done < n; (*done)++) {
		if (deadline_ns > 0) {
			int64_t part = (deadline_ns -
			    cw_clock_elapsed_ns(clock)) / (int64_t)(n - *done);

			if (*done == 0)
				part = part / 4 * 3;
			each.max_real_ns = part > 0 ? part : 1;
		}
		if ((rc = cw_replay_run(&each, t, strategies[*done],
		    &r[*done], err)) != CW_OK)
			return rc;
		if (deadline_ns > 0 && *done == 0)
			cw_trace_cut(t, (size_t)r[0].lookups);
	}
	return CW_OK;
}
