/*
 * replay_out: the replay's figures, as a table for people or one JSON
 * document for scripts and plots.
 *
 * Hit rates are shares of all lookups: L1's and L2's add up to the
 * overall one, "served without the source". The latency spectrum lists
 * the value at the quantiles HdrHistogram's percentile output uses
 * (each step halves what is left above), so a tail is shown whole.
 */
#include <stdio.h>
#include <string.h>

#include "cw.h"
#include "trace_int.h"
#include "hist_int.h"

static double
share(uint64_t part, uint64_t whole)
{
	return whole > 0 ? (double)part / (double)whole : 0;
}

static double
served_share(const struct cw_replay_result *r)
{
	return share(r->served[CW_LEVEL_L1] + r->served[CW_LEVEL_L2],
	    r->lookups);
}

static double
mean_ns(const struct cw_replay_result *r)
{
	uint64_t n = cw_hist_total(r->latency);

	return n > 0 ? cw_hist_sum_ns(r->latency) / (double)n : 0;
}

/*
 * The targets the benchmark exists to show (issue 12), judged on what was
 * replayed: the best strategy that could really run (the oracles are
 * bounds, not warmers) for hit rates and latency; predictive against the
 * oracle and market_open when they were replayed too.
 */
struct target {
	const char *name;	/* its JSON name */
	const char *text;	/* for people */
	double goal, value;	/* in the name's unit */
	const char *cmp;	/* ">=", "<=" or "<": how value meets goal */
	int judged;		/* 0: a strategy it needs was not replayed */
};

#define NTARGETS 6

static long
strategy_at(const struct cw_replay_result *r, size_t n, int strategy)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].strategy == strategy)
			return (long)i;
	return -1;
}

static double
open_share(const struct cw_replay_result *r)
{
	return 1 - share(r->open_l3, r->open_lookups);
}

/* The oracles know the trace's future: bounds, not warmers. */
static int
is_bound(int strategy)
{
	return strategy == CW_STRATEGY_ORACLE ||
	    strategy == CW_STRATEGY_COMBINED_ORACLE;
}

/* The best real strategy's index, or -1; the targets into t. */
static long
judge(const struct cw_replay_result *r, size_t n, struct target t[NTARGETS])
{
	long best = -1, pred = strategy_at(r, n, CW_STRATEGY_PREDICTIVE);
	long orc = strategy_at(r, n, CW_STRATEGY_ORACLE);
	long mo = strategy_at(r, n, CW_STRATEGY_MARKET_OPEN);

	for (size_t i = 0; i < n; i++)
		if (!is_bound(r[i].strategy) && (best < 0 ||
		    served_share(&r[i]) > served_share(&r[best])))
			best = (long)i;
	t[0] = (struct target){ "overall_hit_rate", "best overall hit rate",
	    0.99, best >= 0 ? served_share(&r[best]) : 0, ">=", best >= 0 };
	t[1] = (struct target){ "open_hit_rate", "best in the 5 minutes "
	    "after opens", 0.97, best >= 0 ? open_share(&r[best]) : 0, ">=",
	    best >= 0 };
	t[2] = (struct target){ "p99_ms", "its P99 (ms)", 1.0, best >= 0 ?
	    (double)cw_hist_quantile(r[best].latency, 0.99) / 1e6 : 0, "<",
	    best >= 0 };
	t[3] = (struct target){ "mean_ms", "its mean (ms)", 0.1, best >= 0 ?
	    mean_ns(&r[best]) / 1e6 : 0, "<", best >= 0 };
	t[4] = (struct target){ "predictive_below_oracle_points",
	    "predictive below the oracle (points)", 1.0, pred >= 0 &&
	    orc >= 0 ? 100 * (served_share(&r[orc]) -
	    served_share(&r[pred])) : 0, "<=", pred >= 0 && orc >= 0 };
	/* Fewer than market_open's, strictly: as many is not fewer. */
	t[5] = (struct target){ "predictive_wasted",
	    "predictive's wasted fetches, vs market_open's", mo >= 0 ?
	    (double)r[mo].warm_wasted : 0, pred >= 0 ?
	    (double)r[pred].warm_wasted : 0, "<", pred >= 0 && mo >= 0 };
	return best;
}

static int
met(const struct target *t)
{
	if (!t->judged)
		return 0;
	if (t->cmp[0] == '>')
		return t->value >= t->goal;
	return t->cmp[1] == '=' ? t->value <= t->goal : t->value < t->goal;
}

static int
targets_text(const struct cw_replay_result *r, size_t n, struct cw_buf *out,
    struct cw_err *err)
{
	struct target t[NTARGETS];
	long best = judge(r, n, t);
	int rc = cw_buf_appendf(out, err, "targets (best real strategy: %s):\n",
	    best >= 0 ? cw_strategy_name(r[best].strategy) : "none");

	for (int i = 0; i < NTARGETS && rc == CW_OK; i++)
		rc = t[i].judged ? cw_buf_appendf(out, err, "  %-46s %10.4f "
		    "%-2s %-8g %s\n", t[i].text, t[i].value, t[i].cmp,
		    t[i].goal, met(&t[i]) ? "met" : "NOT MET") :
		    cw_buf_appendf(out, err, "  %-46s not judged (needs "
		    "strategies not replayed)\n", t[i].text);
	return rc;
}

static int
targets_json(const struct cw_replay_result *r, size_t n, struct cw_buf *out,
    struct cw_err *err)
{
	struct target t[NTARGETS];
	long best = judge(r, n, t);
	int rc = cw_buf_appendf(out, err, ",\"targets\":{\"best_strategy\":");

	if (rc == CW_OK)
		rc = best >= 0 ? cw_buf_appendf(out, err, "\"%s\"",
		    cw_strategy_name(r[best].strategy)) :
		    cw_buf_appendf(out, err, "null");
	for (int i = 0; i < NTARGETS && rc == CW_OK; i++)
		rc = t[i].judged ? cw_buf_appendf(out, err, ",\"%s\":{"
		    "\"value\":%.6f,\"cmp\":\"%s\",\"goal\":%.6g,"
		    "\"met\":%s}", t[i].name, t[i].value, t[i].cmp,
		    t[i].goal, met(&t[i]) ? "true" : "false") :
		    cw_buf_appendf(out, err, ",\"%s\":null", t[i].name);
	return rc == CW_OK ? cw_buf_appendf(out, err, "}") : rc;
}

static int
table(const struct cw_replay_result *r, size_t n, const struct cw_trace *t,
    size_t capacity, uint64_t lru, uint64_t belady, struct cw_buf *out,
    struct cw_err *err)
{
	int rc = cw_buf_appendf(out, err, "%-15s %6s %6s %7s %7s %8s %8s %8s "
	    "%8s %8s %8s %7s %8s %9s\n", "strategy", "l1", "l2", "overall",
	    "open5m", "mean_us", "p50_us", "p99_us", "p999_us", "l3_query",
	    "warmed", "wasted", "peak_l1", "lookups/s");

	for (size_t i = 0; i < n && rc == CW_OK; i++)
		rc = cw_buf_appendf(out, err, "%-15s %5.1f%% %5.1f%% %6.2f%% "
		    "%6.2f%% %8.1f %8.1f %8.1f %8.1f %8llu %8llu %7llu "
		    "%7.1fM %9.0f\n", cw_strategy_name(r[i].strategy),
		    100 * share(r[i].served[CW_LEVEL_L1], r[i].lookups),
		    100 * share(r[i].served[CW_LEVEL_L2], r[i].lookups),
		    100 * served_share(&r[i]),
		    100 * (1 - share(r[i].open_l3, r[i].open_lookups)),
		    mean_ns(&r[i]) / 1e3,
		    (double)cw_hist_quantile(r[i].latency, 0.5) / 1e3,
		    (double)cw_hist_quantile(r[i].latency, 0.99) / 1e3,
		    (double)cw_hist_quantile(r[i].latency, 0.999) / 1e3,
		    (unsigned long long)r[i].l3_queries,
		    (unsigned long long)r[i].warm_fetches,
		    (unsigned long long)r[i].warm_wasted,
		    (double)r[i].peak_l1_bytes / (1 << 20),
		    r[i].real_s > 0 ? (double)r[i].lookups / r[i].real_s : 0);
	/* A strategy stopped by a time limit: its figures are of less. */
	for (size_t i = 0; i < n && rc == CW_OK; i++)
		if (r[i].lookups < t->n)
			rc = cw_buf_appendf(out, err, "%s: out of time after "
			    "%llu of the %zu lookups\n",
			    cw_strategy_name(r[i].strategy),
			    (unsigned long long)r[i].lookups, t->n);
	if (rc == CW_OK)
		rc = cw_buf_appendf(out, err, "trace: %zu lookups of %zu keys "
		    "over %.1f days\n", t->n, cw_trace_keys(t),
		    (double)(t->ts_ms[t->n - 1] - t->ts_ms[0]) / 86400000.0);
	if (rc == CW_OK && capacity > 0)
		rc = cw_buf_appendf(out, err, "L1 alone at %zu entries, "
		    "offline: LRU %.2f%%, Belady %.2f%%\n", capacity,
		    100 * share(lru, t->n), 100 * share(belady, t->n));
	return rc == CW_OK ? targets_text(r, n, out, err) : rc;
}

static int
json_strategy(const struct cw_replay_result *r, const struct cw_trace *t,
    struct cw_buf *out, struct cw_err *err)
{
	int rc = cw_buf_appendf(out, err, "\"%s\":{\"lookups\":%llu,"
	    "\"whole_trace\":%s,"
	    "\"l1_hit_rate\":%.6f,\"l2_hit_rate\":%.6f,"
	    "\"overall_hit_rate\":%.6f,\"open_lookups\":%llu,"
	    "\"open_hit_rate\":%.6f,\"not_served\":%llu,"
	    "\"latency_ns\":{\"mean\":%.0f,\"p50\":%lld,\"p99\":%lld,"
	    "\"p999\":%lld,\"max\":%lld},\"l3_queries\":%llu,"
	    "\"warm_runs\":%llu,\"warm_fetches\":%llu,\"warm_wasted\":%llu,"
	    "\"peak_l1_bytes\":%llu,\"replay_seconds\":%.3f,"
	    "\"lookups_per_second\":%.0f,\"latency_spectrum\":[",
	    cw_strategy_name(r->strategy), (unsigned long long)r->lookups,
	    r->lookups == t->n ? "true" : "false",
	    share(r->served[CW_LEVEL_L1], r->lookups),
	    share(r->served[CW_LEVEL_L2], r->lookups), served_share(r),
	    (unsigned long long)r->open_lookups,
	    1 - share(r->open_l3, r->open_lookups),
	    (unsigned long long)r->served[CW_LEVEL_NONE], mean_ns(r),
	    (long long)cw_hist_quantile(r->latency, 0.5),
	    (long long)cw_hist_quantile(r->latency, 0.99),
	    (long long)cw_hist_quantile(r->latency, 0.999),
	    (long long)cw_hist_quantile(r->latency, 1),
	    (unsigned long long)r->l3_queries,
	    (unsigned long long)r->warm_runs,
	    (unsigned long long)r->warm_fetches,
	    (unsigned long long)r->warm_wasted,
	    (unsigned long long)r->peak_l1_bytes, r->real_s,
	    r->real_s > 0 ? (double)r->lookups / r->real_s : 0);
	double left = 1;

	/* 0, 0.5, 0.75, 0.875, ... to six nines, then the maximum. */
	for (int i = 0; rc == CW_OK && left > 1e-6; i++, left /= 2)
		rc = cw_buf_appendf(out, err, "%s[%.7f,%lld]", i ? "," : "",
		    1 - left, (long long)cw_hist_quantile(r->latency, 1 - left));
	if (rc == CW_OK)
		rc = cw_buf_appendf(out, err, ",[1,%lld]],\"first_hour\":%lld,"
		    "\"hourly\":[", (long long)cw_hist_quantile(r->latency, 1),
		    (long long)r->first_hour_s);
	for (size_t h = 0; rc == CW_OK && h < r->hours; h++)
		rc = cw_buf_appendf(out, err, "%s[%llu,%llu,%llu]", h ? "," :
		    "", (unsigned long long)r->hourly[h][0],
		    (unsigned long long)r->hourly[h][1],
		    (unsigned long long)r->hourly[h][2]);
	return rc == CW_OK ? cw_buf_appendf(out, err, "]}") : rc;
}

int
cw_replay_format(const struct cw_replay_result *r, size_t n,
    const struct cw_trace *t, size_t capacity, uint64_t lru, uint64_t belady,
    enum cw_format fmt, struct cw_buf *out, struct cw_err *err)
{
	char from[CW_CAL_UTC_LEN], to[CW_CAL_UTC_LEN];
	int rc;

	if (fmt != CW_FORMAT_JSON)
		return table(r, n, t, capacity, lru, belady, out, err);
	cw_cal_format_utc(t->ts_ms[0] / 1000, from);
	cw_cal_format_utc(t->ts_ms[t->n - 1] / 1000, to);
	rc = cw_buf_appendf(out, err, "{\"trace\":{\"lookups\":%zu,\"keys\":%zu,"
	    "\"skipped\":%llu,\"from\":\"%s\",\"to\":\"%s\"}", t->n,
	    cw_trace_keys(t), (unsigned long long)t->skipped, from, to);
	if (rc == CW_OK && capacity > 0)
		rc = cw_buf_appendf(out, err, ",\"l1_offline\":{\"entries\":%zu,"
		    "\"lru_hit_rate\":%.6f,\"belady_hit_rate\":%.6f}", capacity,
		    share(lru, t->n), share(belady, t->n));
	for (size_t i = 0; i < n && rc == CW_OK; i++)
		if ((rc = cw_buf_appendf(out, err, ",")) == CW_OK)
			rc = json_strategy(&r[i], t, out, err);
	if (rc == CW_OK)
		rc = targets_json(r, n, out, err);
	return rc == CW_OK ? cw_buf_appendf(out, err, "}\n") : rc;
}
