/*
 * predict: learn when each kind of key is read, and forecast it.
 *
 * A key TYPE:INSTRUMENT:GRAN:DATE read on trading day D belongs to the
 * pattern TYPE:INSTRUMENT:GRAN:T-n, n = D - DATE in trading days, so the
 * model names keys it has never seen (tomorrow's). Opaque keys are their
 * own pattern.
 *
 * Per pattern, reads are counted per hour and folded, hour by hour, into
 * seasonal profiles by exponential smoothing (Holt-Winters' seasonal
 * equation, with the level inside each season's slot):
 *  - the daily season is kept in five frames, UTC and the local time of
 *    each session, each with its own smoothed one-hour-ahead error; the
 *    forecast reads the frame that has been right, so a pattern driven
 *    by London stays aligned across the clock changes;
 *  - a pair whose currencies trade in two sessions (EUR_USD: London and
 *    New York) keeps its open profile also as two parts, one in each
 *    session's local time, each hour's reads split between them by which
 *    session is open; the sum follows both halves when their clocks
 *    change on different dates, and is read when it has been right;
 *  - the weekly season is FX's: trading hours (Sunday 17:00 to Friday
 *    17:00 New York) and the weekend, each with its own daily profile;
 *  - a sparse pattern borrows the shape of its group (its instrument),
 *    learned from many more reads, in proportion to how little it has;
 *  - a rare pattern's rate is shrunk toward its long-run share of its
 *    group's (empirical Bayes, a Gamma prior of PRIOR_READS reads at
 *    that share): one read of an old date is not a rate of one an hour,
 *    and a pattern is watched from its group's first hour, not its own
 *    first read, in its rate and in its profile's first visits;
 *  - the mix of dates moves with the weekday (a Monday's previous
 *    trading day is Friday, read more): each pattern keeps a factor by
 *    weekday, its reads over its profile's forecast day by day, shrunk
 *    toward 1 by WEEKDAY_PRIOR reads, and the profile learns from reads
 *    with the factor taken out;
 *  - a weekend's date is counted back in calendar days (D-n), a pattern
 *    that is read, and learned from, only on the days it names one;
 *  - an hour much thinner than forecast over all patterns (a holiday)
 *    is learned from in proportion, so one thin day does not teach the
 *    model that the desk has gone quiet.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "hash_int.h"
#include "predict_int.h"
#include "alog_int.h"
#include "cal_int.h"
#include "key_int.h"

#define ALPHA_OPEN 0.25		/* per visit of a slot: ~5 a week */
#define ALPHA_CLOSED 0.35	/* ~2 a week */
#define ALPHA_RATE 0.02		/* the rate behind group shares */
#define BETA_ERR 0.05		/* frame errors: over ~20 hours */
#define GROUP_PRIOR 32.0	/* reads a day at which a pattern's own
				   shape weighs as much as its group's:
				   ~3 an hour in its hours, where the
				   noise of a slot smoothed over ~5
				   visits is ~20% */
#define PRIOR_READS 2.0		/* weight of a pattern's long-run share,
				   in reads, against its recent rate */
#define TOTAL_HOURS 1000.0	/* the long run of that share: ~6 weeks */
#define WEEKDAY_PRIOR 10.0	/* reads at which a day's own ratio
				   weighs as much as no weekday effect */
#define ALPHA_WEEKDAY 0.5	/* per visit of a weekday: ~2 weeks */
#define FUTURE_SLACK_S 300	/* clocks of writers differ a little */
#define MAX_GAP_HOURS 336	/* silence longer than this is skipped */

static const char *const frame_names[CW_CLOCKS] = {
	"utc", "sydney", "tokyo", "london", "new_york", "sessions",
};

const char *
cw_predict_frame_name(unsigned f)
{
	return f < CW_CLOCKS ? frame_names[f] : "?";
}

int
cw_predict_new(struct cw_predict **out, struct cw_err *err)
{
	struct cw_predict *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "model");
	for (unsigned i = 0; i < CW_SESSION_COUNT; i++)
		cw_cal_session_tz(i, &m->tz[i]);
	m->hour_open = INT64_MIN;
	m->first_hour = INT64_MIN;
	m->level = 1;
	*out = m;
	return CW_OK;
}

void
cw_predict_free(struct cw_predict *m)
{
	if (m == NULL)
		return;
	free(m->pats);
	cw_intern_free(&m->names);
	free(m);
}

/* ---- patterns and keys ---- */

int
cw_pattern_of_key(const char *key, size_t klen, int64_t at_s, char *out,
    size_t cap, struct cw_err *err)
{
	struct cw_key k;
	int64_t back;
	int rc, n;

	if ((rc = cw_key_parse(key, klen, &k, err)) != CW_OK)
		return rc;
	if (!k.structured) {
		n = snprintf(out, cap, "%s", k.raw);
	} else {
		int64_t date = cw_cal_days_from_civil(k.year, k.month, k.day);
		int64_t today = cw_cal_floor_div(at_s, 86400);
		/* A weekend's date is no trading day: counted back in
		 * calendar days (D-n), so its pattern names it again, where
		 * trading days would name the Friday before. */
		int calendar = cw_cal_weekday(date) > 4;
		char unit = calendar ? 'D' : 'T';

		back = calendar ? today - date : cw_cal_tday(today) -
		    cw_cal_tday(date);
		if (back == 0)
			n = snprintf(out, cap, "%s:%s:%s:%c", k.type,
			    k.instrument, k.granularity, unit);
		else
			n = snprintf(out, cap, "%s:%s:%s:%c%+lld", k.type,
			    k.instrument, k.granularity, unit,
			    (long long)-back);
	}
	if (n < 0 || (size_t)n >= cap)
		return cw_err_set(err, CW_EUSAGE, 0, "pattern buffer");
	return CW_OK;
}

/* What a pattern's name says: the length of its "TYPE:INSTRUMENT:GRAN:"
 * (0 for an opaque key), and how far back its date is, in trading days
 * (T-n) or, for a weekend's date, in calendar days (D-n). */
struct shape {
	uint32_t prefix_len;
	int32_t back;
	int calendar;
};

/* Split a pattern name; a name with three colons that is not T, T-n,
 * T+n, D, D-n or D+n is no pattern at all: -1. */
static int
split_pattern(const char *name, size_t len, struct shape *out)
{
	const char *last = NULL, *p;
	int colons = 0;
	long n = 0;
	char *end;

	for (p = name; p < name + len; p++)
		if (*p == ':') {
			colons++;
			last = p;
		}
	memset(out, 0, sizeof(*out));
	if (colons != 3)
		return 0;
	if (last[1] != 'T' && last[1] != 'D')
		return -1;
	if (last + 2 < name + len) {
		if (last[2] != '-' && last[2] != '+')
			return -1;
		n = strtol(last + 2, &end, 10);
		if (end != name + len || last[3] < '0' || last[3] > '9' ||
		    n < -100000 || n > 100000)
			return -1;
	}
	out->prefix_len = (uint32_t)(last + 1 - name);
	out->back = (int32_t)-n;
	out->calendar = last[1] == 'D';
	return 0;
}

/* What cw-predict pattern calls the clock of a pair's parts. */
static const char *const pair_names[CW_SESSION_COUNT][CW_SESSION_COUNT] = {
	{ "sydney", "sydney+tokyo", "sydney+london", "sydney+new_york" },
	{ "tokyo+sydney", "tokyo", "tokyo+london", "tokyo+new_york" },
	{ "london+sydney", "london+tokyo", "london", "london+new_york" },
	{ "new_york+sydney", "new_york+tokyo", "new_york+london",
	    "new_york" },
};

/* The two sessions of an instrument "AAA_BBB" whose currencies trade in
 * different ones; -1 for anything else. */
static void
pair_of(const char *inst, size_t len, int32_t pair[2])
{
	const char *us = memchr(inst, '_', len);
	int a, b;

	pair[0] = pair[1] = -1;
	if (us == NULL || us - inst != 3 || len != 7)
		return;
	a = cw_cal_currency_session(inst, 3);
	b = cw_cal_currency_session(us + 1, 3);
	if (a >= 0 && b >= 0 && a != b) {
		pair[0] = a;
		pair[1] = b;
	}
}

void
cw_predict_name_pair(const char *name, size_t len, int32_t pair[2])
{
	const char *inst, *end;
	struct shape sh;

	pair[0] = pair[1] = -1;
	if (len > 1 && name[0] == '@') {
		pair_of(name + 1, len - 1, pair);
		return;
	}
	/* A pattern of structured keys; an opaque key (which may hold
	 * colons too) has no instrument. */
	if (split_pattern(name, len, &sh) != 0 || sh.prefix_len == 0)
		return;
	inst = memchr(name, ':', len) + 1;
	end = memchr(inst, ':', (size_t)(name + len - inst));
	pair_of(inst, (size_t)(end - inst), pair);
}

/* The day a pattern's key names when read on day. */
static int64_t
date_of(const struct shape *sh, int64_t day)
{
	return sh->calendar ? day - sh->back :
	    cw_cal_tday_days(cw_cal_tday(day) - sh->back);
}

/* n as width zero-padded digits at out. */
static void
put_digits(char *out, int n, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + n % 10);
		n /= 10;
	}
}

/* The key a pattern names on the day of at_s. Written by hand, not by
 * snprintf: a backtest names tens of millions of keys. */
static size_t
key_of(const char *name, const struct shape *sh, int64_t at_s,
    char out[CW_KEY_MAX + 1])
{
	uint32_t prefix_len = sh->prefix_len;
	int y, mo, d;

	if (prefix_len == 0) {
		size_t len = strlen(name);

		memcpy(out, name, len + 1);
		return len;
	}
	cw_cal_civil_from_days(date_of(sh, cw_cal_floor_div(at_s, 86400)),
	    &y, &mo, &d);
	memcpy(out, name, prefix_len);
	if (y < 0 || y > 9999)		/* as snprintf would: %04d */
		return prefix_len + (size_t)snprintf(out + prefix_len,
		    CW_KEY_MAX + 1 - prefix_len, "%04d-%02d-%02d", y, mo, d);
	put_digits(out + prefix_len, y, 4);
	out[prefix_len + 4] = '-';
	put_digits(out + prefix_len + 5, mo, 2);
	out[prefix_len + 7] = '-';
	put_digits(out + prefix_len + 8, d, 2);
	out[prefix_len + 10] = '\0';
	return prefix_len + 10;
}

static struct shape
shape_of(const struct cw_pat *p)
{
	return (struct shape){ p->prefix_len, p->offset, p->calendar != 0 };
}

static size_t
pattern_key(const struct cw_predict *m, const struct cw_pat *p,
    int64_t at_s, char out[CW_KEY_MAX + 1])
{
	struct shape sh = shape_of(p);

	return key_of(cw_predict_pat_name(m, p), &sh, at_s, out);
}

/* Can the pattern be read in the hour at all? A weekend date's pattern
 * names a weekend date only on the days its count of calendar days
 * lands on one; the rest of the time its reads are another pattern's
 * (the trading day's). */
static int
applies(const struct cw_pat *p, int64_t hour)
{
	struct shape sh = shape_of(p);

	return !p->calendar || cw_cal_weekday(date_of(&sh,
	    cw_cal_floor_div(hour, 24))) > 4;
}

int
cw_pattern_key(const char *pattern, int64_t at_s,
    char out[CW_KEY_MAX + 1], struct cw_err *err)
{
	size_t len = strlen(pattern);
	struct shape sh;
	struct cw_key k;

	if (split_pattern(pattern, len, &sh) != 0 || len + 8 > CW_KEY_MAX)
		return cw_err_set(err, CW_EDATA, 0,
		    "pattern '%.64s': not a key or TYPE:INSTRUMENT:GRAN:T-n",
		    pattern);
	len = key_of(pattern, &sh, at_s, out);
	return cw_key_parse(out, len, &k, err);
}

/* ---- the pattern table ---- */

int64_t
cw_predict_intern(struct cw_predict *m, const char *name, size_t len,
    int create)
{
	int64_t id = cw_intern_id(&m->names, name, len, create);
	struct cw_pat *p;

	if (id < 0 || (size_t)id < m->n_pats)
		return id;
	if (m->n_pats == m->cap_pats) {
		size_t cap = m->cap_pats ? m->cap_pats * 2 : 256;
		struct cw_pat *pats = realloc(m->pats, cap * sizeof(*pats));

		if (pats == NULL)
			return CW_INTERN_NOMEM;
		m->pats = pats;
		m->cap_pats = cap;
	}
	p = &m->pats[m->n_pats++];
	memset(p, 0, sizeof(*p));
	p->group = -1;
	p->pair[0] = p->pair[1] = -1;
	p->last_hour = -1;
	p->born_hour = m->hour_open;
	return id;
}

int64_t
cw_predict_pattern_index(struct cw_predict *m, const char *name,
    size_t len)
{
	int64_t i = cw_predict_intern(m, name, len, 0), g;
	char group[CW_KEY_MAX + 2];
	struct shape sh;

	if (i >= 0 || i == CW_INTERN_NOMEM)
		return i;
	if (len > CW_KEY_MAX || split_pattern(name, len, &sh) != 0)
		return -1;
	if (sh.prefix_len == 0) {
		strcpy(group, "@*");
	} else {
		const char *inst = memchr(name, ':', len) + 1;
		const char *end = memchr(inst, ':', (size_t)(name + len - inst));

		snprintf(group, sizeof(group), "@%.*s", (int)(end - inst),
		    inst);
	}
	if ((g = cw_predict_intern(m, group, strlen(group), 1)) < 0)
		return g;
	m->pats[g].is_group = 1;
	cw_predict_name_pair(group, strlen(group), m->pats[g].pair);
	if ((i = cw_predict_intern(m, name, len, 1)) < 0)
		return i;
	m->pats[i].group = (int32_t)g;
	m->pats[i].prefix_len = sh.prefix_len;
	m->pats[i].offset = sh.back;
	m->pats[i].calendar = (uint32_t)sh.calendar;
	memcpy(m->pats[i].pair, m->pats[g].pair, sizeof(m->pats[i].pair));
	/* Watched, unread, since its group was: its first read weighs as
	 * one visit of many, not as a whole slot. */
	memcpy(m->pats[i].open_visits, m->pats[g].open_visits,
	    sizeof(m->pats[i].open_visits));
	memcpy(m->pats[i].closed_visits, m->pats[g].closed_visits,
	    sizeof(m->pats[i].closed_visits));
	return i;
}

int
cw_predict_pat_sane(const struct cw_predict *m, size_t i)
{
	const struct cw_pat *p = &m->pats[i];
	const char *name = cw_predict_pat_name(m, p);
	size_t len = strlen(name);
	struct shape sh;
	int32_t pair[2];

	if (p->frame >= CW_CLOCKS || len > CW_KEY_MAX)
		return 0;
	cw_predict_name_pair(name, len, pair);
	if (pair[0] != p->pair[0] || pair[1] != p->pair[1] ||
	    (p->frame == CW_FRAME_PAIR && pair[0] < 0))
		return 0;
	return p->is_group || (split_pattern(name, len, &sh) == 0 &&
	    sh.prefix_len == p->prefix_len && sh.back == p->offset &&
	    sh.calendar == (p->calendar != 0));
}

/* ---- forecasting one hour ---- */

/* What every pattern's forecast of one hour shares. */
/* Groups' own forecasts of one hour, remembered: every pattern of a
 * group asks for its group's, and a group's profile is cold in cache by
 * the time the next of its patterns comes. Direct-mapped by index. */
#define MEMO_SLOTS 64
struct group_memo {
	int64_t group[MEMO_SLOTS];	/* -1: empty */
	double own[MEMO_SLOTS];
};

struct hour_ctx {
	int64_t hour;
	int open;
	int weekday;		/* of the UTC day, Monday 0 */
	struct group_memo *memo;	/* NULL: none */
	int slot[CW_FRAMES];	/* local hour in each frame */
};

static void
hour_ctx(const struct cw_predict *m, int64_t hour, struct hour_ctx *c)
{
	int64_t mid = hour * 3600 + 1800;
	struct cw_local l;

	c->hour = hour;
	c->memo = NULL;
	c->open = cw_cal_fx_open(&m->tz[CW_SESSION_NEW_YORK], mid);
	c->weekday = cw_cal_weekday(cw_cal_floor_div(hour, 24));
	c->slot[0] = (int)(hour - cw_cal_floor_div(hour, 24) * 24);
	for (unsigned i = 0; i < CW_SESSION_COUNT; i++) {
		cw_cal_tz_local(&m->tz[i], mid, &l);
		c->slot[1 + i] = l.hour;
	}
}

/* How much of a frame's daily profile lies in its session's hours, and
 * half as much again for what lies in the first two (opens are busy). */
static double
in_session(const struct cw_pat *p, unsigned f)
{
	const struct cw_session *s = cw_cal_session_get(f - 1);
	double in = 0, at_open = 0, all = 0;

	for (int h = 0; h < 24; h++) {
		int mid = h * 60 + 30;

		all += p->open[f][h];
		if (mid >= s->open_min && mid < s->close_min)
			in += p->open[f][h];
		if (mid >= s->open_min && mid < s->open_min + 120)
			at_open += p->open[f][h];
	}
	return all > 0 ? (in + at_open / 2) / all : 0;
}

void
cw_predict_choose_frame(struct cw_pat *p)
{
	double least = p->sq_err[0], best_share = -1;
	unsigned best = 0;

	for (unsigned f = 1; f < CW_FRAMES; f++)
		if (p->sq_err[f] < least)
			least = p->sq_err[f];
	/* Frames that fit equally well (all of them, in a winter when
	 * London is on UTC) are told apart by where the reads fall: the
	 * session whose own hours hold most of them sets the clock, so
	 * the pattern moves with it at the next clock change. */
	for (unsigned f = 1; f < CW_FRAMES; f++) {
		double share;

		if (p->sq_err[f] > least * 1.001 + 1e-6)
			continue;
		if ((share = in_session(p, f)) > best_share) {
			best_share = share;
			best = f;
		}
	}
	if (p->sq_err[0] <= least * 1.001 + 1e-6 && best_share < 0.5)
		best = 0;
	/* The pair's parts sum to any of its sessions' frames while their
	 * clocks move together: a tie is theirs, as they stay right when
	 * the clocks part. */
	if (p->pair[0] >= 0 && p->sq_err[CW_FRAME_PAIR] <= least * 1.001 +
	    1e-6)
		best = CW_FRAME_PAIR;
	p->frame = best;
}

static unsigned
best_frame(const struct cw_pat *p)
{
	return p->frame;
}

/* The sum of a pair's parts in the hour. */
static double
pair_forecast(const struct cw_pat *p, const struct hour_ctx *c)
{
	return p->part[0][c->slot[1 + p->pair[0]]] +
	    p->part[1][c->slot[1 + p->pair[1]]];
}

/* How much of an hour's reads a pair's session s takes, against the
 * other's: most in the two hours after its open (opens are busy), its
 * own hours, some in the hour before. While the two clocks move
 * together the split cannot be learned (only the sum is seen); it is
 * what the parts carry into the weeks when the clocks part. */
static double
pair_weight(int s, int local_hour)
{
	const struct cw_session *ses = cw_cal_session_get((unsigned)s);
	int mid = local_hour * 60 + 30;

	if (mid >= ses->open_min && mid < ses->open_min + 120)
		return 2;
	if (mid >= ses->open_min && mid < ses->close_min)
		return 1;
	return mid >= ses->open_min - 60 && mid < ses->open_min ? 0.35 : 0.1;
}

/* The pattern's own forecast of reads in the hour. */
static double
own_forecast(const struct cw_pat *p, const struct hour_ctx *c)
{
	unsigned f;

	if (!c->open)
		return p->closed[c->slot[0]];
	f = best_frame(p);
	if (f == CW_FRAME_PAIR)
		return pair_forecast(p, c);
	return p->open[f][c->slot[f]];
}

/* Hours of history a rate is smoothed over, at most: its group's age. */
static double
rate_hours(const struct cw_predict *m, const struct cw_pat *g)
{
	double age = m->hour_open == INT64_MIN || g->born_hour == INT64_MIN ?
	    0 : (double)(m->hour_open - g->born_hour);

	return fmin(fmax(age, 1), 1 / ALPHA_RATE);
}

/* A pattern's rate, shrunk toward its long-run share of its group's:
 * the posterior mean under a Gamma prior of PRIOR_READS reads at that
 * share, given the reads its recent rate stands for. A pattern read
 * once among thousands of its group's reads is forecast near its true
 * rarity; a busy one keeps its own rate. */
static double
shrunk_rate(const struct cw_predict *m, const struct cw_pat *p,
    const struct cw_pat *g)
{
	double hours = rate_hours(m, g), prior;

	if (!(g->total > 0) || !(p->total > 0) || !(g->rate > 0))
		return p->rate;
	prior = g->rate * fmin(1, p->total / g->total);
	return (p->rate * hours + PRIOR_READS) / (hours + PRIOR_READS /
	    prior);
}

static void
memo_clear(struct group_memo *memo)
{
	for (int i = 0; i < MEMO_SLOTS; i++)
		memo->group[i] = -1;
}

/* Group g's own forecast of the hour, through the hour's memo. */
static double
group_forecast(const struct cw_predict *m, int64_t g,
    const struct hour_ctx *c)
{
	struct group_memo *memo = c->memo;
	int slot = (int)(g % MEMO_SLOTS);

	if (memo == NULL)
		return own_forecast(&m->pats[g], c);
	if (memo->group[slot] != g) {
		memo->group[slot] = g;
		memo->own[slot] = own_forecast(&m->pats[g], c);
	}
	return memo->own[slot];
}

/* Ask for what own_forecast() will read of pattern i + 4 and for the
 * head of pattern i + 8: a walk over every pattern is bound by cache
 * misses (a pattern is over a kilobyte, and one slot of it is read). */
static void
prefetch_ahead(const struct cw_predict *m, size_t i, const struct hour_ctx *c)
{
	const struct cw_pat *q;

	if (i + 8 < m->n_pats)
		__builtin_prefetch(&m->pats[i + 8]);
	if (i + 4 >= m->n_pats)
		return;
	q = &m->pats[i + 4];
	if (!c->open) {
		__builtin_prefetch(&q->closed[c->slot[0]]);
	} else if (q->frame == CW_FRAME_PAIR) {
		__builtin_prefetch(&q->part[0][c->slot[1 + q->pair[0]]]);
		__builtin_prefetch(&q->part[1][c->slot[1 + q->pair[1]]]);
	} else if (q->frame < CW_FRAMES) {
		__builtin_prefetch(&q->open[q->frame][c->slot[q->frame]]);
	}
}

/* The profile's forecast of the hour, before the weekday's factor. */
static double
base_forecast(const struct cw_predict *m, const struct cw_pat *p,
    const struct hour_ctx *c)
{
	const struct cw_pat *g;
	double own = own_forecast(p, c), per_day, w, pooled, rate;

	if (!applies(p, c->hour))
		return 0;
	if (p->group < 0)
		return own;
	g = &m->pats[p->group];
	if (!(g->rate > 0))
		return own;
	rate = shrunk_rate(m, p, g);
	/* The group's shape scaled to the pattern's share of its reads. */
	pooled = rate / g->rate * group_forecast(m, p->group, c);
	per_day = 24.0 * rate;
	w = per_day / (per_day + GROUP_PRIOR);
	return w * own + (1 - w) * pooled;
}

static double
weekday_factor(const struct cw_pat *p, const struct hour_ctx *c)
{
	return c->open ? 1 + p->weekday[c->weekday] : 1;
}

static double
forecast(const struct cw_predict *m, const struct cw_pat *p,
    const struct hour_ctx *c)
{
	return base_forecast(m, p, c) * weekday_factor(p, c);
}

/* ---- learning ---- */

static float
smooth(float old, double target, double alpha)
{
	return (float)(old + alpha * (target - old));
}

/* At the end of a UTC day: the day's reads over its profile's forecast
 * of them, shrunk toward 1, move the weekday's factor. The factors of
 * the five trading weekdays are then brought back to a mean of 1: the
 * level is the profile's to learn, and a factor left free would trade
 * places with it (a lagging profile read as a busy weekday). */
static void
learn_weekday(struct cw_pat *p, int weekday)
{
	if (p->day_base > 0 || p->day_reads > 0) {
		double ratio = (p->day_reads + WEEKDAY_PRIOR) /
		    (p->day_base + WEEKDAY_PRIOR), mean = 0;

		p->weekday[weekday] = smooth(p->weekday[weekday], ratio - 1,
		    ALPHA_WEEKDAY);
		for (int d = 0; d < 5; d++)
			mean += (1 + p->weekday[d]) / 5;
		for (int d = 0; d < 7; d++)
			p->weekday[d] = (float)((1 + p->weekday[d]) / mean - 1);
	}
	p->day_reads = 0;
	p->day_base = 0;
}

/* Fold the reads of one hour into every pattern. */
static void
fold(struct cw_predict *m, int64_t hour)
{
	struct hour_ctx c;
	struct group_memo memo;
	double actual = 0, expected = 0, damp = 1, ratio, base = 0;
	int thin;

	hour_ctx(m, hour, &c);
	/* The forecasts come first, before any profile moves: the memo
	 * holds for them, and is let go before the updates. */
	memo_clear(&memo);
	c.memo = &memo;
	if (m->first_hour == INT64_MIN)
		m->first_hour = hour;
	/* Forecasts first, from the model as it was before this hour. */
	for (size_t i = 0; i < m->n_pats; i++) {
		struct cw_pat *p = &m->pats[i];
		double fc;

		if (!c.open)
			continue;
		prefetch_ahead(m, i, &c);
		p->base = (float)base_forecast(m, p, &c);
		fc = p->base * weekday_factor(p, &c);
		p->surprise = smooth(p->surprise, (p->pending[0] + 1) /
		    (fc + 1), 0.5);
		if (!p->is_group) {
			actual += p->pending[0];
			expected += fc;
			base += p->base;
		}
	}
	c.memo = NULL;
	/* A holiday's hour says nothing of the weekday: judged against
	 * the profiles alone, so that a wrong factor cannot make every
	 * such day look thin and keep itself from being corrected. */
	thin = base > 10 && actual < base / 2;
	if (c.open && expected > 10) {
		ratio = actual / expected;
		m->level = m->level + 0.3 * (ratio - m->level);
		/* A thin hour teaches in proportion: a holiday is not the
		 * new normal. */
		if (ratio < 1)
			damp = ratio < 0.1 ? 0.1 : ratio;
	}
	for (size_t i = 0; i < m->n_pats; i++) {
		struct cw_pat *p = &m->pats[i];
		double n = p->pending[0], days, a, raw = n;

		if (p->born_hour == INT64_MIN)
			p->born_hour = hour;
		/* A pattern's rate is measured from its group's first hour:
		 * from its own first read, one read is a rate of one an
		 * hour. A group is first folded before its patterns. */
		days = (double)(hour - (p->group >= 0 ?
		    m->pats[p->group].born_hour : p->born_hour)) / 24;
		p->total = (float)(p->total * (1 - 1 / TOTAL_HOURS) + n);
		if (!applies(p, hour)) {
			/* Not its day: nothing to learn of its shape. */
		} else if (c.open) {
			/* From its second week: before, its profile is
			 * too young to tell a weekday from a start. */
			if (!p->is_group && !thin &&
			    p->open_visits[c.slot[0]] >= 7) {
				p->day_reads += (float)n;
				p->day_base += p->base;
			}
			if (!p->is_group)
				n /= weekday_factor(p, &c);
			uint16_t *v = &p->open_visits[c.slot[0]];

			/* The first visits of a slot weigh as an average. */
			*v += *v < UINT16_MAX;
			a = fmax(ALPHA_OPEN * damp, 1.0 / *v);
			for (unsigned f = 0; f < CW_FRAMES; f++) {
				float *s = &p->open[f][c.slot[f]];
				double e = n - *s;

				p->sq_err[f] = smooth(p->sq_err[f], e * e,
				    BETA_ERR);
				*s = smooth(*s, n, a);
			}
			if (p->pair[0] >= 0) {
				int l0 = c.slot[1 + p->pair[0]];
				int l1 = c.slot[1 + p->pair[1]];
				double w0 = pair_weight(p->pair[0], l0);
				double w1 = pair_weight(p->pair[1], l1);
				double e = n - pair_forecast(p, &c);

				p->sq_err[CW_FRAME_PAIR] = smooth(
				    p->sq_err[CW_FRAME_PAIR], e * e, BETA_ERR);
				p->part[0][l0] = smooth(p->part[0][l0],
				    n * w0 / (w0 + w1), a);
				p->part[1][l1] = smooth(p->part[1][l1],
				    n * w1 / (w0 + w1), a);
			}
			/* Frames move slowly: looked at when the pattern is
			 * read, and once a day when it is not. */
			if (n > 0 || c.slot[0] == 0)
				cw_predict_choose_frame(p);
			p->rate = smooth(p->rate, raw, fmax(ALPHA_RATE * damp,
			    1 / (1 + 24 * days)));
		} else {
			uint16_t *v = &p->closed_visits[c.slot[0]];

			*v += *v < UINT16_MAX;
			a = fmax(ALPHA_CLOSED, 1.0 / *v);
			p->closed[c.slot[0]] = smooth(p->closed[c.slot[0]], n,
			    a);
		}
		if (c.slot[0] == 23)
			learn_weekday(p, c.weekday);
		if (raw > 0)
			p->last_hour = hour;
		p->pending[0] = p->pending[1];
		p->pending[1] = 0;
	}
}

void
cw_predict_advance(struct cw_predict *m, int64_t until_s)
{
	int64_t until = cw_cal_floor_div(until_s, 3600);

	if (m->hour_open == INT64_MIN)
		return;
	if (until - m->hour_open > MAX_GAP_HOURS) {
		/* Fold the two pending hours, skip the silence. */
		fold(m, m->hour_open);
		fold(m, m->hour_open + 1);
		m->hour_open = until - MAX_GAP_HOURS;
	}
	while (m->hour_open < until)
		fold(m, m->hour_open++);
}

/* Learn reads of one key at one time: a log line may stand for many. */
static int
learn_reads(struct cw_predict *m, int64_t ts_ms, const char *key,
    size_t klen, uint32_t reads)
{
	char name[CW_PATTERN_MAX];
	int64_t hour = cw_cal_floor_div(ts_ms, 3600000), i;

	if (cw_pattern_of_key(key, klen, cw_cal_floor_div(ts_ms, 1000), name,
	    sizeof(name), NULL) != CW_OK) {
		m->counts.malformed++;
		return CW_EDATA;
	}
	if (m->hour_open == INT64_MIN)
		m->hour_open = hour;
	if (hour < m->hour_open) {
		m->counts.late++;	/* its hour is folded already */
		return CW_OK;
	}
	/* Two hours stay open: writers flush their buffers late. */
	if (hour > m->hour_open + 1)
		cw_predict_advance(m, (hour - 1) * 3600);
	if ((i = cw_predict_pattern_index(m, name, strlen(name))) < 0)
		return CW_ENOMEM;
	m->pats[i].pending[hour - m->hour_open] += reads;
	m->pats[m->pats[i].group].pending[hour - m->hour_open] += reads;
	m->counts.learned += reads;
	return CW_OK;
}

int
cw_predict_learn_key(struct cw_predict *m, int64_t ts_ms, const char *key,
    size_t klen)
{
	return learn_reads(m, ts_ms, key, klen, 1);
}

/* The reads a line's rest stands for: N of ",level,latency_us,N", the
 * access log's form for many lookups of a key within a second (level
 * letters and digits, the two numbers digits); 1 for anything else, so
 * a trace's ",size" or a foreign column is never taken for a count; 0
 * for a count above CW_ALOG_MAX_COUNT, which no writer makes (and which
 * would have a short line stand for gigabytes of replayed reads). */
static uint32_t
reads_of(const char *rest, size_t n)
{
	const char *p = rest, *end = rest + n;
	uint64_t v = 0;

	if (p == end || *p++ != ',')
		return 1;
	while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' &&
	    *p <= '9')))
		p++;
	if (p == end || *p++ != ',' || p == end || *p < '0' || *p > '9')
		return 1;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == end || *p++ != ',' || p == end)
		return 1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return 1;
		if ((v = v * 10 + (uint64_t)(*p - '0')) > CW_ALOG_MAX_COUNT)
			v = CW_ALOG_MAX_COUNT + 1;	/* no overflow */
	}
	return v > CW_ALOG_MAX_COUNT ? 0 : v > 0 ? (uint32_t)v : 1;
}

/* "ts,key[,...]": ts in Unix seconds, fractions allowed. */
int
cw_predict_parse_line(const char *line, size_t len, struct cw_log_line *out)
{
	const char *comma = memchr(line, ',', len), *p, *end = line + len;
	char num[32], *e;
	double ts;

	if (len > 0 && line[len - 1] == '\r')
		end--;
	if (comma == NULL || comma == line || (size_t)(comma - line) >=
	    sizeof(num))
		return CW_EDATA;
	memcpy(num, line, (size_t)(comma - line));
	num[comma - line] = '\0';
	ts = strtod(num, &e);
	if (*e != '\0' || !(ts >= 0 && ts < 1e11))
		return CW_EDATA;
	out->ts_ms = (int64_t)llround(ts * 1000);
	p = comma + 1;
	if (p < end && *p == '"') {
		/* CSV: "" inside is one quote; the field ends at the quote
		 * that is not doubled. */
		size_t n = 0;

		for (p++;; p++) {
			if (p == end)
				return CW_EDATA;	/* never closed */
			if (*p == '"') {
				if (p + 1 < end && p[1] == '"')
					p++;
				else
					break;
			}
			if (n == CW_KEY_MAX)
				return CW_EDATA;
			out->scratch[n++] = *p;
		}
		out->scratch[n] = '\0';
		out->key = out->scratch;
		out->klen = n;
		p++;	/* past the closing quote */
		if (p < end && *p != ',')
			return CW_EDATA;
	} else {
		const char *kend = memchr(p, ',', (size_t)(end - p));

		out->key = p;
		out->klen = kend ? (size_t)(kend - p) : (size_t)(end - p);
		p += out->klen;
	}
	out->rest = p;
	out->rest_len = (size_t)(end - p);
	out->reads = reads_of(out->rest, out->rest_len);
	return out->reads > 0 ? CW_OK : CW_EDATA;
}

int
cw_predict_learn_line(struct cw_predict *m, const char *line, size_t len,
    int64_t now_s, int64_t history_s)
{
	struct cw_log_line ll;

	m->counts.lines++;
	if (cw_predict_parse_line(line, len, &ll) != CW_OK) {
		/* A header line of a trace is not malformed data. */
		if (m->counts.lines == 1 && len >= 3 &&
		    memcmp(line, "ts,", 3) == 0) {
			m->counts.lines--;
			return CW_OK;
		}
		m->counts.malformed++;
		return CW_EDATA;
	}
	if (now_s != 0 && ll.ts_ms / 1000 > now_s + FUTURE_SLACK_S) {
		m->counts.future++;
		return CW_OK;
	}
	if (history_s > 0 && now_s != 0 && ll.ts_ms / 1000 < now_s - history_s) {
		m->counts.old++;
		return CW_OK;
	}
	return learn_reads(m, ll.ts_ms, ll.key, ll.klen, ll.reads);
}

/* ---- forecasts of a window ---- */

static const char *
priority(double p)
{
	return p >= 0.9 ? "critical" : p > 0.7 ? "high" : p > 0.4 ?
	    "medium" : "low";
}

double
cw_predict_confidence(const struct cw_predict *m, const struct cw_pat *p)
{
	double days = m->hour_open == INT64_MIN || p->born_hour ==
	    INT64_MIN ? 0 : (double)(m->hour_open - p->born_hour) / 24;
	double excess = fmax(0, p->sq_err[best_frame(p)] - p->rate);

	/* How long it has been watched, times how small its error is
	 * beside its rate once the Poisson noise no model can remove is
	 * taken out (1 / (1 + coefficient of variation)). */
	if (!(p->rate > 0))
		return 0;
	return (1 - exp(-days / 3)) / (1 + sqrt(excess) / p->rate);
}

static void
reason(const struct cw_predict *m, const struct cw_pat *p,
    const struct hour_ctx *c, char *out, size_t cap)
{
	const struct cw_pat *g = p->group >= 0 ? &m->pats[p->group] : p;
	unsigned f = best_frame(p->rate * 24 >= GROUP_PRIOR ? p : g);
	struct cw_local l;

	if (p->surprise > 2) {
		snprintf(out, cap, "trend");
		return;
	}
	/* The session of its clock, or either of its pair's, when open. */
	for (int k = 0; k < 2 && c->open; k++) {
		int s = f == CW_FRAME_PAIR ? p->pair[k] : k == 0 ?
		    (int)f - 1 : -1;

		if (s < 0)
			continue;
		cw_cal_tz_local(&m->tz[s], c->hour * 3600 + 1800, &l);
		if (cw_cal_session_is_open(cw_cal_session_get((unsigned)s),
		    &l)) {
			snprintf(out, cap, "session:%s", frame_names[1 + s]);
			return;
		}
	}
	snprintf(out, cap, "pattern");
}

static int
by_probability(const void *a, const void *b)
{
	const struct cw_forecast *x = a, *y = b;

	if (x->expected != y->expected)
		return x->expected > y->expected ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The window's hours, and each one's part inside the window. */
struct window {
	int64_t from_s, end_s;
	size_t n_hours;
	struct hour_ctx *ctx;
	struct group_memo *memo;
	double *part;
};

static int
window_open(const struct cw_predict *m, int64_t from_s, int64_t window_s,
    struct window *w, struct cw_err *err)
{
	int64_t first_h = cw_cal_floor_div(from_s, 3600);

	w->from_s = from_s;
	w->end_s = from_s + window_s;
	w->ctx = NULL;
	w->memo = NULL;
	w->part = NULL;
	w->n_hours = 0;
	if (window_s <= 0 || window_s > 7 * 86400)
		return cw_err_set(err, CW_EUSAGE, 0,
		    "the window must be 1 s to 7 days");
	w->n_hours = (size_t)(cw_cal_floor_div(w->end_s - 1, 3600) -
	    first_h + 1);
	w->ctx = malloc(w->n_hours * sizeof(*w->ctx));
	w->memo = malloc(w->n_hours * sizeof(*w->memo));
	w->part = malloc(w->n_hours * sizeof(*w->part));
	if (w->ctx == NULL || w->memo == NULL || w->part == NULL) {
		free(w->ctx);
		free(w->memo);
		free(w->part);
		return cw_err_set(err, CW_ENOMEM, 0, "forecast");
	}
	for (size_t k = 0; k < w->n_hours; k++) {
		int64_t h = first_h + (int64_t)k;
		int64_t lo = h * 3600 > from_s ? h * 3600 : from_s;
		int64_t hi = (h + 1) * 3600 < w->end_s ? (h + 1) * 3600 :
		    w->end_s;

		hour_ctx(m, h, &w->ctx[k]);
		memo_clear(&w->memo[k]);
		w->ctx[k].memo = &w->memo[k];
		w->part[k] = (double)(hi - lo) / 3600;
	}
	return CW_OK;
}

int
cw_predict_expect(struct cw_predict *m, int64_t from_s, int64_t window_s,
    double min_confidence, cw_expect_fn *fn, void *fn_ctx,
    struct cw_err *err)
{
	struct window w;
	int rc;

	if ((rc = window_open(m, from_s, window_s, &w, err)) != CW_OK)
		return rc;
	for (size_t i = 0; i < m->n_pats && rc == CW_OK; i++) {
		const struct cw_pat *p = &m->pats[i];
		char key[CW_KEY_MAX + 1], next[CW_KEY_MAX + 1];
		int64_t key_day = INT64_MIN, at = 0;
		double sum = 0;

		prefetch_ahead(m, i, &w.ctx[0]);
		if (p->is_group || (min_confidence > 0 &&
		    cw_predict_confidence(m, p) < min_confidence))
			continue;
		/* Hour by hour: a window across midnight names two keys,
		 * each told once with the reads of all its hours. */
		for (size_t k = 0; k < w.n_hours; k++) {
			int64_t h_at = w.ctx[k].hour * 3600 > from_s ?
			    w.ctx[k].hour * 3600 : from_s;
			int64_t day = cw_cal_floor_div(h_at, 86400);
			double lambda = forecast(m, p, &w.ctx[k]) * w.part[k];

			if (!(lambda > 0))
				continue;
			/* A new day may name a new key (not at a weekend:
			 * Saturday's and Sunday's are Friday's). */
			if (day != key_day) {
				key_day = day;
				pattern_key(m, p, h_at, next);
				if (sum == 0 || strcmp(next, key) != 0) {
					if (sum > 0 && (rc = fn(fn_ctx, i, at,
					    key, sum)) != CW_OK)
						break;
					strcpy(key, next);
					at = h_at;
					sum = 0;
				}
			}
			sum += lambda;
		}
		if (rc == CW_OK && sum > 0)
			rc = fn(fn_ctx, i, at, key, sum);
	}
	free(w.ctx);
	free(w.memo);
	free(w.part);
	return rc;
}

/* The forecast list being built. */
struct collect {
	struct cw_predict *m;
	struct cw_forecast *list;
	size_t len, cap;
	double min_probability;
};

static int
collect(void *ctx, size_t pattern, int64_t at_s, const char *key,
    double expected)
{
	struct collect *c = ctx;
	const struct cw_pat *p = &c->m->pats[pattern];
	struct cw_forecast *f;
	struct hour_ctx hc;

	/* Reads are Poisson: at least one with 1 - e^-expected. */
	if (1 - exp(-expected) < c->min_probability)
		return CW_OK;
	if (c->len == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		struct cw_forecast *nl = realloc(c->list, nc * sizeof(*nl));

		if (nl == NULL)
			return CW_ENOMEM;
		c->list = nl;
		c->cap = nc;
	}
	f = &c->list[c->len++];
	memset(f, 0, sizeof(*f));
	strcpy(f->key, key);
	f->pattern = pattern;
	f->expected = expected;
	f->probability = 1 - exp(-expected);
	f->priority = priority(f->probability);
	f->confidence = cw_predict_confidence(c->m, p);
	hour_ctx(c->m, cw_cal_floor_div(at_s, 3600), &hc);
	reason(c->m, p, &hc, f->reason, sizeof(f->reason));
	return CW_OK;
}

int
cw_predict_forecast(struct cw_predict *m, int64_t from_s, int64_t window_s,
    const struct cw_forecast_opts *o, struct cw_forecast **out, size_t *n,
    struct cw_err *err)
{
	struct collect c = { .m = m, .min_probability = o->min_probability };
	int rc;

	*out = NULL;
	*n = 0;
	rc = cw_predict_expect(m, from_s, window_s, o->min_confidence,
	    collect, &c, err);
	if (rc != CW_OK) {
		free(c.list);
		return rc == CW_ENOMEM ? cw_err_set(err, CW_ENOMEM, 0,
		    "forecast") : rc;
	}
	if (c.len > 1)
		qsort(c.list, c.len, sizeof(*c.list), by_probability);
	if (o->top > 0 && c.len > o->top)
		c.len = o->top;
	*out = c.list;
	*n = c.len;
	return CW_OK;
}

/* ---- what it knows ---- */

int
cw_predict_pattern(struct cw_predict *m, const char *key_or_pattern,
    int64_t at_s, struct cw_pattern_info *out, struct cw_err *err)
{
	size_t len = strlen(key_or_pattern);
	char name[CW_PATTERN_MAX];
	const struct cw_pat *p;
	double week = 0, in_session[CW_SESSION_COUNT] = { 0 };
	int64_t i, day = cw_cal_floor_div(at_s, 86400), h;
	int rc;

	memset(out, 0, sizeof(*out));
	struct shape sh;

	if ((i = cw_predict_intern(m, key_or_pattern, len, 0)) < 0 &&
	    (split_pattern(key_or_pattern, len, &sh) != 0 ||
	    sh.prefix_len == 0)) {
		if ((rc = cw_pattern_of_key(key_or_pattern, len, at_s, name,
		    sizeof(name), err)) != CW_OK)
			return rc;
		i = cw_predict_intern(m, name, strlen(name), 0);
	}
	if (i < 0 || m->pats[i].is_group)
		return cw_err_set(err, CW_ENOTFOUND, 0,
		    "'%s': no such pattern in the model", key_or_pattern);
	p = &m->pats[i];
	snprintf(out->name, sizeof(out->name), "%s",
	    cw_predict_pat_name(m, p));
	/* The day of at_s, or the next trading day when FX is shut. */
	while (cw_cal_weekday(day) > 4)
		day++;
	for (h = 0; h < 24; h++) {
		struct hour_ctx c;

		hour_ctx(m, day * 24 + h, &c);
		out->per_hour[h] = forecast(m, p, &c);
		out->per_day += out->per_hour[h];
	}
	for (int k = 0; k < 3; k++) {
		int best = -1;

		for (h = 0; h < 24; h++) {
			int taken = 0;

			for (int j = 0; j < k; j++)
				taken |= out->peak[j] == h;
			if (!taken && (best < 0 ||
			    out->per_hour[h] > out->per_hour[best]))
				best = (int)h;
		}
		out->peak[k] = best;
	}
	/* Share of a trading week's forecast reads in each session. */
	for (h = 0; h < 7 * 24; h++) {
		int64_t hour = cw_cal_tday_days(cw_cal_tday(day)) * 24 + h;
		struct hour_ctx c;
		double f;

		hour_ctx(m, hour, &c);
		f = forecast(m, p, &c);
		week += f;
		for (unsigned s = 0; s < CW_SESSION_COUNT; s++) {
			struct cw_local l;

			cw_cal_tz_local(&m->tz[s], hour * 3600 + 1800, &l);
			if (cw_cal_session_is_open(cw_cal_session_get(s), &l))
				in_session[s] += f;
		}
	}
	for (unsigned s = 0; s < CW_SESSION_COUNT; s++)
		out->session_share[s] = week > 0 ? in_session[s] / week : 0;
	out->frame = best_frame(p) == CW_FRAME_PAIR ?
	    pair_names[p->pair[0]][p->pair[1]] :
	    cw_predict_frame_name(best_frame(p));
	out->confidence = cw_predict_confidence(m, p);
	out->last_read_s = p->last_hour >= 0 ? p->last_hour * 3600 : -1;
	return CW_OK;
}

void
cw_predict_summary(const struct cw_predict *m, struct cw_predict_summary *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < m->n_pats; i++)
		if (!m->pats[i].is_group)
			s->patterns++;
	s->first_s = m->first_hour == INT64_MIN ? -1 : m->first_hour * 3600;
	s->until_s = m->hour_open == INT64_MIN ? -1 : m->hour_open * 3600;
	s->counts = m->counts;
	s->level = m->level;
	s->has_backtest = m->has_backtest;
	s->backtest = m->last_backtest;
}
