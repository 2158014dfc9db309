/*
 * predict_out: what cw-predict prints, as TSV for scripts and people or
 * as JSON, appended to a buffer (as lib/stats.c does for cw-stats), so
 * that the program is options and I/O only.
 */
#include <string.h>

#include "cw.h"
#include "cal_int.h"
#include "out_int.h"
#include "predict_int.h"

/* Append to out while nothing has failed; rc keeps the first failure
 * (running out of memory is the only one). */
#define ADD(...)							\
	do {								\
		if (rc == CW_OK)					\
			rc = cw_buf_appendf(out, err, __VA_ARGS__);	\
	} while (0)

static int
add_json_string(struct cw_buf *out, const char *s, struct cw_err *err)
{
	return cw_out_json_string(out, s, strlen(s), err);
}

int
cw_forecast_format(const struct cw_forecast *list, size_t n,
    enum cw_format fmt, struct cw_buf *out, struct cw_err *err)
{
	int rc = CW_OK;

	for (size_t i = 0; i < n && rc == CW_OK; i++) {
		const struct cw_forecast *f = &list[i];

		if (fmt == CW_FORMAT_JSON) {
			ADD("{");
			if (rc == CW_OK)
				rc = cw_out_json_field(out, "key", f->key,
				    strlen(f->key), err);
			ADD(",\"expected\":%.4f,\"probability\":%.4f,"
			    "\"priority\":\"%s\",\"reason\":\"%s\","
			    "\"confidence\":%.3f}\n", f->expected,
			    f->probability, f->priority, f->reason,
			    f->confidence);
		} else {
			ADD("%s\t%.3f\t%.3f\t%s\t%s\n", f->key, f->expected,
			    f->probability, f->priority, f->reason);
		}
	}
	return rc;
}

int
cw_pattern_format(const struct cw_pattern_info *pi, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err)
{
	char when[CW_CAL_UTC_LEN];
	int rc = CW_OK;

	cw_cal_format_utc(pi->last_read_s, when);
	if (fmt == CW_FORMAT_JSON) {
		ADD("{\"pattern\":");
		if (rc == CW_OK)
			rc = add_json_string(out, pi->name, err);
		ADD(",\"frame\":\"%s\",\"confidence\":%.3f,"
		    "\"per_day\":%.3f,\"last_read\":\"%s\",\"peak_hours\":"
		    "[%d,%d,%d],\"sessions\":{", pi->frame, pi->confidence,
		    pi->per_day, when, pi->peak[0], pi->peak[1], pi->peak[2]);
		for (unsigned s = 0; s < CW_SESSION_COUNT; s++)
			ADD("%s\"%s\":%.3f", s ? "," : "",
			    cw_cal_session_get(s)->name, pi->session_share[s]);
		ADD("},\"per_hour\":[");
		for (int h = 0; h < 24; h++)
			ADD("%s%.4f", h ? "," : "", pi->per_hour[h]);
		ADD("]}\n");
		return rc;
	}
	ADD("pattern\t%s\nframe\t%s\nconfidence\t%.3f\nper_day\t%.3f\n"
	    "last_read\t%s\npeak_hours_utc\t%02d %02d %02d\n", pi->name,
	    pi->frame, pi->confidence, pi->per_day, when, pi->peak[0],
	    pi->peak[1], pi->peak[2]);
	for (unsigned s = 0; s < CW_SESSION_COUNT; s++)
		ADD("session_%s\t%.3f\n", cw_cal_session_get(s)->name,
		    pi->session_share[s]);
	for (int h = 0; h < 24; h++)
		ADD("hour_%02d\t%.4f\n", h, pi->per_hour[h]);
	return rc;
}

/* How far the model is from the best possible: coverage it lacks, and
 * Brier it has above the truth's. */
static double
gap_coverage(const struct cw_backtest_report *r)
{
	return r->method[CW_BT_TRUTH].coverage - r->method[CW_BT_MODEL].coverage;
}

static double
gap_brier(const struct cw_backtest_report *r)
{
	return r->method[CW_BT_MODEL].brier - r->method[CW_BT_TRUTH].brier;
}

int
cw_backtest_format(const struct cw_backtest_report *r, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err)
{
	char from[CW_CAL_UTC_LEN], to[CW_CAL_UTC_LEN];
	int rc = CW_OK;

	cw_cal_format_utc(r->first_s, from);
	cw_cal_format_utc(r->last_s, to);
	if (fmt == CW_FORMAT_JSON) {
		ADD("{\"window_s\":%lld,\"hours\":%llu,\"reads\":%llu,"
		    "\"from\":\"%s\",\"to\":\"%s\"", (long long)r->window_s,
		    (unsigned long long)r->hours,
		    (unsigned long long)r->reads, from, to);
		for (unsigned i = 0; i < CW_BT_COUNT; i++) {
			const struct cw_backtest_scores *s = &r->method[i];

			if (i == CW_BT_TRUTH && !r->has_truth)
				continue;
			ADD(",\"%s\":{\"coverage\":%.4f,\"brier\":%.5f",
			    cw_backtest_method_name(i), s->coverage, s->brier);
			for (int f = 0; f < 2; f++)
				ADD(",\"precision_%s\":%.4f,\"recall_%s\":%.4f,"
				    "\"f1_%s\":%.4f", f ? "0.7" : "0.5",
				    s->precision[f], f ? "0.7" : "0.5",
				    s->recall[f], f ? "0.7" : "0.5", s->f1[f]);
			ADD("}");
		}
		if (r->has_truth)
			ADD(",\"gap_to_truth\":{\"coverage\":%.4f,"
			    "\"brier\":%.5f}", gap_coverage(r), gap_brier(r));
		ADD("}");
		return rc;
	}
	ADD("# %llu hours, %llu reads, %s to %s, window %llds\n",
	    (unsigned long long)r->hours, (unsigned long long)r->reads, from,
	    to, (long long)r->window_s);
	ADD("forecaster\tcoverage\tbrier\tprecision@0.5\trecall@0.5\t"
	    "f1@0.5\tprecision@0.7\trecall@0.7\tf1@0.7\n");
	for (unsigned i = 0; i < CW_BT_COUNT; i++) {
		const struct cw_backtest_scores *s = &r->method[i];

		if (i == CW_BT_TRUTH && !r->has_truth)
			continue;
		ADD("%s\t%.4f\t%.5f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n",
		    cw_backtest_method_name(i), s->coverage, s->brier,
		    s->precision[0], s->recall[0], s->f1[0], s->precision[1],
		    s->recall[1], s->f1[1]);
	}
	if (r->has_truth)
		ADD("# the model's gap to the truth: coverage %.4f, "
		    "Brier %+.5f\n", gap_coverage(r), gap_brier(r));
	return rc;
}

int
cw_predict_summary_format(const struct cw_predict_summary *s,
    enum cw_format fmt, struct cw_buf *out, struct cw_err *err)
{
	char from[CW_CAL_UTC_LEN], to[CW_CAL_UTC_LEN];
	int json = fmt == CW_FORMAT_JSON, rc = CW_OK;
	/* One list of figures, named alike in both formats. */
	const struct {
		const char *name;
		unsigned long long n;
	} counts[] = {
		{ "patterns", s->patterns },
		{ "lines", s->counts.lines },
		{ "learned", s->counts.learned },
		{ "malformed", s->counts.malformed },
		{ "future", s->counts.future },
		{ "old", s->counts.old },
		{ "late", s->counts.late },
	};

	cw_cal_format_utc(s->first_s, from);
	cw_cal_format_utc(s->until_s, to);
	if (json)
		ADD("{\"from\":\"%s\",\"until\":\"%s\"", from, to);
	else
		ADD("learned_from\t%s\nlearned_until\t%s\n", from, to);
	for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++)
		ADD(json ? ",\"%s\":%llu" : "%s\t%llu\n", counts[i].name,
		    counts[i].n);
	ADD(json ? ",\"level\":%.3f,\"backtest\":" : "level\t%.3f\n",
	    s->level);
	if (rc == CW_OK && s->has_backtest)
		rc = cw_backtest_format(&s->backtest, fmt, out, err);
	else if (json)
		ADD("null");
	else
		ADD("# no backtest yet: cw-predict backtest TRACE\n");
	if (json)
		ADD("}\n");
	return rc;
}
