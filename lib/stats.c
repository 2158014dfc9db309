/*
 * stats: what the cache is doing, as figures for people and monitors.
 *
 * cw_stats_collect turns the raw counters of the L1 header into derived
 * figures once (hit rates, percentiles, rates, fill); the formatters only
 * lay them out, so the table, the JSON document, the Prometheus text and
 * the monitoring check can never disagree about a number.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cw.h"
#include "out_int.h"
#include "stats_int.h"
#include "hist_int.h"
#include "l1_int.h"

static void
latency_of(const uint64_t *counts, struct cw_stats_latency *out)
{
	uint64_t n = cw_hist_total(counts);

	memset(out, 0, sizeof(*out));
	out->count = n;
	if (n == 0)
		return;
	out->mean_ns = cw_hist_sum_ns(counts) / (double)n;
	out->p50_ns = cw_hist_quantile(counts, 0.50);
	out->p90_ns = cw_hist_quantile(counts, 0.90);
	out->p99_ns = cw_hist_quantile(counts, 0.99);
	out->p999_ns = cw_hist_quantile(counts, 0.999);
	out->max_ns = cw_hist_quantile(counts, 1.0);
}

struct largest_ctx {
	struct cw_stats_report *r;
};

/* Keep the CW_STATS_LARGEST biggest values, biggest first. */
static int
note_largest(const struct cw_l1_entry *e, void *ctx)
{
	struct cw_stats_report *r = ((struct largest_ctx *)ctx)->r;
	unsigned n = r->nlargest, at;

	if (n == CW_STATS_LARGEST &&
	    e->value_bytes <= r->largest[n - 1].value_bytes)
		return 0;
	at = n < CW_STATS_LARGEST ? n : n - 1;
	while (at > 0 && r->largest[at - 1].value_bytes < e->value_bytes) {
		r->largest[at] = r->largest[at - 1];
		at--;
	}
	memcpy(r->largest[at].key, e->key, e->key_len);
	r->largest[at].key[e->key_len] = '\0';
	r->largest[at].value_bytes = e->value_bytes;
	if (n < CW_STATS_LARGEST)
		r->nlargest++;
	return 0;
}

/* A level's figures of its outcome counts (and latencies, or NULL). */
static void
level_of(const uint64_t res[CW_RESULT_COUNT], const uint64_t *latency,
    struct cw_stats_level *o)
{
	o->hits = res[CW_RESULT_HIT];
	o->misses = res[CW_RESULT_MISS];
	o->errors = res[CW_RESULT_ERROR];
	o->timeouts = res[CW_RESULT_TIMEOUT];
	o->requests = o->hits + o->misses + o->errors + o->timeouts;
	o->hit_rate = o->requests > 0 ?
	    (double)o->hits / (double)o->requests : NAN;
	if (latency != NULL)
		latency_of(latency, &o->latency);
	else
		memset(&o->latency, 0, sizeof(o->latency));
}

/* Every lookup starts at L1; served without L3 = L1 or L2 hits. */
static double
served_without_l3(const struct cw_stats_level *level)
{
	uint64_t l1 = level[CW_LEVEL_L1].requests;

	return l1 > 0 ? (double)(level[CW_LEVEL_L1].hits +
	    level[CW_LEVEL_L2].hits) / (double)l1 : NAN;
}

void
cw_stats_derive(const struct cw_l1_stats *st, struct cw_stats_report *r)
{
	struct cw_stats_traffic *w = &r->window;

	memset(r, 0, sizeof(*r));
	r->created_ns = st->created_ns;
	r->reset_ns = st->reset_ns;
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++) {
		level_of(st->level[lv].results, st->level[lv].latency,
		    &r->level[lv]);
		level_of(st->window_results[lv], NULL, &w->level[lv]);
		level_of(st->by_role[CW_ROLE_WARMER][lv], NULL,
		    &r->warm_level[lv]);
	}
	r->lookups = r->level[CW_LEVEL_L1].requests;
	r->hit_rate = served_without_l3(r->level);
	latency_of(st->overall, &r->latency);
	r->window_s = st->window_s;
	w->lookups = w->level[CW_LEVEL_L1].requests;
	w->hit_rate = served_without_l3(w->level);
	latency_of(st->window_overall, &w->latency);
	r->rate_1m = (double)st->lookups_1m / 60;
	r->rate_5m = (double)st->lookups_5m / 300;
	r->rate_15m = (double)st->lookups_15m / 900;
	r->entries = st->entries;
	r->max_entries = st->max_entries;
	r->bytes = st->bytes;
	r->max_bytes = st->max_bytes;
	r->fill_pct = st->max_entries == 0 || st->max_bytes == 0 ? 0 :
	    100.0 * fmax((double)st->entries / (double)st->max_entries,
	    (double)st->bytes / (double)st->max_bytes);
	r->sets = st->sets;
	r->evictions = st->evictions;
	r->expirations = st->expirations;
	r->damaged = st->damaged;
	r->too_big = st->too_big;
	r->repairs = st->repairs;
	r->stale_served = st->stale_served;
	r->eviction = st->eviction;
	r->policy_switches = st->policy_switches;
}

int
cw_stats_collect(struct cw_l1 *l1, unsigned window_s,
    struct cw_stats_report *r, struct cw_err *err)
{
	struct cw_l1_stats *st;
	struct largest_ctx lc = { r };

	if ((st = malloc(sizeof(*st))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "stats");
	cw_l1_stats(l1, window_s, st);
	cw_stats_derive(st, r);
	free(st);
	return cw_l1_scan(l1, note_largest, &lc, err);
}

/* ---- formatting ---- */

/* Every figure is appended to the caller's buffer. Running out of memory
 * here leaves a report cut short; nothing else can fail. */
#define put(b, ...) cw_buf_appendf((b), NULL, __VA_ARGS__)

/* A duration for people: "812 ns", "3.1 us", "4.20 ms", "1.50 s". */
int
cw_stats_collect_journal(const char *path, struct cw_stats_report *r,
    struct cw_err *err)
{
	struct cw_journal_summary *s = malloc(sizeof(*s));
	int rc;

	if (s == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "journal summary");
	if ((rc = cw_journal_summary(path, s, err)) != CW_OK) {
		free(s);
		return rc;
	}
	r->has_warm = 1;
	r->warm_runs = s->runs;
	r->warm_tasks = 0;
	for (int i = 0; i < CW_WARM_RESULTS; i++)
		r->warm_tasks += s->by_result[i];
	r->warm_failed = s->by_result[CW_WARM_FAILED];
	r->warm_expired = s->by_result[CW_WARM_EXPIRED];
	r->warm_done = r->warm_tasks - r->warm_failed - r->warm_expired;
	r->warm_success_rate = r->warm_tasks > 0 ? (double)r->warm_done /
	    (double)r->warm_tasks : NAN;
	latency_of(s->latency, &r->warm_latency);
	free(s);
	return CW_OK;
}

static void
table_latency(struct cw_buf *b, const char *name,
    const struct cw_stats_latency *l)
{
	char m[32], p50[32], p90[32], p99[32], p999[32], mx[32];

	if (l->count == 0) {
		put(b, "%-8s %10s\n", name, "-");
		return;
	}
	put(b, "%-8s %10s %10s %10s %10s %10s %10s\n", name,
	    cw_out_human_ns(m, sizeof(m), l->mean_ns),
	    cw_out_human_ns(p50, sizeof(p50), (double)l->p50_ns),
	    cw_out_human_ns(p90, sizeof(p90), (double)l->p90_ns),
	    cw_out_human_ns(p99, sizeof(p99), (double)l->p99_ns),
	    cw_out_human_ns(p999, sizeof(p999), (double)l->p999_ns),
	    cw_out_human_ns(mx, sizeof(mx), (double)l->max_ns));
}

const char *
cw_eviction_name(enum cw_eviction e)
{
	switch (e) {
	case CW_EVICTION_NARROW:
		return "s3-fifo-narrow";
	case CW_EVICTION_FROZEN:
		return "s3-fifo-frozen";
	case CW_EVICTION_TINYLFU:
		return "tinylfu";
	case CW_EVICTION_S3FIFO:
	case CW_EVICTION_COUNT:
		break;
	}
	return "s3-fifo";
}

/* Local time of a wall-clock instant, for people. */
static const char *
human_time(char *buf, size_t n, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, n, "%lld", (long long)t);
	return buf;
}

/* A level table's rows, and its "all" line. */
static void
table_levels(struct cw_buf *b, const char *title,
    const struct cw_stats_level *level, uint64_t lookups, double hit_rate)
{
	char h1[32];

	put(b, "%-8s %10s %10s %10s %8s %8s %8s\n", title, "requests",
	    "hits", "misses", "hit%", "errors", "timeouts");
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++) {
		const struct cw_stats_level *l = &level[lv];

		put(b, "%-8s %10llu %10llu %10llu %8s %8llu %8llu\n",
		    cw_level_name((enum cw_level)lv),
		    (unsigned long long)l->requests,
		    (unsigned long long)l->hits,
		    (unsigned long long)l->misses,
		    cw_out_pct(h1, sizeof(h1), l->hit_rate),
		    (unsigned long long)l->errors,
		    (unsigned long long)l->timeouts);
	}
	put(b, "%-8s %10llu   served without L3: %s\n", "all",
	    (unsigned long long)lookups, cw_out_pct(h1, sizeof(h1), hit_rate));
}

static void
format_table(const struct cw_stats_report *r, struct cw_buf *b)
{
	char h1[32], h2[32], h3[32], span[32];
	uint64_t warm_requests = 0;

	put(b, "counters since %s (%s)\n", human_time(h1, sizeof(h1),
	    r->reset_ns != 0 ? r->reset_ns : r->created_ns),
	    r->reset_ns != 0 ? "reset" : "file created");
	/* The readers' recent minutes first: what an operator (and the
	 * check) judges; since the counters started after. */
	snprintf(span, sizeof(span), "last %um", r->window_s / 60);
	put(b, "readers' lookups in the %s, then since the counters "
	    "started\n\n", span);
	table_levels(b, span, r->window.level, r->window.lookups,
	    r->window.hit_rate);
	put(b, "\n");
	table_levels(b, "all time", r->level, r->lookups, r->hit_rate);
	put(b, "\n%-8s %10s %10s %10s %10s %10s %10s\n", "latency", "mean",
	    "p50", "p90", "p99", "p99.9", "max");
	table_latency(b, span, &r->window.latency);
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
		table_latency(b, cw_level_name((enum cw_level)lv),
		    &r->level[lv].latency);
	table_latency(b, "all", &r->latency);
	put(b, "(latencies within %.1f%%: histogram buckets; by level since "
	    "the counters started)\n\n", 100 * CW_HIST_REL_ERROR);
	put(b, "throughput  %.1f/s (1m)  %.1f/s (5m)  %.1f/s (15m)\n",
	    r->rate_1m, r->rate_5m, r->rate_15m);
	put(b, "memory      %llu/%llu entries, %s/%s, %.1f%% full\n",
	    (unsigned long long)r->entries, (unsigned long long)r->max_entries,
	    cw_out_human_bytes(h2, sizeof(h2), r->bytes),
	    cw_out_human_bytes(h3, sizeof(h3), r->max_bytes), r->fill_pct);
	put(b, "events      %llu sets, %llu evictions, %llu expirations, "
	    "%llu too big, %llu damaged, %llu repairs, %llu served stale\n",
	    (unsigned long long)r->sets, (unsigned long long)r->evictions,
	    (unsigned long long)r->expirations,
	    (unsigned long long)r->too_big, (unsigned long long)r->damaged,
	    (unsigned long long)r->repairs,
	    (unsigned long long)r->stale_served);
	put(b, "eviction    %s, %llu switches\n", cw_eviction_name(r->eviction),
	    (unsigned long long)r->policy_switches);
	for (unsigned i = 0; i < r->nlargest; i++)
		put(b, "%-11s %s %s\n", i == 0 ? "largest" : "",
		    cw_out_human_bytes(h1, sizeof(h1), r->largest[i].value_bytes),
		    r->largest[i].key);
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
		warm_requests += r->warm_level[lv].requests;
	if (warm_requests > 0) {
		put(b, "warm requests");
		for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
			put(b, "%s %s %llu (%llu hits)", lv ? "," : "",
			    cw_level_name((enum cw_level)lv),
			    (unsigned long long)r->warm_level[lv].requests,
			    (unsigned long long)r->warm_level[lv].hits);
		put(b, ": cw-warm's, not in the figures above\n");
	}
	if (!r->has_warm)
		return;
	put(b, "warming     %llu runs, %llu tasks: %llu done, %llu failed, "
	    "%llu expired, %s success\n", (unsigned long long)r->warm_runs,
	    (unsigned long long)r->warm_tasks,
	    (unsigned long long)r->warm_done,
	    (unsigned long long)r->warm_failed,
	    (unsigned long long)r->warm_expired,
	    cw_out_pct(h1, sizeof(h1), r->warm_success_rate));
	put(b, "%-8s %10s %10s %10s %10s %10s %10s\n", "per task", "mean",
	    "p50", "p90", "p99", "p99.9", "max");
	table_latency(b, "warm", &r->warm_latency);
}

static void
json_num(struct cw_buf *b, const char *name, double v, int last)
{
	if (isnan(v))
		put(b, "\"%s\":null%s", name, last ? "" : ",");
	else
		put(b, "\"%s\":%.6g%s", name, v, last ? "" : ",");
}

static void
json_latency(struct cw_buf *b, const struct cw_stats_latency *l)
{
	/* No data is null for every figure, not a 0 that reads as fast. */
	const char *names[] = { "p50_ns", "p90_ns", "p99_ns", "p999_ns",
	    "max_ns" };
	const int64_t v[] = { l->p50_ns, l->p90_ns, l->p99_ns, l->p999_ns,
	    l->max_ns };

	put(b, "\"latency\":{\"count\":%llu,", (unsigned long long)l->count);
	json_num(b, "mean_ns", l->count ? l->mean_ns : NAN, 0);
	for (int i = 0; i < 5; i++) {
		if (l->count == 0)
			put(b, "\"%s\":null", names[i]);
		else
			put(b, "\"%s\":%lld", names[i], (long long)v[i]);
		put(b, i < 4 ? "," : "}");
	}
}

/* A level's counts and hit rate, without its closing brace. */
static void
json_level(struct cw_buf *b, const struct cw_stats_level *l)
{
	put(b, "{\"requests\":%llu,\"hits\":%llu,\"misses\":%llu,"
	    "\"errors\":%llu,\"timeouts\":%llu,",
	    (unsigned long long)l->requests, (unsigned long long)l->hits,
	    (unsigned long long)l->misses, (unsigned long long)l->errors,
	    (unsigned long long)l->timeouts);
	json_num(b, "hit_rate", l->hit_rate, 1);
}

/* "levels":{...}, each with its latency or not. */
static void
json_levels(struct cw_buf *b, const struct cw_stats_level *level,
    int with_latency)
{
	put(b, "\"levels\":{");
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++) {
		put(b, "%s\"%s\":", lv ? "," : "",
		    cw_level_name((enum cw_level)lv));
		json_level(b, &level[lv]);
		if (with_latency) {
			put(b, ",");
			json_latency(b, &level[lv].latency);
		}
		put(b, "}");
	}
	put(b, "}");
}

static void
format_json(const struct cw_stats_report *r, struct cw_buf *b)
{
	put(b, "{\"created_unix_s\":%.3f,", (double)r->created_ns / 1e9);
	json_num(b, "reset_unix_s", r->reset_ns ? (double)r->reset_ns / 1e9 :
	    NAN, 0);
	put(b, "\"latency_relative_error\":%.6g,", CW_HIST_REL_ERROR);
	json_levels(b, r->level, 1);
	put(b, ",\"overall\":{\"lookups\":%llu,",
	    (unsigned long long)r->lookups);
	json_num(b, "hit_rate", r->hit_rate, 0);
	json_latency(b, &r->latency);
	put(b, "},\"window\":{\"seconds\":%u,", r->window_s);
	json_levels(b, r->window.level, 0);
	put(b, ",\"overall\":{\"lookups\":%llu,",
	    (unsigned long long)r->window.lookups);
	json_num(b, "hit_rate", r->window.hit_rate, 0);
	json_latency(b, &r->window.latency);
	put(b, "}},\"warmer\":{");
	json_levels(b, r->warm_level, 0);
	put(b, "},\"throughput_per_s\":{");
	json_num(b, "1m", r->rate_1m, 0);
	json_num(b, "5m", r->rate_5m, 0);
	json_num(b, "15m", r->rate_15m, 1);
	put(b, "},\"memory\":{\"entries\":%llu,\"max_entries\":%llu,"
	    "\"bytes\":%llu,\"max_bytes\":%llu,",
	    (unsigned long long)r->entries, (unsigned long long)r->max_entries,
	    (unsigned long long)r->bytes, (unsigned long long)r->max_bytes);
	json_num(b, "fill_pct", r->fill_pct, 0);
	put(b, "\"sets\":%llu,\"evictions\":%llu,\"expirations\":%llu,"
	    "\"too_big\":%llu,\"damaged\":%llu,\"repairs\":%llu,"
	    "\"stale_served\":%llu,\"eviction\":\"%s\","
	    "\"policy_switches\":%llu,\"largest\":[",
	    (unsigned long long)r->sets, (unsigned long long)r->evictions,
	    (unsigned long long)r->expirations,
	    (unsigned long long)r->too_big, (unsigned long long)r->damaged,
	    (unsigned long long)r->repairs,
	    (unsigned long long)r->stale_served, cw_eviction_name(r->eviction),
	    (unsigned long long)r->policy_switches);
	for (unsigned i = 0; i < r->nlargest; i++) {
		put(b, "%s{", i ? "," : "");
		cw_out_json_field(b, "key", r->largest[i].key,
		    strlen(r->largest[i].key), NULL);
		put(b, ",\"value_bytes\":%u}", r->largest[i].value_bytes);
	}
	put(b, "]}");
	if (r->has_warm) {
		put(b, ",\"warming\":{\"runs\":%llu,\"tasks\":%llu,"
		    "\"done\":%llu,\"failed\":%llu,\"expired\":%llu,",
		    (unsigned long long)r->warm_runs,
		    (unsigned long long)r->warm_tasks,
		    (unsigned long long)r->warm_done,
		    (unsigned long long)r->warm_failed,
		    (unsigned long long)r->warm_expired);
		json_num(b, "success_rate", r->warm_success_rate, 0);
		json_latency(b, &r->warm_latency);
		put(b, "}");
	}
	put(b, "}\n");
}

/* Prometheus buckets (seconds): 1 us to 10 s, 1-2.5-5 per decade. */
static const double prom_le[] = {
	1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3,
	2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static void
prom_histogram(struct cw_buf *b, const char *level, const uint64_t *counts)
{
	uint64_t cum = 0;
	unsigned bucket = 0;

	for (size_t i = 0; i < sizeof(prom_le) / sizeof(prom_le[0]); i++) {
		/* A histogram bucket counts toward le when its values are
		 * below le (exact to the bucket's 0.8% width). */
		while (bucket < CW_HIST_BUCKETS &&
		    (double)cw_hist_bucket_low(bucket) < prom_le[i] * 1e9)
			cum += counts[bucket++];
		put(b, "cw_lookup_duration_seconds_bucket{level=\"%s\","
		    "le=\"%g\"} %llu\n", level, prom_le[i],
		    (unsigned long long)cum);
	}
	put(b, "cw_lookup_duration_seconds_bucket{level=\"%s\",le=\"+Inf\"} "
	    "%llu\n", level, (unsigned long long)cw_hist_total(counts));
	put(b, "cw_lookup_duration_seconds_sum{level=\"%s\"} %.9g\n", level,
	    cw_hist_sum_ns(counts) / 1e9);
	put(b, "cw_lookup_duration_seconds_count{level=\"%s\"} %llu\n", level,
	    (unsigned long long)cw_hist_total(counts));
}

static void
prom_metric(struct cw_buf *b, const char *name, const char *type,
    const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
format_prom(struct cw_l1 *l1, const struct cw_stats_report *r,
    struct cw_buf *b)
{
	static const char *const results[] = { "hit", "miss", "error",
	    "timeout" };
	struct cw_l1_stats *st = malloc(sizeof(*st));

	prom_metric(b, "cw_up", "gauge",
	    "1 when the L1 file could be read, 0 when not.");
	put(b, "cw_up 1\n");
	prom_metric(b, "cw_counters_reset_timestamp_seconds", "gauge",
	    "When the counters started: the last cw-stats --reset, else the "
	    "file's creation.");
	put(b, "cw_counters_reset_timestamp_seconds %.3f\n",
	    (double)(r->reset_ns != 0 ? r->reset_ns : r->created_ns) / 1e9);
	prom_metric(b, "cw_requests_total", "counter",
	    "Lookups answered or not at each cache level, by whose they "
	    "were: the readers' or cw-warm's.");
	for (int role = 0; role < CW_ROLE_COUNT; role++) {
		const struct cw_stats_level *level = role == CW_ROLE_READER ?
		    r->level : r->warm_level;

		for (int lv = 0; lv < CW_LEVEL_COUNT; lv++) {
			const struct cw_stats_level *l = &level[lv];
			const uint64_t v[] = { l->hits, l->misses, l->errors,
			    l->timeouts };

			for (int k = 0; k < 4; k++)
				put(b, "cw_requests_total{level=\"%s\","
				    "result=\"%s\",role=\"%s\"} %llu\n",
				    cw_level_name((enum cw_level)lv),
				    results[k],
				    cw_role_name((enum cw_role)role),
				    (unsigned long long)v[k]);
		}
	}
	if (st != NULL) {
		cw_l1_stats(l1, 0, st);
		prom_metric(b, "cw_lookup_duration_seconds", "histogram",
		    "Time per reader's lookup at each level, and whole "
		    "(level=\"all\").");
		for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
			prom_histogram(b, cw_level_name((enum cw_level)lv),
			    st->level[lv].latency);
		prom_histogram(b, "all", st->overall);
		free(st);
	}
	prom_metric(b, "cw_l1_entries", "gauge", "Entries in the L1 file.");
	put(b, "cw_l1_entries %llu\n", (unsigned long long)r->entries);
	prom_metric(b, "cw_l1_max_entries", "gauge", "Entry capacity of L1.");
	put(b, "cw_l1_max_entries %llu\n", (unsigned long long)r->max_entries);
	prom_metric(b, "cw_l1_bytes", "gauge", "Bytes of entries in L1.");
	put(b, "cw_l1_bytes %llu\n", (unsigned long long)r->bytes);
	prom_metric(b, "cw_l1_max_bytes", "gauge", "Byte capacity of L1.");
	put(b, "cw_l1_max_bytes %llu\n", (unsigned long long)r->max_bytes);
	prom_metric(b, "cw_l1_events_total", "counter",
	    "L1 events: sets, evictions, expirations, too big, damaged, "
	    "served stale, repairs after a dead writer.");
	put(b, "cw_l1_events_total{event=\"set\"} %llu\n"
	    "cw_l1_events_total{event=\"eviction\"} %llu\n"
	    "cw_l1_events_total{event=\"expiration\"} %llu\n"
	    "cw_l1_events_total{event=\"too_big\"} %llu\n"
	    "cw_l1_events_total{event=\"damaged\"} %llu\n"
	    "cw_l1_events_total{event=\"stale_served\"} %llu\n"
	    "cw_l1_events_total{event=\"repair\"} %llu\n",
	    (unsigned long long)r->sets, (unsigned long long)r->evictions,
	    (unsigned long long)r->expirations,
	    (unsigned long long)r->too_big, (unsigned long long)r->damaged,
	    (unsigned long long)r->stale_served,
	    (unsigned long long)r->repairs);
	prom_metric(b, "cw_l1_eviction_policy", "gauge",
	    "1 for the eviction policy L1 runs now, 0 for the others.");
	for (unsigned e = 0; e < CW_EVICTION_COUNT; e++)
		put(b, "cw_l1_eviction_policy{policy=\"%s\"} %d\n",
		    cw_eviction_name((enum cw_eviction)e),
		    (unsigned)r->eviction == e);
	prom_metric(b, "cw_l1_policy_switches_total", "counter",
	    "Switches between L1's eviction policies.");
	put(b, "cw_l1_policy_switches_total %llu\n",
	    (unsigned long long)r->policy_switches);
	prom_metric(b, "cw_lookups_per_second", "gauge",
	    "Readers' lookups per second over the last whole minutes.");
	put(b, "cw_lookups_per_second{window=\"1m\"} %.6g\n"
	    "cw_lookups_per_second{window=\"5m\"} %.6g\n"
	    "cw_lookups_per_second{window=\"15m\"} %.6g\n",
	    r->rate_1m, r->rate_5m, r->rate_15m);
	if (!r->has_warm)
		return;
	prom_metric(b, "cw_warm_runs_total", "counter",
	    "cw-warm runs in the journal.");
	put(b, "cw_warm_runs_total %llu\n", (unsigned long long)r->warm_runs);
	prom_metric(b, "cw_warm_tasks_total", "counter",
	    "Warming tasks that ended, by how.");
	put(b, "cw_warm_tasks_total{result=\"done\"} %llu\n"
	    "cw_warm_tasks_total{result=\"failed\"} %llu\n"
	    "cw_warm_tasks_total{result=\"expired\"} %llu\n",
	    (unsigned long long)r->warm_done,
	    (unsigned long long)r->warm_failed,
	    (unsigned long long)r->warm_expired);
	prom_metric(b, "cw_warm_task_seconds", "summary",
	    "Time per warming task that fetched.");
	put(b, "cw_warm_task_seconds{quantile=\"0.5\"} %.9f\n"
	    "cw_warm_task_seconds{quantile=\"0.99\"} %.9f\n"
	    "cw_warm_task_seconds_count %llu\n",
	    (double)r->warm_latency.p50_ns / 1e9,
	    (double)r->warm_latency.p99_ns / 1e9,
	    (unsigned long long)r->warm_latency.count);
}

void
cw_stats_prom_down(struct cw_buf *out)
{
	prom_metric(out, "cw_up", "gauge",
	    "1 when the L1 file could be read, 0 when not.");
	put(out, "cw_up 0\n");
}

int
cw_stats_format(struct cw_l1 *l1, const struct cw_stats_report *r,
    enum cw_stats_form form, struct cw_buf *out, struct cw_err *err)
{
	size_t before = out->len;

	switch (form) {
	case CW_STATS_TABLE:
		format_table(r, out);
		break;
	case CW_STATS_JSON:
		format_json(r, out);
		break;
	case CW_STATS_PROM:
		format_prom(l1, r, out);
		break;
	}
	if (out->len == before)
		return cw_err_set(err, CW_ENOMEM, 0, "formatting stats");
	return CW_OK;
}

void
cw_stats_thresholds_default(struct cw_stats_thresholds *t)
{
	t->hit_rate_warning = 0.95;
	t->hit_rate_critical = 0.90;
	t->p99_warning_ms = 50;
	t->p99_critical_ms = 100;
	t->warm_failure_warning_pct = 5;
	t->memory_warning_pct = 85;
}

/* Raise *status to at least level, and say why. */
static void
alarm(int *status, int level, char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void
alarm(int *status, int level, char *why, size_t n, const char *fmt, ...)
{
	size_t at = strlen(why);
	va_list ap;

	if (*status < level)
		*status = level;
	va_start(ap, fmt);
	vsnprintf(why + at, n - at, fmt, ap);
	va_end(ap);
}

int
cw_stats_check(const struct cw_stats_report *r,
    const struct cw_stats_thresholds *t, struct cw_buf *line)
{
	const struct cw_stats_traffic *w = &r->window;
	int status = 0;
	char why[384] = "", rate[64], p99[64];
	double p99_ms = (double)w->latency.p99_ns / 1e6;
	unsigned minutes = r->window_s / 60;

	if (!isnan(w->hit_rate) && w->hit_rate < t->hit_rate_warning)
		alarm(&status, w->hit_rate < t->hit_rate_critical ? 2 : 1, why,
		    sizeof(why), " hit rate %.1f%% < %.1f%% in the last %um;",
		    100 * w->hit_rate, 100 * (w->hit_rate <
		    t->hit_rate_critical ? t->hit_rate_critical :
		    t->hit_rate_warning), minutes);
	if (w->latency.count > 0 && p99_ms > t->p99_warning_ms)
		alarm(&status, p99_ms > t->p99_critical_ms ? 2 : 1, why,
		    sizeof(why), " p99 %.2f ms > %.2f ms in the last %um;",
		    p99_ms, p99_ms > t->p99_critical_ms ? t->p99_critical_ms :
		    t->p99_warning_ms, minutes);
	if (r->fill_pct > t->memory_warning_pct)
		alarm(&status, 1, why, sizeof(why), " L1 %.1f%% full > %.1f%%;",
		    r->fill_pct, t->memory_warning_pct);
	if (r->has_warm && r->warm_tasks > 0 && 100 * (1 -
	    r->warm_success_rate) > t->warm_failure_warning_pct)
		alarm(&status, 1, why, sizeof(why),
		    " warming failures %.1f%% > %.1f%%;",
		    100 * (1 - r->warm_success_rate),
		    t->warm_failure_warning_pct);
	if (why[0] != '\0')
		why[strlen(why) - 1] = '\0';	/* the last ';' */
	else if (w->lookups == 0)
		snprintf(why, sizeof(why), " no lookups in the last %um",
		    minutes);
	else
		snprintf(why, sizeof(why), " all within thresholds");
	/* Perfdata: value[unit];warn;crit, U without data. "95:" is the
	 * plugin range for "alert below 95". The P99 is in microseconds, so
	 * that an L1's sub-microsecond figures show. */
	if (isnan(w->hit_rate))
		snprintf(rate, sizeof(rate), "U");
	else
		snprintf(rate, sizeof(rate), "%.2f%%", 100 * w->hit_rate);
	if (w->latency.count == 0)
		snprintf(p99, sizeof(p99), "U");
	else
		snprintf(p99, sizeof(p99), "%.3fus",
		    (double)w->latency.p99_ns / 1e3);
	put(line, "CACHEWARM %s -%s | hit_rate=%s;%.2f:;%.2f: "
	    "p99=%s;%.0f;%.0f l1_fill=%.1f%%;%.1f lookups=%lluc\n",
	    status == 2 ? "CRITICAL" : status == 1 ? "WARNING" : "OK", why,
	    rate,
	    100 * t->hit_rate_warning, 100 * t->hit_rate_critical, p99,
	    t->p99_warning_ms * 1e3, t->p99_critical_ms * 1e3, r->fill_pct,
	    t->memory_warning_pct, (unsigned long long)r->lookups);
	return status;
}
