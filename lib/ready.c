/*
 * ready: how warm the cache is for what is about to be read.
 *
 * "Is the cache ready for the London open?" is answered with the saved
 * model's forecast of the window: each key comes with its expected
 * reads, and the levels say, at this moment, which keys are resident and
 * unexpired (the same look cw-warm takes before it warms, through the
 * fill module). Coverage is the share of expected reads, not of keys: a
 * key read forty times matters forty times as much as one read once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "fill_int.h"
#include "out_int.h"
#include "predict_int.h"

int
cw_ready_measure(const struct cw_cfg *cfg, struct cw_clock clock,
    const char *state, int64_t at_s, int64_t look_ahead_s,
    struct cw_ready *out, struct cw_err *err)
{
	struct cw_forecast_opts fopts = { 0, 0, 0 };	/* every key */
	struct cw_fill_opts fo = { .cfg = cfg, .clock = clock };
	struct cw_forecast *list = NULL;
	struct cw_fill_fresh *q = NULL;
	struct cw_predict *m;
	struct cw_fill *f = NULL;
	double in_l1 = 0, in_l2 = 0, in_any = 0;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cw_predict_load(&m, state, err)) == CW_ENOTFOUND &&
	    err != NULL) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n,
		    "; cw-predict --learn makes it");
	}
	if (rc != CW_OK)
		return rc;
	cw_predict_advance(m, at_s);
	rc = cw_predict_forecast(m, at_s, look_ahead_s, &fopts, &list, &n,
	    err);
	cw_predict_free(m);
	if (rc != CW_OK)
		return rc;
	if (n > 0 && ((q = calloc(n, sizeof(*q))) == NULL)) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "readiness");
		goto out;
	}
	if ((rc = cw_fill_open(&f, &fo, err)) != CW_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		q[i].key = list[i].key;
		q[i].klen = strlen(list[i].key);
	}
	cw_fill_freshness(f, q, n);
	for (size_t i = 0; i < n; i++) {
		double e = list[i].expected;

		out->expected += e;
		in_l1 += q[i].l1_left > 0 ? e : 0;
		in_l2 += q[i].l2_left > 0 ? e : 0;
		in_any += q[i].l1_left > 0 || q[i].l2_left > 0 ? e : 0;
		out->has_l2 |= q[i].has_l2;
	}
	out->keys = n;
	if (out->expected > 0) {
		out->l1 = in_l1 / out->expected;
		out->l2 = in_l2 / out->expected;
		out->warm = in_any / out->expected;
	}
out:
	cw_fill_close(f);
	free(q);
	free(list);
	return rc;
}

int
cw_ready_format_unknown(const char *why, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err)
{
	int rc;

	if (fmt != CW_FORMAT_JSON)
		return cw_buf_appendf(out, err, "CACHEWARM READY UNKNOWN - "
		    "%s\n", why);
	if ((rc = cw_buf_appendf(out, err, "{\"status\":\"UNKNOWN\","
	    "\"error\":")) != CW_OK || (rc = cw_out_json_string(out, why,
	    strlen(why), err)) != CW_OK)
		return rc;
	return cw_buf_appendf(out, err, "}\n");
}

int
cw_ready_status(const struct cw_ready *r, double warn, double crit)
{
	if (r->keys == 0 || !(r->expected > 0))
		return 3;
	return r->warm < crit ? 2 : r->warm < warn ? 1 : 0;
}

int
cw_ready_format(const struct cw_ready *r, int status, double warn,
    double crit, int64_t look_ahead_s, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL",
		"UNKNOWN" };
	const char *name = names[status >= 0 && status <= 3 ? status : 3];
	char l2[32] = "none", l2_perf[32] = "U";

	if (fmt == CW_FORMAT_JSON)
		return cw_buf_appendf(out, err, "{\"status\":\"%s\","
		    "\"look_ahead_s\":%lld,\"keys\":%zu,\"expected_reads\":%.3f,"
		    "\"warm\":%.4f,\"l1\":%.4f,\"l2\":%.4f,\"has_l2\":%s,"
		    "\"warn_coverage\":%.4f,\"min_coverage\":%.4f}\n", name,
		    (long long)look_ahead_s, r->keys, r->expected, r->warm,
		    r->l1, r->l2, r->has_l2 ? "true" : "false", warn, crit);
	if (status == 3)
		return cw_buf_appendf(out, err, "CACHEWARM READY UNKNOWN - no "
		    "reads forecast in the next %llds | coverage=U l1=U l2=U "
		    "keys=0 expected_reads=0\n", (long long)look_ahead_s);
	if (r->has_l2) {
		snprintf(l2, sizeof(l2), "%.1f%%", 100 * r->l2);
		snprintf(l2_perf, sizeof(l2_perf), "%.1f%%;;;0;100", 100 * r->l2);
	}
	return cw_buf_appendf(out, err, "CACHEWARM READY %s - %.1f%% of the "
	    "next %llds's forecast reads are warm (L1 %.1f%%, L2 %s) | "
	    "coverage=%.1f%%;%.1f:;%.1f:;0;100 l1=%.1f%%;;;0;100 l2=%s "
	    "keys=%zu expected_reads=%.3f\n", name, 100 * r->warm,
	    (long long)look_ahead_s, 100 * r->l1, l2, 100 * r->warm,
	    100 * warn, 100 * crit, 100 * r->l1, l2_perf, r->keys,
	    r->expected);
}
