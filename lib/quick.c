/*
 * quick: cw-bench --quick, a health check of the configured levels that
 * takes seconds.
 *
 * L1's speed is measured on a scratch file of the configured geometry,
 * so the check never puts its own keys into the shared file; L2 gets one
 * store, lookup and removal of a probe key under a prefix of its own;
 * the source one fetch of a real key that fills nothing; the alert
 * thresholds are judged on the shared file's own counters, as cw-stats
 * --check does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"
#include "fill_int.h"
#include "l2_int.h"
#include "hist_int.h"
#include "l1_int.h"

#define QUICK_KEYS 10000
#define QUICK_VALUE_BYTES 100

/* What the checks found. */
struct cw_quick_report {
	double l1_set_ns;	/* mean */
	uint64_t l1_get_hist[CW_HIST_BUCKETS];
	int rc[CW_LEVEL_COUNT];			/* each level's check */
	struct cw_err err[CW_LEVEL_COUNT];
	int64_t level_ns[CW_LEVEL_COUNT];	/* L2's and L3's round trip */
	int has_l2;
	int alert;		/* cw_stats_check's; -1: no shared file */
	char alert_line[512];
};

static int
l1_speed(const struct cw_cfg *cfg, struct cw_clock clock, const char *path,
    struct cw_quick_report *q)
{
	static const char value[QUICK_VALUE_BYTES];
	struct cw_l1_opts lo;
	struct cw_l1 *l1;
	struct cw_buf val = { 0 };
	char key[32];
	/* Half the entries at most, so that none is evicted. */
	unsigned n_keys = cfg->l1_max_entries / 2 < QUICK_KEYS ?
	    (unsigned)(cfg->l1_max_entries / 2) : QUICK_KEYS;
	int64_t t0, t;
	int rc;

	cw_cfg_l1_opts(cfg, clock, &lo);
	lo.path = path;
	if ((rc = cw_l1_open(&l1, &lo, &q->err[CW_LEVEL_L1])) != CW_OK)
		return rc;
	t0 = cw_clock_elapsed_ns(&clock);
	for (unsigned i = 0; i < n_keys && rc == CW_OK; i++) {
		int n = snprintf(key, sizeof(key), "cw-bench:quick:%05u", i);

		rc = cw_l1_set(l1, key, (size_t)n, value, sizeof(value), 60000,
		    0, &q->err[CW_LEVEL_L1]);
	}
	q->l1_set_ns = (double)(cw_clock_elapsed_ns(&clock) - t0) /
	    (n_keys > 0 ? n_keys : 1);
	for (unsigned i = 0; i < n_keys && rc == CW_OK; i++) {
		int n = snprintf(key, sizeof(key), "cw-bench:quick:%05u", i);

		t = cw_clock_elapsed_ns(&clock);
		rc = cw_l1_get(l1, key, (size_t)n, &val, NULL,
		    &q->err[CW_LEVEL_L1]);
		q->l1_get_hist[cw_hist_bucket(cw_clock_elapsed_ns(&clock) -
		    t)]++;
	}
	if (rc == CW_ENOTFOUND)
		rc = cw_err_set(&q->err[CW_LEVEL_L1], CW_EIO, 0, "l1: a key "
		    "just stored is not found");
	cw_buf_free(&val);
	cw_l1_close(l1);
	return rc;
}

static int
l2_probe(struct cw_fill *f, struct cw_clock clock, struct cw_quick_report *q)
{
	struct cw_l2 *l2 = cw_fill_int_l2(f);
	struct cw_buf val = { 0 };
	struct cw_l2_lookup lq = { "probe", 5, &val, 0, 0, 0 };
	struct cw_err *e = &q->err[CW_LEVEL_L2];
	int64_t t0;
	int rc;

	if (l2 == NULL)
		return cw_err_set(e, CW_EUNAVAIL, 0, "l2: down");
	t0 = cw_clock_elapsed_ns(&clock);
	if ((rc = cw_l2_set(l2, "probe", 5, "ok", 2, 60000, 0, NULL, e)) ==
	    CW_OK && (rc = cw_l2_get(l2, &lq, 1, 0, e)) == CW_OK) {
		q->level_ns[CW_LEVEL_L2] = cw_clock_elapsed_ns(&clock) - t0;
		rc = lq.rc == CW_OK && val.len == 2 ? cw_l2_del(l2, "probe", 5,
		    NULL, e) : cw_err_set(e, CW_EIO, 0, "l2: the probe "
		    "stored is not read back");
	}
	cw_buf_free(&val);
	return rc;
}

static int
check(const struct cw_cfg *cfg, struct cw_clock clock, const char *scratch,
    const char *key, struct cw_quick_report *q, struct cw_err *err)
{
	struct cw_cfg *c = malloc(sizeof(*c));
	struct cw_fill_opts fo = { 0 };
	struct cw_fill *f = NULL;
	struct cw_fill_key k = { 0 };
	struct cw_buf val = { 0 };
	struct cw_l1_opts lo;
	struct cw_l1 *shared;
	struct cw_stats_report *r = NULL;
	struct cw_stats_thresholds th;
	struct cw_buf line = { 0 };
	int64_t t0;
	int rc;

	memset(q, 0, sizeof(*q));
	if (c == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "quick");
	q->rc[CW_LEVEL_L1] = l1_speed(cfg, clock, scratch, q);
	/* The levels below, on the scratch L1 file and a probe prefix. */
	*c = *cfg;
	snprintf(c->l1_file, sizeof(c->l1_file), "%s", scratch);
	snprintf(c->l2_prefix, sizeof(c->l2_prefix), "cw-bench:quick:%ld:",
	    (long)getpid());
	c->log_file[0] = '\0';
	fo.cfg = c;
	fo.clock = clock;
	fo.no_fill = 1;
	if ((rc = cw_fill_open(&f, &fo, err)) != CW_OK)
		goto out;
	q->has_l2 = cfg->l2_url[0] != '\0';
	q->rc[CW_LEVEL_L2] = q->has_l2 ? l2_probe(f, clock, q) : CW_OK;
	k.key = key;
	k.klen = strlen(key);
	k.val = &val;
	k.flags = CW_FILL_REFRESH;	/* the source's answer, whatever */
	t0 = cw_clock_elapsed_ns(&clock);
	cw_fill_run(f, &k);
	q->level_ns[CW_LEVEL_L3] = cw_clock_elapsed_ns(&clock) - t0;
	q->rc[CW_LEVEL_L3] = k.rc;
	q->err[CW_LEVEL_L3] = k.err;
	/* The alerts, on the shared file's own counters. */
	q->alert = -1;
	cw_cfg_l1_opts(cfg, clock, &lo);
	lo.must_exist = 1;
	if (cw_l1_open(&shared, &lo, NULL) == CW_OK) {
		if ((r = malloc(sizeof(*r))) != NULL &&
		    cw_stats_collect(shared, 0, r, NULL) == CW_OK) {
			cw_stats_thresholds_default(&th);
			q->alert = cw_stats_check(r, &th, &line);
			snprintf(q->alert_line, sizeof(q->alert_line), "%.*s",
			    (int)strcspn(line.data ? line.data : "", "\n"),
			    line.data ? line.data : "");
		}
		cw_l1_close(shared);
	}
	rc = CW_OK;
out:
	cw_fill_close(f);
	(void)unlink(scratch);
	cw_buf_free(&val);
	cw_buf_free(&line);
	free(r);
	free(c);
	return rc;
}

/* A line per check; the first failure is the verdict. */
static int
report_of(const struct cw_quick_report *q, const char *key,
    struct cw_buf *out, int *passed, struct cw_err *err)
{
	uint64_t gets = cw_hist_total(q->l1_get_hist);
	const char *failed = q->rc[CW_LEVEL_L1] != CW_OK ?
	    q->err[CW_LEVEL_L1].msg : NULL;
	int rc = cw_buf_appendf(out, err, "l1: set %.0f ns, get %.0f ns mean, "
	    "%.0f ns p99 (%llu keys, a scratch file of the configured size)\n",
	    q->l1_set_ns, cw_hist_sum_ns(q->l1_get_hist) / (double)(gets ?
	    gets : 1), (double)cw_hist_quantile(q->l1_get_hist, 0.99),
	    (unsigned long long)gets);

	if (rc == CW_OK && !q->has_l2)
		rc = cw_buf_appendf(out, err, "l2: none configured\n");
	else if (rc == CW_OK && q->rc[CW_LEVEL_L2] == CW_OK)
		rc = cw_buf_appendf(out, err, "l2: a probe stored and read back "
		    "in %.0f us\n", (double)q->level_ns[CW_LEVEL_L2] / 1e3);
	else if (rc == CW_OK) {
		failed = failed != NULL ? failed : q->err[CW_LEVEL_L2].msg;
		rc = cw_buf_appendf(out, err, "l2: %s\n",
		    q->err[CW_LEVEL_L2].msg);
	}
	if (rc == CW_OK && (q->rc[CW_LEVEL_L3] == CW_OK ||
	    q->rc[CW_LEVEL_L3] == CW_ENOTFOUND))
		rc = cw_buf_appendf(out, err, "l3: %s %s in %.1f ms\n", key,
		    q->rc[CW_LEVEL_L3] == CW_OK ? "found" : "not found",
		    (double)q->level_ns[CW_LEVEL_L3] / 1e6);
	else if (rc == CW_OK) {
		failed = failed != NULL ? failed : q->err[CW_LEVEL_L3].msg;
		rc = cw_buf_appendf(out, err, "l3: %s\n",
		    q->err[CW_LEVEL_L3].msg);
	}
	if (rc == CW_OK)
		rc = q->alert < 0 ? cw_buf_appendf(out, err, "alerts: no L1 "
		    "file yet, nothing to judge\n") : cw_buf_appendf(out, err,
		    "alerts: %s\n", q->alert_line);
	if (failed == NULL && q->alert == 2)
		failed = "an alert is CRITICAL";
	*passed = failed == NULL;
	if (rc == CW_OK)
		rc = failed != NULL ? cw_buf_appendf(out, err, "FAIL: %s\n",
		    failed) : cw_buf_appendf(out, err, "PASS\n");
	return rc;
}

int
cw_quick_run(const struct cw_cfg *cfg, struct cw_clock clock,
    const char *scratch, const char *key, struct cw_buf *report,
    int *passed, struct cw_err *err)
{
	struct cw_quick_report *q = malloc(sizeof(*q));
	int rc;

	*passed = 0;
	if (q == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "quick");
	if ((rc = check(cfg, clock, scratch, key, q, err)) == CW_OK)
		rc = report_of(q, key, report, passed, err);
	free(q);
	return rc;
}
