/*
 * fault_test: out of memory at every place the library allocates, and a
 * failing system call (a full disk, an I/O error) at every place it calls
 * one, the way SQLite tests itself. The unit-test binary is linked with
 * the allocator and the calls wrapped (tests/fault.h): while a run is
 * armed, the first call of the kind from a call path that has not
 * failed yet fails, and the run is repeated until one goes through
 * without a new path to fail. Each failed run must come back with an
 * error and its message (CW_ENOMEM when memory ran out) or carry on
 * without what it could not have (a count lost, a hint dropped), never
 * crash, and leave the L1 file whole; under make check-asan,
 * LeakSanitizer fails the suite if a failed run leaks what it had
 * allocated before.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "l1_int.h"
#include "../fault.h"

/*
 * Run op (with setup and teardown around each run) with the kinds of
 * faults until a run fails no call. A failed run's result must be CW_OK
 * (it carried on) or an error with a message, CW_ENOMEM for memory.
 * Returns the number of failed runs.
 */
static size_t
each_failure(unsigned kinds, void (*setup)(void *),
    int (*op)(void *, struct cw_err *), void (*teardown)(void *), void *ctx)
{
	size_t failed = 0;

	for (;;) {
		struct cw_err e;
		int rc, fired;

		memset(&e, 0, sizeof(e));
		if (setup != NULL)
			setup(ctx);
		fault_arm(kinds);
		rc = op(ctx, &e);
		fired = fault_disarm();
		if (teardown != NULL)
			teardown(ctx);
		if (!fired) {
			cr_assert_eq(rc, CW_OK, "with every call served: %d %s",
			    rc, e.msg);
			return failed;
		}
		failed++;
		cr_assert(rc == CW_OK || rc == CW_ENOMEM ||
		    kinds != FAULT_ALLOC, "failed run %zu: rc %d (%s), not "
		    "CW_ENOMEM", failed, rc, e.msg);
		cr_assert(rc == CW_OK || e.msg[0] != '\0', "failed run %zu: "
		    "rc %d without a message", failed, rc);
	}
}

/* The built-in configuration, nothing of the machine's read (free it). */
static struct cw_cfg *
default_cfg(void)
{
	struct cw_cfg *cfg = malloc(sizeof(*cfg));

	cr_assert_not_null(cfg);
	setenv("HOME", tenv.dir, 1);
	setenv("XDG_CONFIG_HOME", tenv.dir, 1);
	unsetenv("CW_CONFIG");
	unsetenv("CW_L1_FILE");
	unsetenv("CW_SOURCE");
	unsetenv("CW_REDIS_URL");
	cr_assert_eq(cw_cfg_load(cfg, NULL, NULL), CW_OK);
	return cfg;
}

TestSuite(oom, .init = tmpdir_setup, .fini = tmpdir_teardown,
    .timeout = 120);

/* ---- the configuration ---- */

static int
load_cfg(void *ctx, struct cw_err *err)
{
	struct cw_cfg *cfg = malloc(sizeof(*cfg));
	struct cw_buf out = { 0 };
	int rc;

	if (cfg == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "test");
	if ((rc = cw_cfg_load(cfg, ctx, err)) == CW_OK)
		rc = cw_cfg_format(cfg, &out);
	if (rc != CW_OK && err->msg[0] == '\0')
		cw_err_set(err, rc, 0, "cw_cfg_format");
	cw_buf_free(&out);
	free(cfg);
	return rc;
}

Test(oom, the_configuration)
{
	char p[PATH_MAX];
	FILE *f = fopen(tpath(p, sizeof(p), "cw.conf"), "w");

	cr_assert_not_null(f);
	fputs("[l1]\nmax_entries = 5000\nttl = 10m\n[l2]\n"
	    "url = redis://127.0.0.1:1/2\n[source]\nurl = synthetic:1ms\n"
	    "closed_day_types = ohlc labels\nclosed_day_ttl = 30d\n"
	    "[templates]\nohlc = SELECT {key}\n[warm]\njobs = 3\n", f);
	fclose(f);
	cr_assert_gt(each_failure(FAULT_ALLOC, NULL, load_cfg, NULL, p), 0);
}

/* ---- the replay: trace, levels, fills, warm runs, the predictor ---- */

struct replay_ctx {
	struct cw_cfg *cfg;
	struct cw_trace *t;
	int strategy;
};

static int
replay_once(void *ctx, struct cw_err *err)
{
	struct replay_ctx *c = ctx;
	struct cw_replay_opts o = { 0 };
	struct cw_replay_result r;
	struct cw_buf out = { 0 };
	int rc;

	o.cfg = c->cfg;
	o.dir = tenv.dir;
	o.interval_s = 900;
	o.look_ahead_s = 3600;
	o.budget = 50;
	o.backfill_days = 2;
	memset(&r, 0, sizeof(r));
	if ((rc = cw_replay_run(&o, c->t, c->strategy, &r, err)) == CW_OK)
		rc = cw_replay_format(&r, 1, c->t, 100, 10, 20,
		    CW_FORMAT_JSON, &out, err);
	free(r.hourly);
	cw_buf_free(&out);
	return rc;
}

/* The first max_lines of weeks of cw-bench generate's trace for one
 * instrument at rate reads an hour into path. */
static void
write_workload(const char *path, unsigned weeks, size_t max_lines,
    double rate)
{
	struct cw_workload_opts wo = { .seed = 5, .weeks = weeks,
	    .start_s = 1709510400, .instruments = "EUR_USD",
	    .rate_per_hour = rate };
	struct cw_workload *w;
	struct cw_buf minute = { 0 };
	struct cw_err e;
	size_t lines = 0;
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(cw_workload_open(&w, &wo, &e), CW_OK, "%s", e.msg);
	while (lines < max_lines && cw_workload_next(w, &minute, NULL) ==
	    CW_OK) {
		if (minute.len > 0)
			fwrite(minute.data, 1, minute.len, f);
		for (size_t i = 0; i < minute.len; i++)
			lines += minute.data[i] == '\n';
	}
	cw_workload_close(w);
	cw_buf_free(&minute);
	fclose(f);
}

static void
replay_every_strategy(unsigned kinds)
{
	struct replay_ctx c = { 0 };
	struct cw_err e;
	char p[PATH_MAX];
	size_t failed = 0;

	/* The first reads of the week: a few hours of a session. */
	write_workload(tpath(p, sizeof(p), "trace.csv"), 1, 300, 40);
	cr_assert_eq(cw_trace_load(&c.t, p, &e), CW_OK, "%s", e.msg);

	c.cfg = default_cfg();
	snprintf(c.cfg->source, sizeof(c.cfg->source), "synthetic:0ms");
	c.cfg->log_file[0] = '\0';
	for (c.strategy = 0; c.strategy < CW_STRATEGY_COUNT; c.strategy++)
		failed += each_failure(kinds, NULL, replay_once, NULL, &c);
	cr_log_info("a replay: %zu runs failed a call", failed);
	cr_assert_gt(failed, 0);
	cw_trace_free(c.t);
	free(c.cfg);
}

/* ---- the predictor: learning, its state file, forecasts, backtests ---- */

struct predict_ctx {
	char log[PATH_MAX], state[PATH_MAX];
	char *trace;
	size_t trace_len;
};

static void
predict_setup(void *ctx)
{
	unlink(((struct predict_ctx *)ctx)->state);
}

static int
predict_once(void *ctx, struct cw_err *err)
{
	struct predict_ctx *c = ctx;
	const int64_t now = 1709510400 + 15 * 86400;
	struct cw_predict_counts read;
	struct cw_predict *m = NULL, *copy = NULL;
	struct cw_forecast *list = NULL;
	struct cw_forecast_opts fo = { 0 };
	struct cw_pattern_info pi;
	struct cw_predict_summary sum;
	struct cw_backtest *bt = NULL;
	struct cw_backtest_report rep;
	struct cw_buf out = { 0 };
	size_t n = 0;
	int rc;

	if ((rc = cw_predict_update(c->state, c->log, now, 30 * 86400, 0,
	    &read, err)) != CW_OK ||
	    (rc = cw_predict_load_or_new(&m, c->state, err)) != CW_OK ||
	    (rc = cw_predict_forecast(m, now, 7200, &fo, &list, &n,
	    err)) != CW_OK ||
	    (rc = cw_forecast_format(list, n, CW_FORMAT_JSON, &out,
	    err)) != CW_OK ||
	    ((out.len = 0), (rc = cw_predict_export(m, &out, err)) != CW_OK) ||
	    (rc = cw_predict_import(&copy, out.data, out.len, err)) != CW_OK)
		goto out;
	if (n > 0 && (rc = cw_predict_pattern(m, list[0].key, now, &pi,
	    err)) == CW_OK)
		rc = cw_pattern_format(&pi, CW_FORMAT_JSON, &out, err);
	if (rc != CW_OK)
		goto out;
	cw_predict_summary(m, &sum);
	if ((rc = cw_predict_summary_format(&sum, CW_FORMAT_TSV, &out,
	    err)) != CW_OK ||
	    (rc = cw_backtest_new(&bt, 3600, err)) != CW_OK)
		goto out;
	for (const char *l = c->trace, *end = c->trace + c->trace_len, *nl;
	    l < end && rc == CW_OK; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(end - l));
		rc = cw_backtest_line(bt, l, (size_t)(nl - l));
		if (rc == CW_EDATA)
			rc = CW_OK;
	}
	if (rc == CW_ENOMEM)
		cw_err_set(err, rc, 0, "cw_backtest_line");
	if (rc == CW_OK && (rc = cw_backtest_run(bt, &rep, err)) == CW_OK)
		rc = cw_backtest_format(&rep, CW_FORMAT_JSON, &out, err);
	if (rc == CW_OK)
		rc = cw_predict_keep_backtest(c->state, &rep, err);
out:
	cw_backtest_free(bt);
	free(list);
	cw_predict_free(copy);
	cw_predict_free(m);
	cw_buf_free(&out);
	return rc;
}

static void
the_predictor(unsigned kinds)
{
	struct predict_ctx c;
	struct cw_err e;
	struct cw_buf b = { 0 };
	int fd;
	size_t failed;

	tpath(c.log, sizeof(c.log), "trace.csv");
	tpath(c.state, sizeof(c.state), "model");
	write_workload(c.log, 2, 4000, 20);
	cr_assert((fd = open(c.log, O_RDONLY)) >= 0);
	cr_assert_eq(cw_buf_read_fd(&b, fd, "trace", &e), CW_OK);
	close(fd);
	c.trace = b.data;
	c.trace_len = b.len;
	failed = each_failure(kinds, predict_setup, predict_once, NULL, &c);
	cr_log_info("the predictor: %zu runs failed a call", failed);
	cr_assert_gt(failed, 0);
	cw_buf_free(&b);
}

/* ---- the levels, a warming run and its journal, the figures ---- */

struct levels_ctx {
	struct cw_cfg *cfg;
	char journal[PATH_MAX], state[PATH_MAX];
	int64_t now_ns;
};

static const char *const level_keys[] = {
	"t:I:G:2024-01-01", "t:I:G:2024-01-02", "t:J:G:2024-01-01",
	"t:I:G:2023-01-01", "t:I:H:2024-01-01",
};
#define NLEVEL_KEYS (sizeof(level_keys) / sizeof(level_keys[0]))

static void
levels_setup(void *ctx)
{
	struct levels_ctx *c = ctx;

	unlink(c->cfg->l1_file);
	unlink(c->cfg->log_file);
	unlink(c->journal);
	unlink(c->state);
}

struct journal_ctx {
	struct cw_journal *j;
	struct cw_buf out;
	int rc;
	struct cw_err *err;
};

static void
on_task(void *ctx, const struct cw_warm_task *t)
{
	struct journal_ctx *jc = ctx;

	if (jc->rc == CW_OK)
		jc->rc = cw_journal_task(jc->j, "run1", t->seq, t, jc->err);
	if (jc->rc == CW_OK)
		jc->rc = cw_warm_task_format(t, CW_FORMAT_JSON, &jc->out,
		    jc->err);
}

/* Lookups through the levels, then a warming run over them with its
 * journal: what cw-get and cw-warm do. */
static int
levels_read_and_warm(struct levels_ctx *c, struct cw_err *err)
{
	struct cw_hier_opts ho = { .cfg = c->cfg, .log_access = 1 };
	struct cw_hier_item items[NLEVEL_KEYS];
	struct cw_warm_opts wo = { .cfg = c->cfg, .jobs = 2 };
	struct cw_warm_plan plan = { 0 };
	struct cw_warm_totals tot;
	struct journal_ctx jc = { .err = err };
	struct cw_hier *h = NULL;
	size_t nrecent;
	int rc;

	ho.clock = wo.clock = cw_clock_manual(&c->now_ns);
	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < NLEVEL_KEYS; i++) {
		items[i].key = level_keys[i];
		items[i].klen = strlen(level_keys[i]);
	}
	if ((rc = cw_hier_open(&h, &ho, err)) == CW_OK &&
	    (rc = cw_hier_get_batch(h, items, NLEVEL_KEYS)) == CW_ENOMEM)
		cw_err_set(err, rc, 0, "cw_hier_get_batch");
	for (size_t i = 0; i < NLEVEL_KEYS; i++)
		cw_buf_free(&items[i].val);
	cw_hier_close(h);
	if (rc != CW_OK)
		return rc;
	for (size_t i = 0; i < NLEVEL_KEYS && rc == CW_OK; i++)
		rc = cw_warm_plan_line(&plan, level_keys[i],
		    strlen(level_keys[i]), CW_PRIO_HIGH, i == 0 ?
		    CW_WARM_REFRESH : 0, err);
	if (rc == CW_OK)
		rc = cw_warm_plan_refresh_ahead(&plan, c->cfg, c->now_ns /
		    1000000000, &nrecent, err);
	if (rc == CW_OK) {
		cw_warm_plan_finish(&plan);
		rc = cw_journal_open(&jc.j, c->journal, err);
	}
	if (rc == CW_OK)
		rc = cw_journal_begin(jc.j, "run1", c->now_ns / 1000000000,
		    err);
	for (size_t i = 0; i < plan.n && rc == CW_OK; i++)
		rc = cw_journal_plan(jc.j, "run1", plan.t[i].seq,
		    plan.t[i].prio, plan.t[i].key, plan.t[i].klen, err);
	if (rc == CW_OK) {
		wo.deadline_ns = INT64_MAX;
		wo.on_task = on_task;
		wo.ctx = &jc;
		if ((rc = cw_warm_run(&wo, plan.t, plan.n, &tot, err)) ==
		    CW_OK)
			rc = jc.rc;
	}
	if (rc == CW_OK)
		rc = cw_journal_end(jc.j, "run1", c->now_ns / 1000000000, 0,
		    err);
	cw_journal_close(jc.j);
	cw_warm_plan_free(&plan);
	cw_buf_free(&jc.out);
	return rc;
}

/* What cw-warm --status, cw-stats and cw-warm --check show of them. */
static int
levels_figures(struct levels_ctx *c, struct cw_err *err)
{
	struct cw_l1_opts lo = { .path = c->cfg->l1_file, .read_only = 1,
	    .must_exist = 1 };
	struct cw_warm_run run = { 0 };
	struct cw_journal_summary sum = { 0 };
	struct cw_stats_report *r = calloc(1, sizeof(*r));
	struct cw_predict_counts read;
	struct cw_ready ready;
	struct cw_buf out = { 0 };
	struct cw_l1 *l1 = NULL;
	int rc;

	lo.clock = cw_clock_manual(&c->now_ns);
	if (r == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "test");
	if ((rc = cw_journal_load_run(c->journal, NULL, &run, err)) ==
	    CW_OK &&
	    (rc = cw_warm_run_format(&run, 0, CW_FORMAT_JSON, &out,
	    err)) == CW_OK &&
	    (rc = cw_journal_summary(c->journal, &sum, err)) == CW_OK &&
	    (rc = cw_l1_open(&l1, &lo, err)) == CW_OK &&
	    (rc = cw_stats_collect(l1, 60, r, err)) == CW_OK &&
	    (rc = cw_stats_collect_journal(c->journal, r, err)) == CW_OK)
		for (int form = CW_STATS_TABLE; form <= CW_STATS_PROM &&
		    rc == CW_OK; form++)
			rc = cw_stats_format(l1, r, (enum cw_stats_form)form,
			    &out, err);
	if (rc == CW_OK &&
	    (rc = cw_predict_update(c->state, c->cfg->log_file,
	    c->now_ns / 1000000000 + 7200, 86400, 0, &read, err)) == CW_OK &&
	    (rc = cw_ready_measure(c->cfg, lo.clock, c->state, c->now_ns /
	    1000000000, 3600, &ready, err)) == CW_OK)
		rc = cw_ready_format(&ready, cw_ready_status(&ready, 0.9,
		    0.5), 0.9, 0.5, 3600, CW_FORMAT_JSON, &out, err);
	cw_l1_close(l1);
	cw_warm_run_free(&run);
	free(r);
	cw_buf_free(&out);
	return rc;
}

static int
levels_once(void *ctx, struct cw_err *err)
{
	int rc = levels_read_and_warm(ctx, err);

	return rc == CW_OK ? levels_figures(ctx, err) : rc;
}

/* The L1 file at path is whole, or absent. */
static void
assert_l1_whole(const char *path, int64_t *now_ns)
{
	struct cw_l1_opts lo = { .path = path, .must_exist = 1 };
	struct cw_l1_verify v;
	struct cw_l1 *l1;
	struct cw_err e;

	lo.clock = cw_clock_manual(now_ns);
	if (access(path, F_OK) != 0)
		return;
	cr_assert_eq(cw_l1_open(&l1, &lo, &e), CW_OK, "the L1 file after a "
	    "failed run: %s", e.msg);
	cr_assert_eq(cw_l1_verify(l1, &v, &e), CW_OK, "%s", e.msg);
	cr_assert(v.damaged == 0 && v.bad_rings == 0 && !v.count_mismatch,
	    "the L1 file after a failed run: %llu damaged, %llu bad rings, "
	    "count %s", (unsigned long long)v.damaged,
	    (unsigned long long)v.bad_rings, v.count_mismatch ? "wrong" :
	    "right");
	cw_l1_close(l1);
}

/* After each run, failed or not. */
static void
levels_check(void *ctx)
{
	struct levels_ctx *c = ctx;

	assert_l1_whole(c->cfg->l1_file, &c->now_ns);
}

/* With the CSV files as the source, or with a command (exec:). */
static void
the_levels(unsigned kinds, int exec)
{
	struct levels_ctx c = { .now_ns = 1704153600LL * 1000000000 };
	char p[PATH_MAX];
	size_t failed;
	FILE *f;

	c.cfg = default_cfg();
	tpath(c.cfg->l1_file, sizeof(c.cfg->l1_file), "l1");
	tpath(c.cfg->log_file, sizeof(c.cfg->log_file), "access.log");
	tpath(c.journal, sizeof(c.journal), "warm.journal");
	tpath(c.state, sizeof(c.state), "model");
	mkdir(tpath(p, sizeof(p), "t"), 0700);
	mkdir(tpath(p, sizeof(p), "t/I"), 0700);
	mkdir(tpath(p, sizeof(p), "t/J"), 0700);
	cr_assert_not_null(f = fopen(tpath(p, sizeof(p), "t/I/G.csv"), "w"));
	fputs("ts,v\n2024-01-01T00:00:00Z,one\n2024-01-02T00:00:00Z,two\n",
	    f);
	fclose(f);
	cr_assert_not_null(f = fopen(tpath(p, sizeof(p), "t/J/G.csv"), "w"));
	fputs("ts,v\n2024-01-01T00:00:00Z,three\n", f);
	fclose(f);
	snprintf(c.cfg->source, sizeof(c.cfg->source), "csv:%s", tenv.dir);
	if (exec) {
		cr_assert_not_null(f = fopen(tpath(p, sizeof(p), "source.sh"),
		    "w"));
		fputs("#!/bin/sh\ncase $1 in\n"
		    "t:I:G:2024-01-0[12]|t:J:G:2024-01-01) echo \"v $1\" ;;\n"
		    "*) exit 1 ;;\nesac\n", f);
		fclose(f);
		cr_assert_eq(chmod(p, 0700), 0);
		snprintf(c.cfg->source, sizeof(c.cfg->source),
		    "exec:%s/source.sh", tenv.dir);
	}
	failed = each_failure(kinds, levels_setup, levels_once, levels_check,
	    &c);
	cr_log_info("the levels: %zu runs failed a call", failed);
	cr_assert_gt(failed, 0);
	free(c.cfg);
}

/* ---- the benchmark's other pieces ---- */

struct bench_ctx {
	struct cw_cfg *cfg;
	struct cw_trace *t;
	struct cw_replay_result r;
	char trace[PATH_MAX], plots[PATH_MAX], scratch[PATH_MAX];
	int64_t now_ns;
};

static int
bench_once(void *ctx, struct cw_err *err)
{
	struct bench_ctx *c = ctx;
	struct cw_workload_opts wo = { .seed = 2, .weeks = 1,
	    .start_s = 1709510400, .instruments = "EUR_USD,GBP_USD",
	    .rate_per_hour = 20 };
	struct cw_workload *w = NULL;
	struct cw_trace *t = NULL;
	struct cw_calendar *cal = NULL;
	struct cw_view_snap *a = calloc(1, sizeof(*a)), *b = calloc(1,
	    sizeof(*b));
	struct cw_view_line line;
	struct cw_buf out = { 0 }, truth = { 0 };
	struct cw_l1_opts lo = { .path = c->scratch };
	struct cw_l1 *l1 = NULL;
	char cal_path[CW_CFG_STR];
	uint64_t lru, belady;
	int passed, rc;

	lo.clock = cw_clock_manual(&c->now_ns);
	lo.max_entries = 100;
	lo.max_bytes = 1 << 20;
	lo.mode = 0600;
	if (a == NULL || b == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "test");
		goto out;
	}
	if ((rc = cw_workload_open(&w, &wo, err)) != CW_OK)
		goto out;
	for (int minute = 0; minute < 240 && rc == CW_OK; minute++)
		if ((rc = cw_workload_truth(w, &truth, err)) == CW_OK &&
		    (rc = cw_workload_next(w, &out, err)) == CW_ENOTFOUND)
			rc = CW_OK;
	if (rc != CW_OK ||
	    (rc = cw_trace_load(&t, c->trace, err)) != CW_OK ||
	    (rc = cw_trace_offline(t, 50, &lru, &belady, err)) != CW_OK)
		goto out;
	cw_cfg_warm_path(c->cfg, 'c', cal_path);
	if ((rc = cw_calendar_load(&cal, cal_path, NULL, err)) != CW_OK ||
	    (rc = cw_replay_plot_files(&c->r, 1, cal, c->plots,
	    err)) != CW_OK ||
	    (rc = cw_replay_format(&c->r, 1, t, 50, lru, belady,
	    CW_FORMAT_TSV, &out, err)) != CW_OK ||
	    (rc = cw_quick_run(c->cfg, lo.clock, c->scratch,
	    "labels:EUR_USD:H4:2024-01-02", &out, &passed, err)) != CW_OK ||
	    (rc = cw_l1_open(&l1, &lo, err)) != CW_OK ||
	    (rc = cw_view_snap(l1, NULL, lo.clock, a, err)) != CW_OK ||
	    (rc = cw_view_snap(l1, NULL, lo.clock, b, err)) != CW_OK ||
	    (rc = cw_view_delta(a, b, &line, err)) != CW_OK)
		goto out;
	for (int form = CW_VIEW_SCREEN; form <= CW_VIEW_JSON; form++)
		cw_view_render(&line, (enum cw_view_form)form, &out);
out:
	cw_l1_close(l1);
	unlink(c->scratch);
	cw_calendar_free(cal);
	cw_trace_free(t);
	cw_workload_close(w);
	cw_buf_free(&out);
	cw_buf_free(&truth);
	free(a);
	free(b);
	return rc;
}

static void
the_benchmarks_other_pieces(unsigned kinds)
{
	struct bench_ctx c = { .now_ns = 1709510400LL * 1000000000 };
	struct cw_replay_opts o = { 0 };
	struct cw_err e;
	size_t failed;

	c.cfg = default_cfg();
	snprintf(c.cfg->source, sizeof(c.cfg->source), "synthetic:0ms");
	c.cfg->log_file[0] = '\0';
	tpath(c.cfg->l1_file, sizeof(c.cfg->l1_file), "shared.l1");
	tpath(c.scratch, sizeof(c.scratch), "scratch.l1");
	tpath(c.plots, sizeof(c.plots), "plots");
	cr_assert_eq(mkdir(c.plots, 0700), 0);
	write_workload(tpath(c.trace, sizeof(c.trace), "trace.csv"), 1, 300,
	    20);
	cr_assert_eq(cw_trace_load(&c.t, c.trace, &e), CW_OK, "%s", e.msg);
	o.cfg = c.cfg;
	o.dir = tenv.dir;
	o.interval_s = 900;
	o.look_ahead_s = 3600;
	o.budget = 50;
	cr_assert_eq(cw_replay_run(&o, c.t, CW_STRATEGY_PREDICTIVE, &c.r, &e),
	    CW_OK, "%s", e.msg);
	failed = each_failure(kinds, NULL, bench_once, NULL, &c);
	cr_log_info("the benchmark: %zu runs failed a call", failed);
	cr_assert_gt(failed, 0);
	free(c.r.hourly);
	cw_trace_free(c.t);
	free(c.cfg);
}

/* ---- the L1 file's own life: fills, evictions, resizing ---- */

struct l1_ctx {
	char path[PATH_MAX], hot[PATH_MAX];
	int64_t now_ns;
};

static void
l1_setup(void *ctx)
{
	struct l1_ctx *c = ctx;

	unlink(c->path);
	c->now_ns = 1704067200LL * 1000000000;
}

static void
l1_check(void *ctx)
{
	struct l1_ctx *c = ctx;

	assert_l1_whole(c->path, &c->now_ns);
}

/* The first failure of a batch's stores, as a code and its message. */
static int
stores_failed(const struct cw_l1_write *w, size_t n, struct cw_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (w[i].rc != CW_OK && w[i].rc != CW_ETOOBIG)
			return cw_err_set(err, w[i].rc, 0, "store %zu", i);
	return CW_OK;
}

static int
l1_once(void *ctx, struct cw_err *err)
{
	struct l1_ctx *c = ctx;
	struct cw_l1_opts lo = { .path = c->path, .max_entries = 64,
	    .max_bytes = 64 << 10, .mode = 0600 };
	struct cw_l1_write w[100];
	struct cw_l1_lookup q[100];
	struct cw_buf vals[100], hot = { 0 };
	struct cw_l1_resize_result rr;
	struct cw_l1_stats *st = malloc(sizeof(*st));
	struct cw_l1 *l1 = NULL;
	char keys[100][32], value[300];
	uint64_t reclaimed;
	size_t nhot;
	int rc;

	lo.clock = cw_clock_manual(&c->now_ns);
	memset(vals, 0, sizeof(vals));
	memset(value, 'v', sizeof(value));
	if (st == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "test");
	for (size_t i = 0; i < 100; i++) {
		snprintf(keys[i], sizeof(keys[i]), "t:I:G:2024-01-%02zu",
		    1 + i % 28);
		keys[i][0] = (char)('a' + i / 28);
		w[i] = (struct cw_l1_write){ keys[i], strlen(keys[i]), value,
		    50 + 2 * i, i % 3 ? 60000 : 1000, 0, 0 };
		q[i] = (struct cw_l1_lookup){ .key = keys[i],
		    .klen = strlen(keys[i]), .val = &vals[i] };
	}
	if ((rc = cw_l1_open(&l1, &lo, err)) != CW_OK)
		goto out;
	cw_l1_set_batch(l1, w, 100);	/* past its 64 entries: evictions */
	if ((rc = stores_failed(w, 100, err)) != CW_OK ||
	    (rc = cw_l1_set(l1, keys[99], strlen(keys[99]), value, 10, 60000,
	    0, err)) != CW_OK)
		goto out;
	cw_l1_get_batch(l1, q, 100);
	if ((rc = cw_l1_del(l1, keys[99], strlen(keys[99]), err)) != CW_OK ||
	    (rc = cw_l1_hot_list(l1, 10, &hot, &nhot, err)) != CW_OK)
		goto out;
	c->now_ns += 2000000000LL;	/* a third expire */
	if ((rc = cw_l1_reclaim(l1, &reclaimed, err)) != CW_OK)
		goto out;
	lo.max_entries = 128;
	lo.max_bytes = 128 << 10;
	if ((rc = cw_l1_resize(&lo, &rr, err)) != CW_OK)
		goto out;
	/* The handle follows the resized file on its next operation. */
	cw_l1_set_batch(l1, w, 50);
	if ((rc = stores_failed(w, 50, err)) != CW_OK)
		goto out;
	cw_l1_stats(l1, 60, st);
	rc = cw_l1_stats_reset(l1, err);
out:
	cw_l1_close(l1);
	for (size_t i = 0; i < 100; i++)
		cw_buf_free(&vals[i]);
	cw_buf_free(&hot);
	free(st);
	return rc;
}

static void
the_l1_file(unsigned kinds)
{
	struct l1_ctx c;
	size_t failed;

	tpath(c.path, sizeof(c.path), "l1");
	failed = each_failure(kinds, l1_setup, l1_once, l1_check, &c);
	cr_log_info("the L1 file: %zu runs failed a call", failed);
	cr_assert_gt(failed, 0);
}

/* ---- each piece, with each kind of fault ---- */

Test(oom, a_replay_of_every_strategy)
{
	replay_every_strategy(FAULT_ALLOC);
}

Test(oom, the_predictor)
{
	the_predictor(FAULT_ALLOC);
}

Test(oom, the_levels_a_warming_run_and_the_figures)
{
	the_levels(FAULT_ALLOC, 0);
}

Test(oom, the_same_with_a_command_as_the_source)
{
	the_levels(FAULT_ALLOC, 1);
}

Test(oom, the_benchmarks_other_pieces)
{
	the_benchmarks_other_pieces(FAULT_ALLOC);
}

TestSuite(io, .init = tmpdir_setup, .fini = tmpdir_teardown,
    .timeout = 120);

Test(io, a_replay_of_every_strategy)
{
	replay_every_strategy(FAULT_IO);
}

Test(io, the_predictor)
{
	the_predictor(FAULT_IO);
}

Test(io, the_levels_a_warming_run_and_the_figures)
{
	the_levels(FAULT_IO, 0);
}

Test(io, the_same_with_a_command_as_the_source)
{
	the_levels(FAULT_IO, 1);
}

Test(io, the_benchmarks_other_pieces)
{
	the_benchmarks_other_pieces(FAULT_IO);
}

Test(oom, the_l1_files_fills_evictions_and_resizing)
{
	the_l1_file(FAULT_ALLOC);
}

Test(io, the_l1_files_fills_evictions_and_resizing)
{
	the_l1_file(FAULT_IO);
}
