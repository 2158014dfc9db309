/*
 * workload: a synthetic trading-desk access trace, for cw-bench generate
 * and the predictor's backtest.
 *
 * Deterministic from its seed. Minute by minute, each instrument draws
 * requests at an intensity made of its two currencies' sessions in their
 * local time (so the trace moves with DST), with busy opens, a quiet
 * desk outside the sessions, FX closed at the weekend, news releases at
 * fixed local times on days drawn from the seed, and one thin holiday.
 * Each request reads one key: a type and a granularity from fixed mixes,
 * and the data of today's trading day, the previous one (more so just
 * after an open, when the desk reviews yesterday), a few days back, or
 * a long tail of old dates.
 *
 * The wide desk (opts.wide) adds what the predictor does not assume:
 * some dates counted in calendar days (yesterday's date on a Monday is
 * a Sunday's), a Monday that reviews the previous trading day more, and
 * pairs busier than the sum of their sessions while both are open.
 *
 * Every key's true expected reads in an hour follow from the same
 * intensities and mixes the draws use (cw_workload_truth), so a
 * forecaster can be scored against the best possible one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "cal_int.h"
#include "key_int.h"

#define MAX_INSTRUMENTS 64
#define NEWS_MINUTES 20
#define MAX_BACK 360		/* calendar days back a read can reach:
				   251 trading days and their weekends */
#define OVERLAP_BUSY 0.6	/* wide desk: a pair's extra intensity
				   while both its sessions are open */

/* The chance that a read is of the data of each calendar day back, on
 * one UTC day, with or without the review after an open. */
struct date_mix {
	int64_t day;		/* the day it is for; INT64_MIN none */
	double p[MAX_BACK];
	double cum[MAX_BACK];	/* for drawing: p summed up to i */
};

struct instrument {
	char name[32];
	int session[2];		/* of the base and the quote currency */
	int news_minute[2];	/* local release time, minutes */
};

struct cw_workload {
	struct cw_workload_opts opts;
	uint64_t rng[4];
	struct cw_tz tz[CW_SESSION_COUNT];
	struct instrument inst[MAX_INSTRUMENTS];
	unsigned n_inst;
	int64_t minute;		/* next minute to draw, Unix minutes */
	int64_t end_minute;
	int64_t holiday_days;	/* the thin day, a UTC day number */
	double weight[MAX_INSTRUMENTS];
	int reviewing[MAX_INSTRUMENTS];
	struct date_mix mix[2];	/* not reviewing, reviewing */
};

/* ---- xoshiro256**: the state lives in the handle ---- */

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(uint64_t s[4])
{
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static void
rng_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++) {	/* splitmix64 spreads the seed */
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		s[i] = z ^ (z >> 31);
	}
}

/* Uniform in [0, 1). */
static double
uniform(uint64_t s[4])
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static unsigned
poisson(uint64_t s[4], double lambda)
{
	if (lambda < 30) {
		double limit = exp(-lambda), prod = uniform(s);
		unsigned n = 0;

		while (prod > limit) {
			prod *= uniform(s);
			n++;
		}
		return n;
	}
	/* Normal approximation, Box-Muller: plenty at these rates. */
	double u = uniform(s), v = uniform(s);
	double z = sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
	double n = floor(lambda + sqrt(lambda) * z + 0.5);

	return n < 0 ? 0 : (unsigned)n;
}

/* ---- the desk ---- */

static int
currency_session(const char *ccy)
{
	int s = cw_cal_currency_session(ccy, strlen(ccy));

	return s >= 0 ? s : CW_SESSION_LONDON;	/* the largest market
						   takes the rest */
}

static int
add_instrument(struct cw_workload *w, const char *name, size_t len,
    struct cw_err *err)
{
	struct instrument *in;
	struct cw_key k;
	char ccy[4];

	if (w->n_inst == MAX_INSTRUMENTS)
		return cw_err_set(err, CW_EUSAGE, 0,
		    "--instruments: more than %d", MAX_INSTRUMENTS);
	in = &w->inst[w->n_inst];
	if (len == 0 || len >= sizeof(in->name))
		return cw_err_set(err, CW_EUSAGE, 0,
		    "--instruments: bad instrument '%.*s'", (int)len, name);
	memcpy(in->name, name, len);
	in->name[len] = '\0';
	/* The instrument must make a valid key part. */
	char probe[64];
	snprintf(probe, sizeof(probe), "t:%s:D:2024-01-01", in->name);
	if (cw_key_parse(probe, strlen(probe), &k, NULL) != CW_OK)
		return cw_err_set(err, CW_EUSAGE, 0,
		    "--instruments: bad instrument '%s'", in->name);
	for (int c = 0; c < 2; c++) {
		const char *p = c == 0 ? in->name : strchr(in->name, '_');

		ccy[0] = '\0';
		if (p != NULL && strlen(p + (c == 1)) >= 3)
			snprintf(ccy, sizeof(ccy), "%.3s", p + (c == 1));
		in->session[c] = currency_session(ccy);
		/* Releases at 08:30, 10:00 or 13:30 local, by the seed. */
		static const int release[] = { 8 * 60 + 30, 10 * 60,
		    13 * 60 + 30 };
		in->news_minute[c] = release[rng_next(w->rng) % 3];
	}
	w->n_inst++;
	return CW_OK;
}

int
cw_workload_open(struct cw_workload **out, const struct cw_workload_opts *o,
    struct cw_err *err)
{
	struct cw_workload *w;
	const char *p, *comma;
	int rc;

	*out = NULL;
	if (o->weeks == 0 || o->weeks > 520 || !(o->rate_per_hour > 0) ||
	    o->rate_per_hour > 1e7)
		return cw_err_set(err, CW_EUSAGE, 0,
		    "weeks must be 1..520 and the rate 0..1e7 an hour");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "workload");
	w->opts = *o;
	w->opts.instruments = NULL;	/* copied into inst[] */
	rng_seed(w->rng, o->seed);
	for (unsigned i = 0; i < CW_SESSION_COUNT; i++)
		cw_cal_session_tz(i, &w->tz[i]);
	for (p = o->instruments; ; p = comma + 1) {
		comma = strchr(p, ',');
		rc = add_instrument(w, p, comma ? (size_t)(comma - p) :
		    strlen(p), err);
		if (rc != CW_OK) {
			free(w);
			return rc;
		}
		if (comma == NULL)
			break;
	}
	w->minute = (int64_t)floor((double)o->start_s / 60);
	w->end_minute = w->minute + (int64_t)o->weeks * 7 * 24 * 60;
	/* One weekday of the third week (or the last) trades thinly. */
	int64_t first_day = w->minute / 1440;
	int64_t week = o->weeks >= 3 ? 2 : o->weeks - 1;
	int64_t day = first_day + week * 7 + (int64_t)(rng_next(w->rng) % 7);
	while (cw_cal_weekday(day) > 4)
		day++;
	w->holiday_days = day;
	w->mix[0].day = w->mix[1].day = INT64_MIN;
	*out = w;
	return CW_OK;
}

void
cw_workload_close(struct cw_workload *w)
{
	free(w);
}

/* Whether news for session s comes out on day (local day number):
 * about two days a week, the same for every run with this seed. */
static int
news_day(const struct cw_workload *w, unsigned inst, int c, int64_t day)
{
	uint64_t h = w->opts.seed ^ (uint64_t)day * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)(inst * 2 + c) * 0xc2b2ae3d27d4eb4fULL;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h % 5 < 2;
}

/* How busy one currency's side of an instrument is at utc_s, and
 * whether it has just opened (minutes since its open, or -1). */
static double
side_intensity(const struct cw_workload *w, unsigned inst, int c,
    int64_t utc_s, int *since_open)
{
	const struct instrument *in = &w->inst[inst];
	const struct cw_session *s = cw_cal_session_get(in->session[c]);
	struct cw_local l;
	int minute, news;

	cw_cal_tz_local(&w->tz[in->session[c]], utc_s, &l);
	minute = l.hour * 60 + l.minute;
	*since_open = -1;
	if (l.weekday > 4)
		return 0.05;
	news = minute - in->news_minute[c];
	if (news >= 0 && news < NEWS_MINUTES && news_day(w, inst, c, l.days))
		return 4.0;
	if (minute >= s->open_min && minute < s->close_min) {
		*since_open = minute - s->open_min;
		if (*since_open < 45)
			return 2.5;	/* the open is the busiest time */
		if (s->close_min - minute < 60)
			return 1.3;	/* squaring up before the close */
		return 1.0;
	}
	if (minute >= s->open_min - 60 && minute < s->open_min)
		return 0.35;		/* getting ready */
	return 0.08;
}

/* Each instrument's intensity in the minute at utc_s (weight[], summed
 * into the result) and whether the desk is reviewing its previous day
 * (within an hour of one of its sessions' opens). */
static double
minute_weights(struct cw_workload *w, int64_t utc_s)
{
	double factor, total = 0;

	factor = cw_cal_fx_open(&w->tz[CW_SESSION_NEW_YORK], utc_s) ?
	    1.0 : 0.03;
	if (cw_cal_floor_div(utc_s, 86400) == w->holiday_days)
		factor *= 0.3;
	for (unsigned i = 0; i < w->n_inst; i++) {
		int since[2];
		double both = side_intensity(w, i, 0, utc_s, &since[0]) +
		    side_intensity(w, i, 1, utc_s, &since[1]);

		if (w->opts.wide && since[0] >= 0 && since[1] >= 0 &&
		    w->inst[i].session[0] != w->inst[i].session[1])
			both += OVERLAP_BUSY;
		w->weight[i] = factor * both;
		w->reviewing[i] = (since[0] >= 0 && since[0] < 60) ||
		    (since[1] >= 0 && since[1] < 60);
		total += w->weight[i];
	}
	return total;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The mixes of types and granularities, as cumulative shares. */
static const char *const types[] = { "labels", "features", "signals",
    "ohlc", "orderbook" };
static const double type_cum[] = { 0.30, 0.55, 0.72, 0.90, 1.0 };
static const char *const grans[] = { "M1", "M5", "M15", "M30", "H1", "H4",
    "D" };
static const double gran_cum[] = { 0.08, 0.20, 0.42, 0.55, 0.75, 0.90,
    1.0 };
#define N_TYPES (sizeof(types) / sizeof(*types))
#define N_GRANS (sizeof(grans) / sizeof(*grans))

static double
share(const double *cum, size_t i)
{
	return cum[i] - (i > 0 ? cum[i - 1] : 0);
}

static const char *
pick(uint64_t rng[4], const char *const *names, const double *cum,
    size_t n)
{
	double u = uniform(rng);

	for (size_t i = 0; i + 1 < n; i++)
		if (u < cum[i])
			return names[i];
	return names[n - 1];
}

/* The classic desk's trading days back, drawn. date_mix() states the
 * same chances; this draw stays as it was, so a classic trace stays
 * byte for byte what it has always been. */
static int
days_back(uint64_t rng[4], int reviewing)
{
	double u = uniform(rng);

	if (u < (reviewing ? 0.35 : 0.58))
		return 0;
	if (u < 0.82)
		return 1;
	if (u < 0.94) {		/* a few days back, fewer the further */
		int d = 2;

		while (d < 10 && uniform(rng) < 0.45)
			d++;
		return d;
	}
	return 2 + (int)(uniform(rng) * 250);	/* the long tail */
}

/* Add chance p to the date n trading days before day. */
static void
add_trading(struct date_mix *m, int64_t day, int64_t n, double p)
{
	int64_t back = day - cw_cal_tday_days(cw_cal_tday(day) - n);

	if (back >= 0 && back < MAX_BACK)
		m->p[back] += p;
}

/* The chance of each calendar day back on day: days_back()'s chances on
 * the classic desk; on the wide one, the previous trading day taken
 * from today's share on a Monday, and 8% of reads in calendar days
 * (yesterday's date, the day before's, a week ago's). */
static void
date_mix(const struct cw_workload *w, int64_t day, int reviewing,
    struct date_mix *m)
{
	double today = reviewing ? 0.35 : 0.58, yesterday = 0.82 - today;
	double recent = 0.12, tail = 0.06, geo = 0.55;

	memset(m, 0, sizeof(*m));
	m->day = day;
	if (w->opts.wide) {
		static const struct {
			int back;
			double p;
		} calendar[] = { { 1, 0.04 }, { 2, 0.016 }, { 7, 0.024 } };

		today -= 0.04;
		yesterday -= 0.04;
		if (cw_cal_weekday(day) == 0) {	/* Monday: Friday's review */
			today -= 0.08;
			yesterday += 0.08;
		}
		for (size_t i = 0; i < sizeof(calendar) / sizeof(*calendar);
		    i++)
			m->p[calendar[i].back] += calendar[i].p;
	}
	add_trading(m, day, 0, today);
	add_trading(m, day, 1, yesterday);
	for (int n = 2; n <= 10; n++, geo *= 0.45)
		add_trading(m, day, n, recent * (n < 10 ? geo : geo / 0.55));
	for (int n = 2; n < 252; n++)
		add_trading(m, day, n, tail / 250);
	for (int i = 0; i < MAX_BACK; i++)
		m->cum[i] = m->p[i] + (i > 0 ? m->cum[i - 1] : 0);
}

static const struct date_mix *
mix_of(struct cw_workload *w, int64_t day, int reviewing)
{
	struct date_mix *m = &w->mix[reviewing != 0];

	if (m->day != day)
		date_mix(w, day, reviewing != 0, m);
	return m;
}

/* Calendar days back of one read, drawn from its day's mix (wide
 * desk): the first day whose running total passes a uniform draw. */
static int
draw_back(uint64_t rng[4], const struct date_mix *m)
{
	double u = uniform(rng) * m->cum[MAX_BACK - 1];
	int lo = 0, hi = MAX_BACK - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (m->cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int
cw_workload_next(struct cw_workload *w, struct cw_buf *out,
    struct cw_err *err)
{
	int64_t utc_s = w->minute * 60, day = cw_cal_floor_div(utc_s, 86400);
	int64_t today = cw_cal_tday(day);
	double total;
	unsigned n;

	out->len = 0;
	if (w->minute >= w->end_minute)
		return CW_ENOTFOUND;
	total = minute_weights(w, utc_s);
	n = poisson(w->rng, w->opts.rate_per_hour / 60 * total);
	/* Millisecond offsets in the minute, in order: a trace is sorted. */
	uint32_t *at = malloc((n + 1) * sizeof(*at));
	if (at == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "workload");
	for (unsigned r = 0; r < n; r++)
		at[r] = (uint32_t)(rng_next(w->rng) % 60000);
	qsort(at, n, sizeof(*at), cmp_u32);
	for (unsigned r = 0; r < n; r++) {
		double u = uniform(w->rng) * total;
		unsigned i = 0;
		char line[160];
		int y, m, d, len;
		int64_t date;

		while (i + 1 < w->n_inst && u >= w->weight[i])
			u -= w->weight[i++];
		if (w->opts.wide)
			date = day - draw_back(w->rng, mix_of(w, day,
			    w->reviewing[i]));
		else
			date = cw_cal_tday_days(today - days_back(w->rng,
			    w->reviewing[i]));
		cw_cal_civil_from_days(date, &y, &m, &d);
		const char *type = pick(w->rng, types, type_cum, N_TYPES);
		const char *gran = pick(w->rng, grans, gran_cum, N_GRANS);
		len = snprintf(line, sizeof(line),
		    "%lld.%03u,%s:%s:%s:%04d-%02d-%02d\n",
		    (long long)utc_s + at[r] / 1000, at[r] % 1000, type,
		    w->inst[i].name, gran, y, m, d);
		if (cw_buf_append(out, line, (size_t)len, err) != CW_OK) {
			free(at);
			return CW_ENOMEM;
		}
	}
	free(at);
	w->minute++;
	return CW_OK;
}

/* ---- the truth: every key's expected reads in an hour ---- */

struct truth_row {
	double expected;
	unsigned inst, type, gran;
	int back;
};

static int
by_expected_desc(const void *a, const void *b)
{
	const struct truth_row *x = a, *y = b;

	if (x->expected != y->expected)
		return x->expected > y->expected ? -1 : 1;
	if (x->inst != y->inst)
		return x->inst < y->inst ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->gran != y->gran)
		return x->gran < y->gran ? -1 : 1;
	return (x->back > y->back) - (x->back < y->back);
}

int
cw_workload_truth(struct cw_workload *w, struct cw_buf *out,
    struct cw_err *err)
{
	int64_t first = w->minute, hour = cw_cal_floor_div(first, 60);
	int64_t last = (hour + 1) * 60 < w->end_minute ? (hour + 1) * 60 :
	    w->end_minute;
	int64_t day = cw_cal_floor_div(hour * 3600, 86400);
	double (*reads)[2] = NULL, distinct = 0;
	struct truth_row *rows = NULL;
	size_t n_rows = 0, keep;
	int rc = CW_OK;

	out->len = 0;
	if (first >= w->end_minute || (first != hour * 60 &&
	    first != (int64_t)floor((double)w->opts.start_s / 60)))
		return CW_OK;
	reads = calloc(w->n_inst, sizeof(*reads));
	rows = malloc((size_t)w->n_inst * N_TYPES * N_GRANS * MAX_BACK *
	    sizeof(*rows));
	if (reads == NULL || rows == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "workload truth");
		goto done;
	}
	/* Expected reads of each instrument in the hour, split by whether
	 * the desk was reviewing: the two have different date mixes. */
	for (int64_t minute = first; minute < last; minute++) {
		minute_weights(w, minute * 60);
		for (unsigned i = 0; i < w->n_inst; i++)
			reads[i][w->reviewing[i]] += w->opts.rate_per_hour /
			    60 * w->weight[i];
	}
	for (unsigned i = 0; i < w->n_inst; i++)
		for (int back = 0; back < MAX_BACK; back++) {
			double per_date = reads[i][0] * mix_of(w, day,
			    0)->p[back] + reads[i][1] * mix_of(w, day,
			    1)->p[back];

			if (!(per_date > 0))
				continue;
			for (unsigned t = 0; t < N_TYPES; t++)
				for (unsigned g = 0; g < N_GRANS; g++) {
					struct truth_row *r = &rows[n_rows++];

					r->expected = per_date *
					    share(type_cum, t) *
					    share(gran_cum, g);
					r->inst = i;
					r->type = t;
					r->gran = g;
					r->back = back;
					distinct += 1 - exp(-r->expected);
				}
		}
	/* The keys a backtest could rank: twice the keys read (its budget)
	 * with room for chance, by largest expectation. */
	keep = (size_t)ceil(2 * distinct + 6 * sqrt(distinct)) + 32;
	qsort(rows, n_rows, sizeof(*rows), by_expected_desc);
	for (size_t k = 0; k < n_rows && k < keep && rc == CW_OK; k++) {
		const struct truth_row *r = &rows[k];
		char line[160];
		int y, m, d, len;

		cw_cal_civil_from_days(day - r->back, &y, &m, &d);
		len = snprintf(line, sizeof(line),
		    "%lld,%s:%s:%s:%04d-%02d-%02d,%.6g\n",
		    (long long)(hour * 3600), types[r->type],
		    w->inst[r->inst].name, grans[r->gran], y, m, d,
		    r->expected);
		rc = cw_buf_append(out, line, (size_t)len, err);
	}
done:
	free(reads);
	free(rows);
	return rc;
}
