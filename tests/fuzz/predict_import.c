/* cw-predict's CSV import: any text is imported or refused, and what is
 * imported exports to a CSV that imports to the same model. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_predict *m = NULL, *again = NULL;
	struct cw_buf a = { 0 }, b = { 0 };

	if (cw_predict_import(&m, (const char *)data, size, NULL) != CW_OK)
		return 0;
	FUZZ_ASSERT(cw_predict_export(m, &a, NULL) == CW_OK);
	FUZZ_ASSERT(cw_predict_import(&again, a.data, a.len, NULL) == CW_OK);
	FUZZ_ASSERT(cw_predict_export(again, &b, NULL) == CW_OK);
	FUZZ_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	cw_predict_free(m);
	cw_predict_free(again);
	cw_buf_free(&a);
	cw_buf_free(&b);
	return 0;
}
