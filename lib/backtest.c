/*
 * backtest: walk a trace forward and score forecasts of each next window
 * against what was read in it, for the model and two baselines that work
 * at the pattern level as the model does (so they too name new dates):
 * the patterns read in the last hour, and those read in the same hour a
 * week before, each expecting as many reads again.
 *
 * Scores, summed over every scored hour:
 *  - coverage at budget: rank a forecaster's keys by probability, keep
 *    twice as many as distinct keys were read, count the share of reads
 *    whose key was kept (what warming would have turned into hits);
 *  - precision, recall and F1 of the keys forecast at probability 0.5 and
 *    0.7 or more, against the keys read;
 *  - the Brier score, over one set of keys for all three forecasters so
 *    they are comparable: every key any of them forecast, or that was
 *    read (a forecaster says 0 for a key it did not name).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "intern_int.h"
#include "predict_int.h"

#define WEEK_HOURS 168
static const double floors[2] = { 0.5, 0.7 };
static const char *const method_names[CW_BT_COUNT] = {
	"model", "last_hour", "week_ago",
};

struct rec {
	int64_t ts_ms;
	uint32_t key, pat;
	uint64_t seq;
};

/* Running sums of one forecaster. */
struct tally {
	double covered;
	double tp[2], forecast[2];
	double brier;
};

struct cw_backtest {
	int64_t window_s;
	struct cw_intern keys, pats;
	struct rec *recs;
	size_t n, cap;
	struct cw_predict_counts counts;
	/* Per key id, reset after each hour through the touched list. */
	double *p[CW_BT_COUNT];
	uint32_t *reads;
	unsigned char *seen;
	size_t per_key_cap;
	uint32_t *touched;
	size_t n_touched, touched_cap;
};

const char *
cw_backtest_method_name(unsigned i)
{
	return i < CW_BT_COUNT ? method_names[i] : "?";
}

int
cw_backtest_new(struct cw_backtest **out, int64_t window_s,
    struct cw_err *err)
{
	if (window_s < 60 || window_s > 7 * 86400)
		return cw_err_set(err, CW_EUSAGE, 0,
		    "the window must be 1 minute to 7 days");
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "backtest");
	(*out)->window_s = window_s;
	return CW_OK;
}

void
cw_backtest_free(struct cw_backtest *bt)
{
	if (bt == NULL)
		return;
	cw_intern_free(&bt->keys);
	cw_intern_free(&bt->pats);
	free(bt->recs);
	for (int i = 0; i < CW_BT_COUNT; i++)
		free(bt->p[i]);
	free(bt->reads);
	free(bt->seen);
	free(bt->touched);
	free(bt);
}

void
cw_backtest_counts(const struct cw_backtest *bt,
    struct cw_predict_counts *out)
{
	*out = bt->counts;
}

int
cw_backtest_line(struct cw_backtest *bt, const char *line, size_t len)
{
	char pattern[CW_PATTERN_MAX];
	struct cw_log_line ll;
	int64_t k, p;

	bt->counts.lines++;
	if (cw_predict_parse_line(line, len, &ll) != CW_OK ||
	    cw_pattern_of_key(ll.key, ll.klen, ll.ts_ms / 1000, pattern,
	    sizeof(pattern), NULL) != CW_OK) {
		if (bt->counts.lines == 1 && len >= 3 &&
		    memcmp(line, "ts,", 3) == 0) {
			bt->counts.lines--;	/* a header */
			return CW_OK;
		}
		bt->counts.malformed++;
		return CW_EDATA;
	}
	if ((k = cw_intern_id(&bt->keys, ll.key, ll.klen, 1)) < 0 ||
	    (p = cw_intern_id(&bt->pats, pattern, strlen(pattern), 1)) < 0)
		return CW_ENOMEM;
	/* A line of the log may stand for several reads: one record each,
	 * as if each had its own line. */
	for (uint32_t i = 0; i < ll.reads; i++) {
		if (bt->n == bt->cap) {
			size_t cap = bt->cap ? bt->cap * 2 : 65536;
			struct rec *r = realloc(bt->recs, cap * sizeof(*r));

			if (r == NULL)
				return CW_ENOMEM;
			bt->recs = r;
			bt->cap = cap;
		}
		bt->recs[bt->n] = (struct rec){ ll.ts_ms, (uint32_t)k,
		    (uint32_t)p, bt->n };
		bt->n++;
		bt->counts.learned++;
	}
	return CW_OK;
}

static int
by_time(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->ts_ms != y->ts_ms)
		return x->ts_ms < y->ts_ms ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Room in the per-key arrays for every key id so far. */
static int
per_key_room(struct cw_backtest *bt)
{
	size_t want = bt->keys.n, cap = bt->per_key_cap;

	if (want <= cap)
		return CW_OK;
	cap = cap ? cap : 4096;
	while (cap < want)
		cap *= 2;
	for (int i = 0; i < CW_BT_COUNT; i++) {
		double *p = realloc(bt->p[i], cap * sizeof(*p));

		if (p == NULL)
			return CW_ENOMEM;
		memset(p + bt->per_key_cap, 0, (cap - bt->per_key_cap) *
		    sizeof(*p));
		bt->p[i] = p;
	}
	uint32_t *reads = realloc(bt->reads, cap * sizeof(*reads));
	if (reads == NULL)
		return CW_ENOMEM;
	memset(reads + bt->per_key_cap, 0, (cap - bt->per_key_cap) *
	    sizeof(*reads));
	bt->reads = reads;
	unsigned char *seen = realloc(bt->seen, cap);
	if (seen == NULL)
		return CW_ENOMEM;
	memset(seen + bt->per_key_cap, 0, cap - bt->per_key_cap);
	bt->seen = seen;
	bt->per_key_cap = cap;
	return CW_OK;
}

static int
touch(struct cw_backtest *bt, uint32_t key)
{
	if (bt->seen[key])
		return CW_OK;
	if (bt->n_touched == bt->touched_cap) {
		size_t cap = bt->touched_cap ? bt->touched_cap * 2 : 4096;
		uint32_t *t = realloc(bt->touched, cap * sizeof(*t));

		if (t == NULL)
			return CW_ENOMEM;
		bt->touched = t;
		bt->touched_cap = cap;
	}
	bt->seen[key] = 1;
	bt->touched[bt->n_touched++] = key;
	return CW_OK;
}

/* Forecaster method says key will be read with expected reads lambda. */
static int
add_forecast(struct cw_backtest *bt, int method, const char *key,
    double lambda)
{
	int64_t k = cw_intern_id(&bt->keys, key, strlen(key), 1);

	if (k < 0 || per_key_room(bt) != CW_OK || touch(bt, (uint32_t)k) !=
	    CW_OK)
		return CW_ENOMEM;
	/* Kept as expected reads until scoring turns it into a chance. */
	bt->p[method][k] += lambda;
	return CW_OK;
}

/* A baseline: the patterns read in [from_h, from_h + 1h) read as often
 * again in the window at start_s. */
static int
baseline(struct cw_backtest *bt, int method, const struct rec *r,
    size_t lo, size_t hi, int64_t start_s)
{
	char key[CW_KEY_MAX + 1];
	int64_t end_s = start_s + bt->window_s;

	for (size_t i = lo; i < hi; i++)
		for (int64_t s = start_s; s < end_s; s = (s / 3600 + 1) * 3600) {
			int64_t e = (s / 3600 + 1) * 3600;
			double part = (double)((e < end_s ? e : end_s) - s) /
			    3600;

			if (cw_pattern_key(cw_intern_name(&bt->pats, r[i].pat),
			    s, key, NULL) != CW_OK)
				continue;
			if (add_forecast(bt, method, key, part) != CW_OK)
				return CW_ENOMEM;
		}
	return CW_OK;
}

static int
by_p_desc(const void *a, const void *b, void *ctx)
{
	const double *p = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (p[x] != p[y])
		return p[x] > p[y] ? -1 : 1;
	return (x > y) - (x < y);
}

/* Score the forecasts now in p[] against reads[], then clear both. */
static int
score_hour(struct cw_backtest *bt, struct tally t[CW_BT_COUNT],
    double *reads_total, double *distinct_total)
{
	size_t distinct = 0, n = bt->n_touched;
	double reads = 0;
	uint32_t *order = malloc((n + 1) * sizeof(*order));

	if (order == NULL)
		return CW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = bt->touched[i];

		for (int m = 0; m < CW_BT_COUNT; m++)
			bt->p[m][k] = 1 - exp(-bt->p[m][k]);
		if (bt->reads[k] > 0) {
			distinct++;
			reads += bt->reads[k];
		}
	}
	for (int m = 0; m < CW_BT_COUNT; m++) {
		size_t budget = 2 * distinct, kept = 0;

		if (n == 0)
			break;
		memcpy(order, bt->touched, n * sizeof(*order));
		qsort_r(order, n, sizeof(*order), by_p_desc, bt->p[m]);
		for (size_t i = 0; i < n && kept < budget; i++) {
			uint32_t k = order[i];

			if (!(bt->p[m][k] > 0))
				break;
			kept++;
			t[m].covered += bt->reads[k];
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t k = bt->touched[i];
			double p = bt->p[m][k], y = bt->reads[k] > 0;

			t[m].brier += (p - y) * (p - y);
			for (int f = 0; f < 2; f++)
				if (p >= floors[f]) {
					t[m].forecast[f]++;
					t[m].tp[f] += y;
				}
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t k = bt->touched[i];

		for (int m = 0; m < CW_BT_COUNT; m++)
			bt->p[m][k] = 0;
		bt->reads[k] = 0;
		bt->seen[k] = 0;
	}
	*reads_total += reads;
	*distinct_total += (double)distinct;
	bt->n_touched = 0;
	free(order);
	return CW_OK;
}

/* First record at or after ts_ms, at or after i. */
static size_t
seek(const struct cw_backtest *bt, size_t i, int64_t ts_ms)
{
	size_t hi = bt->n;

	while (i < hi) {
		size_t mid = i + (hi - i) / 2;

		if (bt->recs[mid].ts_ms < ts_ms)
			i = mid + 1;
		else
			hi = mid;
	}
	return i;
}

int
cw_backtest_run(struct cw_backtest *bt, struct cw_backtest_report *out,
    struct cw_err *err)
{
	struct tally t[CW_BT_COUNT] = { 0 };
	struct cw_forecast_opts all = { 0 };
	struct cw_predict *m = NULL;
	struct cw_forecast *list = NULL;
	double reads_total = 0, distinct_total = 0, universe = 0;
	size_t learned = 0, n_list, i;
	int64_t first_h, last_h, h;
	int rc = CW_ENOMEM;

	memset(out, 0, sizeof(*out));
	out->window_s = bt->window_s;
	if (bt->n == 0)
		return cw_err_set(err, CW_EDATA, 0, "the trace has no reads");
	qsort(bt->recs, bt->n, sizeof(*bt->recs), by_time);
	first_h = bt->recs[0].ts_ms / 3600000;
	last_h = bt->recs[bt->n - 1].ts_ms / 3600000;
	if ((last_h + 1) * 3600 - (first_h + WEEK_HOURS) * 3600 <
	    bt->window_s)
		return cw_err_set(err, CW_EDATA, 0, "the trace spans less "
		    "than a week and a window: nothing to score");
	if ((rc = cw_predict_new(&m, err)) != CW_OK)
		return rc;
	rc = CW_ENOMEM;
	for (h = first_h + WEEK_HOURS; h * 3600 + bt->window_s <=
	    (last_h + 1) * 3600; h++) {
		int64_t start_ms = h * 3600000, i_lo, i_hi;

		/* The model learns everything before the window, only. */
		for (; learned < bt->n && bt->recs[learned].ts_ms < start_ms;
		    learned++) {
			const struct rec *r = &bt->recs[learned];
			const char *key = cw_intern_name(&bt->keys, r->key);

			if (cw_predict_learn_key(m, r->ts_ms, key,
			    strlen(key)) == CW_ENOMEM)
				goto done;
		}
		cw_predict_advance(m, h * 3600);
		if (cw_predict_forecast(m, h * 3600, bt->window_s, &all, &list,
		    &n_list, err) != CW_OK)
			goto done;
		for (i = 0; i < n_list; i++)
			if (add_forecast(bt, CW_BT_MODEL, list[i].key,
			    list[i].expected) != CW_OK)
				goto done;
		free(list);
		list = NULL;
		i_lo = (int64_t)seek(bt, 0, start_ms - 3600000);
		i_hi = (int64_t)seek(bt, (size_t)i_lo, start_ms);
		if (baseline(bt, CW_BT_LAST_HOUR, bt->recs, (size_t)i_lo,
		    (size_t)i_hi, h * 3600) != CW_OK)
			goto done;
		i_lo = (int64_t)seek(bt, 0, start_ms - WEEK_HOURS * 3600000ll);
		i_hi = (int64_t)seek(bt, (size_t)i_lo, start_ms -
		    (WEEK_HOURS - 1) * 3600000ll);
		if (baseline(bt, CW_BT_WEEK_AGO, bt->recs, (size_t)i_lo,
		    (size_t)i_hi, h * 3600) != CW_OK)
			goto done;
		/* What was read in the window. */
		for (i = seek(bt, (size_t)i_hi, start_ms); i < bt->n &&
		    bt->recs[i].ts_ms < start_ms + bt->window_s * 1000; i++) {
			if (per_key_room(bt) != CW_OK ||
			    touch(bt, bt->recs[i].key) != CW_OK)
				goto done;
			bt->reads[bt->recs[i].key]++;
		}
		universe += (double)bt->n_touched;
		if (score_hour(bt, t, &reads_total, &distinct_total) != CW_OK)
			goto done;
		if (out->hours++ == 0)
			out->first_s = h * 3600;
		out->last_s = h * 3600 + bt->window_s;
	}
	out->reads = (uint64_t)reads_total;
	for (int k = 0; k < CW_BT_COUNT; k++) {
		struct cw_backtest_scores *s = &out->method[k];

		s->coverage = reads_total > 0 ? t[k].covered / reads_total : 0;
		for (int f = 0; f < 2; f++) {
			s->precision[f] = t[k].forecast[f] > 0 ?
			    t[k].tp[f] / t[k].forecast[f] : 0;
			s->recall[f] = distinct_total > 0 ?
			    t[k].tp[f] / distinct_total : 0;
			s->f1[f] = s->precision[f] + s->recall[f] > 0 ?
			    2 * s->precision[f] * s->recall[f] /
			    (s->precision[f] + s->recall[f]) : 0;
		}
		s->brier = universe > 0 ? t[k].brier / universe : 0;
	}
	rc = CW_OK;
done:
	if (rc == CW_ENOMEM)
		cw_err_set(err, CW_ENOMEM, 0, "backtest");
	free(list);
	cw_predict_free(m);
	return rc;
}
