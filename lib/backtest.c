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
 *
 * Given a truth file (each key's true expected reads per hour), a fourth
 * row ranks keys by their true probability: the best coverage any
 * forecaster can reach at the same budget, the yardstick that compares
 * across workloads. It is scored over the same keys' Brier as the three,
 * so adding it moves none of their figures.
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
	"model", "last_hour", "week_ago", "truth",
};

struct rec {
	int64_t ts_ms;
	uint32_t key, pat;
	uint64_t seq;
};

/* A key's true expected reads in one hour. */
struct truth_rec {
	int64_t hour;
	uint32_t key;
	double expected;
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
	struct truth_rec *truth;
	size_t n_truth, cap_truth;
	uint64_t truth_malformed;
	struct cw_predict_counts counts;
	/* Per key id, reset after each hour through the touched list. */
	double *p[CW_BT_COUNT];
	uint32_t *reads;
	unsigned char *seen;
	size_t per_key_cap;
	uint32_t *touched;
	size_t n_touched, touched_cap;
	/* The model's keys by pattern: the key id a pattern named on its
	 * last day, so a key is looked up once a day, not once an hour. */
	struct named { int64_t day; int64_t key; } *named;
	size_t named_cap;
	struct ranked { double p; uint32_t key; } *rank;
	size_t rank_cap;
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
	free(bt->truth);
	for (int i = 0; i < CW_BT_COUNT; i++)
		free(bt->p[i]);
	free(bt->reads);
	free(bt->seen);
	free(bt->touched);
	free(bt->named);
	free(bt->rank);
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

int
cw_backtest_truth_line(struct cw_backtest *bt, const char *line, size_t len)
{
	struct cw_log_line ll;
	struct truth_rec *t;
	char num[32], *end;
	double expected;
	int64_t k;

	if (cw_predict_parse_line(line, len, &ll) != CW_OK ||
	    ll.ts_ms % 3600000 != 0 || ll.rest_len < 2 ||
	    ll.rest_len > sizeof(num) || ll.rest[0] != ',')
		goto malformed;
	memcpy(num, ll.rest + 1, ll.rest_len - 1);
	num[ll.rest_len - 1] = '\0';
	expected = strtod(num, &end);
	if (end == num || *end != '\0' || !(expected >= 0 && expected < 1e9))
		goto malformed;
	if ((k = cw_intern_id(&bt->keys, ll.key, ll.klen, 1)) < 0)
		return CW_ENOMEM;
	if (bt->n_truth == bt->cap_truth) {
		size_t cap = bt->cap_truth ? bt->cap_truth * 2 : 65536;

		if ((t = realloc(bt->truth, cap * sizeof(*t))) == NULL)
			return CW_ENOMEM;
		bt->truth = t;
		bt->cap_truth = cap;
	}
	bt->truth[bt->n_truth++] = (struct truth_rec){ ll.ts_ms / 3600000,
	    (uint32_t)k, expected };
	return CW_OK;
malformed:
	bt->truth_malformed++;
	return CW_EDATA;
}

uint64_t
cw_backtest_truth_malformed(const struct cw_backtest *bt)
{
	return bt->truth_malformed;
}

static int
by_hour(const void *a, const void *b)
{
	const struct truth_rec *x = a, *y = b;

	if (x->hour != y->hour)
		return x->hour < y->hour ? -1 : 1;
	return (x->key > y->key) - (x->key < y->key);
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

/* Forecaster method says key id k will be read with expected reads
 * lambda. */
static int
add_forecast_id(struct cw_backtest *bt, int method, int64_t k,
    double lambda)
{
	if (k < 0 || per_key_room(bt) != CW_OK || touch(bt, (uint32_t)k) !=
	    CW_OK)
		return CW_ENOMEM;
	/* Kept as expected reads until scoring turns it into a chance. */
	bt->p[method][k] += lambda;
	return CW_OK;
}

static int
add_forecast(struct cw_backtest *bt, int method, const char *key,
    double lambda)
{
	return add_forecast_id(bt, method, cw_intern_id(&bt->keys, key,
	    strlen(key), 1), lambda);
}

/* The model's forecast of one key (cw_predict_expect's callback). */
static int
model_forecast(void *ctx, size_t pattern, int64_t at_s, const char *key,
    double expected)
{
	struct cw_backtest *bt = ctx;
	int64_t day = at_s / 86400;

	if (pattern >= bt->named_cap) {
		size_t cap = bt->named_cap ? bt->named_cap : 4096;
		struct named *n;

		while (cap <= pattern)
			cap *= 2;
		if ((n = realloc(bt->named, cap * sizeof(*n))) == NULL)
			return CW_ENOMEM;
		for (size_t i = bt->named_cap; i < cap; i++)
			n[i].day = INT64_MIN;
		bt->named = n;
		bt->named_cap = cap;
	}
	if (bt->named[pattern].day != day) {
		bt->named[pattern].key = cw_intern_id(&bt->keys, key,
		    strlen(key), 1);
		bt->named[pattern].day = day;
	}
	return add_forecast_id(bt, CW_BT_MODEL, bt->named[pattern].key,
	    expected);
}

/* The truth of the window at start_s: each hour's expectations, in
 * proportion to the part of the hour inside the window. */
static int
truth_forecast(struct cw_backtest *bt, int64_t start_s)
{
	int64_t end_s = start_s + bt->window_s;
	size_t lo = 0, hi = bt->n_truth;

	/* First record of the window's first hour. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bt->truth[mid].hour < start_s / 3600)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < bt->n_truth && bt->truth[lo].hour * 3600 < end_s; lo++) {
		const struct truth_rec *t = &bt->truth[lo];
		int64_t s = t->hour * 3600 > start_s ? t->hour * 3600 : start_s;
		int64_t e = (t->hour + 1) * 3600 < end_s ? (t->hour + 1) * 3600 :
		    end_s;

		if (add_forecast_id(bt, CW_BT_TRUTH, t->key, t->expected *
		    (double)(e - s) / 3600) != CW_OK)
			return CW_ENOMEM;
	}
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

/* Is a ranked before b: likelier, then the lower key id. */
static int
before(const struct ranked *a, const struct ranked *b)
{
	return a->p > b->p || (a->p == b->p && a->key < b->key);
}

/* Move the k first of r[0..n) in that order to r[0..k), in any order
 * among themselves (Hoare's selection): coverage needs which keys make
 * the budget, not their order, and sorting every hour's keys was most
 * of a backtest's time. */
static void
select_first(struct ranked *r, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, want = (ptrdiff_t)k;

	/* Invariant: the first k lie in r[0..hi], and r[0..lo) are among
	 * them. Hoare's partition around the middle one; keys are
	 * unique, so the order is total. */
	while (lo < hi) {
		struct ranked pivot = r[lo + (hi - lo) / 2], tmp;
		ptrdiff_t i = lo - 1, j = hi + 1;

		for (;;) {
			do
				i++;
			while (before(&r[i], &pivot));
			do
				j--;
			while (before(&pivot, &r[j]));
			if (i >= j)
				break;
			tmp = r[i];
			r[i] = r[j];
			r[j] = tmp;
		}
		/* r[lo..j] all come before r[j+1..hi]. */
		if (want <= j + 1)
			hi = j;
		else
			lo = j + 1;
	}
}

/* Is key k in the set every forecaster's Brier is taken over: named by
 * one of the three, or read? (Not the truth's keys alone.) */
static int
scored(const struct cw_backtest *bt, uint32_t k)
{
	if (bt->reads[k] > 0)
		return 1;
	for (int m = 0; m < CW_BT_COUNT; m++)
		if (m != CW_BT_TRUTH && bt->p[m][k] > 0)
			return 1;
	return 0;
}

/* Score the forecasts now in p[] against reads[], then clear both. */
static int
score_hour(struct cw_backtest *bt, struct tally t[CW_BT_COUNT],
    double *reads_total, double *distinct_total, double *universe)
{
	size_t distinct = 0, n = bt->n_touched;
	double reads = 0;

	if (n > bt->rank_cap) {
		struct ranked *r = realloc(bt->rank, n * sizeof(*r));

		if (r == NULL)
			return CW_ENOMEM;
		bt->rank = r;
		bt->rank_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t k = bt->touched[i];

		for (int m = 0; m < CW_BT_COUNT; m++)
			if (bt->p[m][k] > 0)	/* not named: stays 0, no exp */
				bt->p[m][k] = 1 - exp(-bt->p[m][k]);
		*universe += scored(bt, k);
		if (bt->reads[k] > 0) {
			distinct++;
			reads += bt->reads[k];
		}
	}
	for (int m = 0; m < CW_BT_COUNT; m++) {
		size_t budget = 2 * distinct, kept = 0;

		/* Coverage: the reads of the keys the forecaster ranks
		 * within the budget, among those it names at all. */
		for (size_t i = 0; i < n; i++) {
			uint32_t k = bt->touched[i];

			if (bt->p[m][k] > 0)
				bt->rank[kept++] = (struct ranked){ bt->p[m][k],
				    k };
		}
		if (kept > budget) {
			select_first(bt->rank, kept, budget);
			kept = budget;
		}
		for (size_t i = 0; i < kept; i++)
			t[m].covered += bt->reads[bt->rank[i].key];
		for (size_t i = 0; i < n; i++) {
			uint32_t k = bt->touched[i];
			double p = bt->p[m][k], y = bt->reads[k] > 0;

			if (!scored(bt, k))
				continue;
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
	struct cw_predict *m = NULL;
	double reads_total = 0, distinct_total = 0, universe = 0;
	size_t learned = 0, i;
	int64_t first_h, last_h, h;
	int rc = CW_ENOMEM;

	memset(out, 0, sizeof(*out));
	out->window_s = bt->window_s;
	if (bt->n == 0)
		return cw_err_set(err, CW_EDATA, 0, "the trace has no reads");
	qsort(bt->recs, bt->n, sizeof(*bt->recs), by_time);
	if (bt->n_truth > 1)
		qsort(bt->truth, bt->n_truth, sizeof(*bt->truth), by_hour);
	out->has_truth = bt->n_truth > 0;
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
		if ((rc = cw_predict_expect(m, h * 3600, bt->window_s, 0,
		    model_forecast, bt, err)) != CW_OK)
			goto done;
		rc = CW_ENOMEM;
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
		if (truth_forecast(bt, h * 3600) != CW_OK)
			goto done;
		/* What was read in the window. */
		for (i = seek(bt, (size_t)i_hi, start_ms); i < bt->n &&
		    bt->recs[i].ts_ms < start_ms + bt->window_s * 1000; i++) {
			if (per_key_room(bt) != CW_OK ||
			    touch(bt, bt->recs[i].key) != CW_OK)
				goto done;
			bt->reads[bt->recs[i].key]++;
		}
		if (score_hour(bt, t, &reads_total, &distinct_total,
		    &universe) != CW_OK)
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
	cw_predict_free(m);
	return rc;
}
