/*
 * warm_out: cw-warm's outputs, TSV or JSON: a task as it ends, and a run
 * as the journal tells it (--status). Formatted here, as cw-stats' and
 * cw-predict's are in stats.c and predict_out.c, so the program is
 * options and I/O.
 */
#include <string.h>

#include "cw.h"
#include "out_int.h"
#include "warm_int.h"

int
cw_warm_task_format(const struct cw_warm_task *t, enum cw_format fmt,
    struct cw_buf *b, struct cw_err *err)
{
	double ms = (double)t->elapsed_ns / 1e6;
	const char *error = t->result == CW_WARM_FAILED ||
	    t->result == CW_WARM_EXPIRED ? t->err.msg : "";
	int rc;

	if (fmt == CW_FORMAT_JSON) {
		if ((rc = cw_buf_append(b, "{", 1, err)) != CW_OK ||
		    (rc = cw_out_json_field(b, "key", t->key, t->klen, err)) !=
		    CW_OK || (rc = cw_buf_appendf(b, err, ",\"result\":\"%s\","
		    "\"filled\":\"%s\",\"ms\":%.3f,\"priority\":\"%s\","
		    "\"tries\":%u,\"error\":", cw_warm_result_name(t->result),
		    t->filled, ms, cw_prio_name(t->prio), t->tries)) !=
		    CW_OK ||
		    (rc = cw_out_json_string(b, error, strlen(error), err)) !=
		    CW_OK)
			return rc;
		return cw_buf_append(b, "}\n", 2, err);
	}
	if ((rc = cw_out_tsv_escape(b, t->key, t->klen, err)) != CW_OK ||
	    (rc = cw_buf_appendf(b, err, "\t%s\t%s\t%.3f\t",
	    cw_warm_result_name(t->result), t->filled, ms)) != CW_OK ||
	    (rc = cw_out_tsv_escape(b, error, strlen(error), err)) != CW_OK)
		return rc;
	return cw_buf_append(b, "\n", 1, err);
}

/* The figures of a run: a name and a number each. */
static void
counts(const struct cw_warm_run *run, size_t count[CW_WARM_RESULTS],
    size_t *pending)
{
	memset(count, 0, CW_WARM_RESULTS * sizeof(*count));
	*pending = 0;
	for (size_t i = 0; i < run->ntasks; i++)
		if (run->tasks[i].result >= 0)
			count[run->tasks[i].result]++;
		else
			(*pending)++;
}

int
cw_warm_run_format(const struct cw_warm_run *run, int running,
    enum cw_format fmt, struct cw_buf *b, struct cw_err *err)
{
	size_t count[CW_WARM_RESULTS], pending;
	char t1[CW_CAL_UTC_LEN], t2[CW_CAL_UTC_LEN];
	const char *state = run->end_s >= 0 ? "finished" : running ?
	    "running" : "interrupted";
	int json = fmt == CW_FORMAT_JSON, rc = CW_OK;

	counts(run, count, &pending);
	cw_cal_format_utc(run->start_s, t1);
	cw_cal_format_utc(run->end_s, t2);
	if (json)
		rc = cw_buf_appendf(b, err, "{\"run\":\"%s\",\"state\":\"%s\","
		    "\"started\":\"%s\",\"ended\":%s%s%s,\"status\":%d,"
		    "\"resumed\":%u,\"tasks\":%zu", run->id, state, t1,
		    run->end_s >= 0 ? "\"" : "", run->end_s >= 0 ? t2 : "null",
		    run->end_s >= 0 ? "\"" : "", run->status, run->resumed,
		    run->ntasks);
	else
		rc = cw_buf_appendf(b, err, "run\t%s\nstate\t%s\nstarted\t%s\n"
		    "ended\t%s\nstatus\t%d\nresumed\t%u\ntasks\t%zu\n", run->id,
		    state, t1, t2, run->status, run->resumed, run->ntasks);
	for (int r = 0; rc == CW_OK && r < CW_WARM_RESULTS; r++)
		rc = cw_buf_appendf(b, err, json ? ",\"%s\":%zu" : "%s\t%zu\n",
		    cw_warm_result_name(r), count[r]);
	if (rc == CW_OK)
		rc = cw_buf_appendf(b, err, json ? ",\"pending\":%zu,"
		    "\"keys\":[" : "pending\t%zu\n", pending);
	for (size_t i = 0; rc == CW_OK && i < run->ntasks; i++) {
		const struct cw_warm_run_task *t = &run->tasks[i];
		const char *filled = t->result >= 0 ? t->filled : "-";

		if (json) {
			if ((rc = cw_buf_appendf(b, err, "%s{",
			    i ? "," : "")) != CW_OK ||
			    (rc = cw_out_json_field(b, "key", t->key,
			    strlen(t->key), err)) != CW_OK ||
			    (rc = cw_buf_appendf(b, err, ",\"priority\":\"%s\","
			    "\"result\":\"%s\",\"filled\":\"%s\",\"ms\":%.3f,"
			    "\"error\":", cw_prio_name(t->prio),
			    cw_warm_result_name(t->result), filled, t->ms)) !=
			    CW_OK ||
			    (rc = cw_out_json_string(b, t->error,
			    strlen(t->error), err)) != CW_OK)
				break;
			rc = cw_buf_append(b, "}", 1, err);
			continue;
		}
		if ((rc = cw_buf_append(b, "key\t", 4, err)) != CW_OK ||
		    (rc = cw_out_tsv_escape(b, t->key, strlen(t->key), err)) !=
		    CW_OK || (rc = cw_buf_appendf(b, err, "\t%s\t%s\t%s\t%.3f\t",
		    cw_prio_name(t->prio), cw_warm_result_name(t->result),
		    filled, t->ms)) != CW_OK ||
		    (rc = cw_out_tsv_escape(b, t->error, strlen(t->error),
		    err)) != CW_OK)
			break;
		rc = cw_buf_append(b, "\n", 1, err);
	}
	if (rc == CW_OK && json)
		rc = cw_buf_append(b, "]}\n", 3, err);
	return rc;
}
