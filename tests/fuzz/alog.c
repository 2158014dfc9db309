/* The access-log reader and what is learned from it: any log is read to
 * its end, every line is counted once, and the model it makes forecasts,
 * saves and loads back the same. */
#include "fuzz.h"
#include "predict_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_predict *m = NULL, *again = NULL;
	struct cw_predict_counts got;
	struct cw_predict_summary sum;
	struct cw_forecast_opts fo = { 0 };
	struct cw_forecast *list = NULL;
	struct cw_buf a = { 0 }, b = { 0 };
	const char *log = fuzz_file("access.log", data, size);
	char state[4200];
	uint64_t skipped;
	size_t n;

	FUZZ_ASSERT(cw_predict_new(&m, NULL) == CW_OK);
	if (cw_predict_catch_up(m, log, 0, 0, 1, &got, NULL) != CW_OK)
		goto done;
	/* Every line is skipped once or learned; a learned line stands for
	 * 1 to CW_ALOG_MAX_COUNT reads (its count field). */
	skipped = got.malformed + got.future + got.old + got.late;
	FUZZ_ASSERT(skipped <= got.lines);
	FUZZ_ASSERT(got.learned >= got.lines - skipped);
	FUZZ_ASSERT(got.learned <= (got.lines - skipped) * CW_ALOG_MAX_COUNT);
	cw_predict_summary(m, &sum);
	if (sum.until_s > 0) {
		cw_predict_advance(m, sum.until_s + 7200);
		FUZZ_ASSERT(cw_predict_forecast(m, sum.until_s, 3600, &fo,
		    &list, &n, NULL) == CW_OK);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(list[i].probability >= 0 &&
			    list[i].probability <= 1);
		free(list);
	}
	snprintf(state, sizeof(state), "%s.state", log);
	FUZZ_ASSERT(cw_predict_save(m, state, NULL) == CW_OK);
	FUZZ_ASSERT(cw_predict_load(&again, state, NULL) == CW_OK);
	FUZZ_ASSERT(cw_predict_export(m, &a, NULL) == CW_OK);
	FUZZ_ASSERT(cw_predict_export(again, &b, NULL) == CW_OK);
	FUZZ_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
done:
	cw_predict_free(m);
	cw_predict_free(again);
	cw_buf_free(&a);
	cw_buf_free(&b);
	return 0;
}
