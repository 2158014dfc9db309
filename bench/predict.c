/*
 * bench/predict: how fast cw-predict learns and forecasts.
 *
 *  - learning: 1M+ lines of the synthetic workload through the model,
 *    next to only splitting the same lines (the floor any learner pays);
 *  - forecasting the next hour from the learned model, per 10,000
 *    patterns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cw.h"
#include "timing.h"
#include "cal_int.h"
#include "predict_int.h"

int
main(void)
{
	struct cw_workload_opts wo = { .seed = 1, .weeks = 4,
	    .instruments = "EUR_USD,GBP_USD,USD_JPY,AUD_USD,USD_CAD",
	    .rate_per_hour = 450,
	    .start_s = cw_cal_days_from_civil(2024, 3, 4) * 86400 };
	struct cw_workload *w;
	struct cw_buf trace = { 0 }, minute = { 0 };
	struct cw_predict *m;
	struct cw_predict_summary s;
	struct cw_forecast *list;
	struct cw_forecast_opts all = { 0 };
	size_t lines = 0, n, sink = 0;
	double t0, t1, t2, best = 1e9;
	int64_t end_s = wo.start_s + 4 * 7 * 86400;

	if (cw_workload_open(&w, &wo, NULL) != CW_OK)
		return 1;
	while (cw_workload_next(w, &minute, NULL) == CW_OK)
		cw_buf_append(&trace, minute.data, minute.len, NULL);
	cw_workload_close(w);
	for (size_t i = 0; i < trace.len; i++)
		lines += trace.data[i] == '\n';

	for (int run = 1; run <= 3; run++) {
		const char *p = trace.data, *end = trace.data + trace.len;

		t0 = now_s();
		for (; p < end; p = memchr(p, '\n', (size_t)(end - p)) + 1) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			struct cw_log_line l;

			if (cw_predict_parse_line(p, (size_t)(nl - p), &l) ==
			    CW_OK)
				sink += l.klen;
		}
		t1 = now_s();
		cw_predict_new(&m, NULL);
		p = trace.data;
		for (; p < end; p = memchr(p, '\n', (size_t)(end - p)) + 1) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			cw_predict_learn_line(m, p, (size_t)(nl - p), 0, 0);
		}
		cw_predict_advance(m, end_s);
		t2 = now_s();
		printf("run %d: learned %zu lines in %.3f s (%.2fM lines/s); "
		    "splitting alone %.3f s (%.1fx)\n", run, lines, t2 - t1,
		    lines / (t2 - t1) / 1e6, t1 - t0, (t2 - t1) / (t1 - t0));
		if (run < 3)
			cw_predict_free(m);
	}
	cw_predict_summary(m, &s);
	for (int run = 1; run <= 5; run++) {
		t0 = now_s();
		cw_predict_forecast(m, end_s + 13 * 3600, 3600, &all, &list,
		    &n, NULL);
		t1 = now_s();
		free(list);
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	printf("forecast of the next hour: %llu patterns in %.1f ms (best of "
	    "5), %.1f ms per 10,000 patterns, %zu keys\n",
	    (unsigned long long)s.patterns, best * 1e3,
	    best * 1e3 * 10000 / (double)s.patterns, n);
	cw_predict_free(m);
	cw_buf_free(&trace);
	cw_buf_free(&minute);
	return sink == 0;
}
