/*
 * The predictor's state file: any file is loaded or refused as damaged,
 * and a loaded model can be used. The file proves itself by a checksum,
 * which a fuzzer cannot forge: when the input's first byte is odd, the
 * rest is the file and its checksum is made right first, so the fields
 * behind the checksum are fuzzed too. Where the checksum sits is found
 * once from a file the library saves.
 */
#include "fuzz.h"
#include "predict_int.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* The offset of the checksum in a state file: the 8 bytes that, zeroed,
 * make the file hash to them. */
static size_t
checksum_offset(void)
{
	static size_t at;
	struct cw_predict *m = NULL;
	struct cw_buf f = { 0 };
	const char *path = fuzz_file("seed.state", NULL, 0);
	const char *line = "1704196800,bars:EUR_USD:H1:2024-01-02";
	FILE *fp;
	char buf[4096];
	size_t n;

	if (at != 0)
		return at;
	FUZZ_ASSERT(cw_predict_new(&m, NULL) == CW_OK);
	cw_predict_learn_line(m, line, strlen(line), 0, 0);
	FUZZ_ASSERT(cw_predict_save(m, path, NULL) == CW_OK);
	cw_predict_free(m);
	FUZZ_ASSERT((fp = fopen(path, "rb")) != NULL);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		cw_buf_append(&f, buf, n, NULL);
	fclose(fp);
	for (size_t off = 8; off + 8 <= f.len && at == 0; off += 8) {
		uint64_t was, sum;

		memcpy(&was, f.data + off, 8);
		memset(f.data + off, 0, 8);
		sum = XXH3_64bits(f.data, f.len);
		memcpy(f.data + off, &was, 8);
		if (sum == was)
			at = off;
	}
	FUZZ_ASSERT(at != 0);
	cw_buf_free(&f);
	return at;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = checksum_offset();
	struct cw_predict *m = NULL;
	struct cw_predict_summary sum;
	struct cw_forecast_opts fo = { 0 };
	struct cw_forecast *list = NULL;
	struct cw_buf csv = { 0 };
	uint8_t *file;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	file = malloc(size);
	FUZZ_ASSERT(file != NULL);
	memcpy(file, data + 1, size - 1);
	if ((data[0] & 1) && size - 1 >= at + 8) {
		uint64_t s;

		memset(file + at, 0, 8);
		s = XXH3_64bits(file, size - 1);
		memcpy(file + at, &s, 8);
	}
	rc = cw_predict_load(&m, fuzz_file("fuzz.state", file, size - 1),
	    NULL);
	free(file);
	if (rc != CW_OK) {
		FUZZ_ASSERT(rc == CW_EDATA || rc == CW_ENOMEM);
		return 0;
	}
	cw_predict_summary(m, &sum);
	if (cw_predict_forecast(m, sum.until_s > 0 ? sum.until_s : 0, 3600,
	    &fo, &list, &n, NULL) == CW_OK)
		free(list);
	(void)cw_predict_export(m, &csv, NULL);
	cw_predict_free(m);
	cw_buf_free(&csv);
	return 0;
}
