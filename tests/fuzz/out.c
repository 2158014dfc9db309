/* TSV and JSON output: any bytes escape into a field that decodes back
 * to them, and into a JSON string or record with no raw control byte. */
#include "fuzz.h"
#include "out_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_buf tsv = { 0 }, back = { 0 }, json = { 0 }, rec = { 0 };
	size_t half = size / 2;

	FUZZ_ASSERT(cw_out_tsv_escape(&tsv, data, size, NULL) == CW_OK);
	FUZZ_ASSERT(tsv.len == 0 || (memchr(tsv.data, '\t', tsv.len) == NULL &&
	    memchr(tsv.data, '\n', tsv.len) == NULL));
	FUZZ_ASSERT(cw_out_tsv_unescape(&back, tsv.data, tsv.len, NULL) ==
	    CW_OK);
	FUZZ_ASSERT(back.len == size &&
	    (size == 0 || memcmp(back.data, data, size) == 0));
	/* The unescaper takes what the fuzzer makes too. */
	back.len = 0;
	(void)cw_out_tsv_unescape(&back, (const char *)data, size, NULL);
	if (cw_out_is_utf8(data, size)) {
		FUZZ_ASSERT(cw_out_json_string(&json, data, size, NULL) ==
		    CW_OK);
		for (size_t i = 0; i < json.len; i++)
			FUZZ_ASSERT((unsigned char)json.data[i] >= 0x20);
	}
	/* A record: the first half is the key, the rest the value. */
	FUZZ_ASSERT(cw_out_record(&rec, CW_FORMAT_JSON, (const char *)data,
	    half, data + half, size - half, NULL) == CW_OK ||
	    !cw_out_is_utf8(data, half));
	for (size_t i = 0; i + 1 < rec.len; i++)
		FUZZ_ASSERT((unsigned char)rec.data[i] >= 0x20);
	rec.len = 0;
	FUZZ_ASSERT(cw_out_record(&rec, CW_FORMAT_TSV, (const char *)data,
	    half, data + half, size - half, NULL) == CW_OK);
	cw_buf_free(&tsv);
	cw_buf_free(&back);
	cw_buf_free(&json);
	cw_buf_free(&rec);
	return 0;
}
