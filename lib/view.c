/*
 * view: the live view of cw-bench --live, in three parts, as redis-cli's
 * latency mode and git's progress.c are built:
 *
 *   a snapshot   the L1 header's counters and the warming journal's run
 *                in progress, read as any monitor reads them (no lock, no
 *                write: watching costs the lookups nothing);
 *   a model      the figures between two snapshots: pure, so a test can
 *                hand it two snapshots and check every number;
 *   a renderer   chosen once by the caller: a screen repainted in place
 *                for a terminal, or a TSV or JSON line per interval for
 *                a file or a pipe. The screen is only text with escape
 *                codes, so it is tested as text, with no terminal.
 *
 * The interval's figures are the counters' differences turned into
 * figures by cw_stats_derive, the same code as cw-stats', so the two can
 * never define a hit rate or a percentile differently.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cw.h"
#include "out_int.h"
#include "stats_int.h"

int
cw_view_snap(struct cw_l1 *l1, const char *journal, struct cw_clock clock,
    struct cw_view_snap *s, struct cw_err *err)
{
	struct cw_warm_run *run;
	int rc;

	memset(s, 0, sizeof(*s));
	s->at_ns = cw_clock_elapsed_ns(&clock);
	s->wall_s = cw_clock_calendar_ns(&clock) / 1000000000;
	cw_l1_stats(l1, 0, &s->l1);
	if (journal == NULL || journal[0] == '\0')
		return CW_OK;
	if ((run = calloc(1, sizeof(*run))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "journal");
	rc = cw_journal_load_run(journal, NULL, run, err);
	if (rc == CW_ENOTFOUND)
		rc = CW_OK;	/* nothing has warmed yet */
	/* In progress: no end yet, and its process still there (a run
	 * that was killed has no end either). */
	else if (rc == CW_OK && run->end_s < 0 && run->pid > 0 &&
	    kill((pid_t)run->pid, 0) == 0) {
		s->warming = 1;
		snprintf(s->warm_id, sizeof(s->warm_id), "%s", run->id);
		s->warm_total = run->ntasks;
		for (size_t i = 0; i < run->ntasks; i++)
			s->warm_done += run->tasks[i].result >= 0;
	}
	cw_warm_run_free(run);
	free(run);
	return rc;
}

static uint64_t
less(uint64_t b, uint64_t a)
{
	/* A reset between the snapshots: count from zero. */
	return b >= a ? b - a : b;
}

/* b - a, counter by counter, into d; the gauges (entries, bytes) and
 * the window are b's. */
static void
diff(const struct cw_l1_stats *a, const struct cw_l1_stats *b,
    struct cw_l1_stats *d)
{
	*d = *b;
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++) {
		for (int r = 0; r < CW_RESULT_COUNT; r++)
			d->level[lv].results[r] = less(b->level[lv].results[r],
			    a->level[lv].results[r]);
		for (int k = 0; k < CW_HIST_BUCKETS; k++)
			d->level[lv].latency[k] = less(b->level[lv].latency[k],
			    a->level[lv].latency[k]);
	}
	for (int k = 0; k < CW_HIST_BUCKETS; k++)
		d->overall[k] = less(b->overall[k], a->overall[k]);
	for (int role = 0; role < CW_ROLE_COUNT; role++)
		for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
			for (int r = 0; r < CW_RESULT_COUNT; r++)
				d->by_role[role][lv][r] = less(
				    b->by_role[role][lv][r],
				    a->by_role[role][lv][r]);
	d->sets = less(b->sets, a->sets);
	d->evictions = less(b->evictions, a->evictions);
	d->expirations = less(b->expirations, a->expirations);
	d->damaged = less(b->damaged, a->damaged);
	d->too_big = less(b->too_big, a->too_big);
	d->repairs = less(b->repairs, a->repairs);
	d->stale_served = less(b->stale_served, a->stale_served);
}

int
cw_view_delta(const struct cw_view_snap *a, const struct cw_view_snap *b,
    struct cw_view_line *out, struct cw_err *err)
{
	struct cw_l1_stats *d = malloc(sizeof(*d));

	if (d == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "live view");
	diff(&a->l1, &b->l1, d);
	memset(out, 0, sizeof(*out));
	cw_stats_derive(d, &out->r);
	free(d);
	out->wall_s = b->wall_s;
	out->seconds = (double)(b->at_ns - a->at_ns) / 1e9;
	if (out->seconds > 0) {
		out->lookups_per_s = (double)out->r.lookups / out->seconds;
		out->evictions_per_s = (double)out->r.evictions /
		    out->seconds;
	}
	out->warming = b->warming;
	memcpy(out->warm_id, b->warm_id, sizeof(out->warm_id));
	out->warm_done = b->warm_done;
	out->warm_total = b->warm_total;
	return CW_OK;
}

/* ---- rendering ---- */

#define put(b, ...) cw_buf_appendf((b), NULL, __VA_ARGS__)

static void
clock_text(int64_t wall_s, char out[16])
{
	time_t t = (time_t)wall_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%H:%M:%SZ", &tm);
}

static const char *const level_names[CW_LEVEL_COUNT] = { "l1", "l2", "l3" };

/* A level's line on the screen: rate, hit rate, percentiles. */
static void
screen_row(struct cw_buf *b, const char *name, double per_s, double hit_rate,
    const struct cw_stats_latency *lat)
{
	const int64_t q[3] = { lat->p50_ns, lat->p99_ns, lat->p999_ns };
	char x[4][32];

	for (int i = 0; i < 3; i++)
		if (lat->count)
			cw_out_human_ns(x[1 + i], sizeof(x[1 + i]),
			    (double)q[i]);
		else
			strcpy(x[1 + i], "-");
	put(b, "%-5s  %10.1f  %6s  %9s  %9s  %9s\n", name, per_s,
	    cw_out_pct(x[0], sizeof(x[0]), hit_rate), x[1], x[2], x[3]);
}

static void
render_screen(const struct cw_view_line *l, struct cw_buf *b)
{
	const struct cw_stats_report *r = &l->r;
	char when[16], x[4][32];

	clock_text(l->wall_s, when);
	/* Home, clear to the end: the screen repaints in place. */
	put(b, "\033[H\033[J");
	put(b, "cachewarm live  %s  over %.1f s\n\n", when, l->seconds);
	put(b, "lookups/s %10.1f   served without L3 %s   evictions/s %.1f\n\n",
	    l->lookups_per_s, cw_out_pct(x[0], sizeof(x[0]), r->hit_rate),
	    l->evictions_per_s);
	put(b, "level  requests/s    hit%%        p50        p99      "
	    "p99.9\n");
	for (int lv = 0; lv < CW_LEVEL_COUNT; lv++)
		screen_row(b, level_names[lv], l->seconds > 0 ?
		    (double)r->level[lv].requests / l->seconds : 0.0,
		    r->level[lv].hit_rate, &r->level[lv].latency);
	screen_row(b, "all", l->lookups_per_s, r->hit_rate, &r->latency);
	put(b, "\n");
	put(b, "L1     %llu of %llu entries, %s of %s (%.1f%% full)\n",
	    (unsigned long long)r->entries, (unsigned long long)r->max_entries,
	    cw_out_human_bytes(x[0], sizeof(x[0]), r->bytes),
	    cw_out_human_bytes(x[1], sizeof(x[1]), r->max_bytes), r->fill_pct);
	if (l->warming)
		put(b, "warm   %s: %zu of %zu tasks\n", l->warm_id, l->warm_done,
		    l->warm_total);
	else
		put(b, "warm   -\n");
}

/* The figures of a line, in their order; NAN where there is none (no
 * lookups in the interval). TSV and JSON both lay these out, under the
 * same names. */
struct field {
	const char *name;
	double v;
	const char *fmt;
};

#define NFIELDS 11

static void
fields_of(const struct cw_view_line *l, struct field f[NFIELDS])
{
	const struct cw_stats_report *r = &l->r;
	const struct cw_stats_latency *lat = &r->latency;
	double none = NAN;

	f[0] = (struct field){ "lookups_per_s", l->lookups_per_s, "%.1f" };
	f[1] = (struct field){ "l1_hit_rate",
	    r->level[CW_LEVEL_L1].hit_rate, "%.4f" };
	f[2] = (struct field){ "l2_hit_rate",
	    r->level[CW_LEVEL_L2].hit_rate, "%.4f" };
	f[3] = (struct field){ "l3_hit_rate",
	    r->level[CW_LEVEL_L3].hit_rate, "%.4f" };
	f[4] = (struct field){ "overall_hit_rate", r->hit_rate, "%.4f" };
	f[5] = (struct field){ "p50_us", lat->count ?
	    (double)lat->p50_ns / 1e3 : none, "%.1f" };
	f[6] = (struct field){ "p99_us", lat->count ?
	    (double)lat->p99_ns / 1e3 : none, "%.1f" };
	f[7] = (struct field){ "p999_us", lat->count ?
	    (double)lat->p999_ns / 1e3 : none, "%.1f" };
	f[8] = (struct field){ "l1_entries", (double)r->entries, "%.0f" };
	f[9] = (struct field){ "l1_fill_pct", r->fill_pct, "%.1f" };
	f[10] = (struct field){ "evictions_per_s", l->evictions_per_s,
	    "%.1f" };
}

static void
render_tsv(const struct cw_view_line *l, struct cw_buf *b)
{
	struct field f[NFIELDS];
	char when[16];

	fields_of(l, f);
	clock_text(l->wall_s, when);
	put(b, "%s", when);
	for (int i = 0; i < NFIELDS; i++) {
		put(b, "\t");
		if (isnan(f[i].v))
			put(b, "-");
		else
			put(b, f[i].fmt, f[i].v);
	}
	put(b, "\t%s\n", l->warming ? l->warm_id : "-");
}

static void
render_json(const struct cw_view_line *l, struct cw_buf *b)
{
	struct field f[NFIELDS];

	fields_of(l, f);
	put(b, "{\"time\":%lld,\"seconds\":%.3f,\"lookups\":%llu",
	    (long long)l->wall_s, l->seconds,
	    (unsigned long long)l->r.lookups);
	for (int i = 0; i < NFIELDS; i++) {
		put(b, ",\"%s\":", f[i].name);
		if (isnan(f[i].v))
			put(b, "null");
		else
			put(b, f[i].fmt, f[i].v);
	}
	put(b, ",\"warming\":");
	if (l->warming) {
		put(b, "{\"id\":");
		cw_out_json_string(b, l->warm_id, strlen(l->warm_id), NULL);
		put(b, ",\"done\":%zu,\"tasks\":%zu}}\n", l->warm_done,
		    l->warm_total);
	} else {
		put(b, "null}\n");
	}
}

int
cw_view_form_parse(const char *name, enum cw_view_form *out)
{
	static const char *const names[] = { "screen", "tsv", "json" };

	for (int i = 0; i < 3; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum cw_view_form)i;
			return CW_OK;
		}
	return CW_EUSAGE;
}

void
cw_view_header(enum cw_view_form form, struct cw_buf *out)
{
	struct cw_view_line none;
	struct field f[NFIELDS];

	if (form != CW_VIEW_TSV)
		return;
	memset(&none, 0, sizeof(none));
	fields_of(&none, f);
	put(out, "time");
	for (int i = 0; i < NFIELDS; i++)
		put(out, "\t%s", f[i].name);
	put(out, "\twarming\n");
}

void
cw_view_render(const struct cw_view_line *l, enum cw_view_form form,
    struct cw_buf *out)
{
	switch (form) {
	case CW_VIEW_SCREEN:
		render_screen(l, out);
		break;
	case CW_VIEW_TSV:
		render_tsv(l, out);
		break;
	case CW_VIEW_JSON:
		render_json(l, out);
		break;
	}
}
