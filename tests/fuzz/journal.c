/*
 * cw-warm's journal: any file is read to its end or its torn tail, and
 * what the runs and the summary make of it holds together. Records prove
 * themselves by a hash a fuzzer cannot forge: when the input's first
 * byte is odd, each line of the rest is given its right hash first, so
 * the fields are fuzzed too.
 */
#include "fuzz.h"
#include "journal_int.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static int
count_record(void *ctx, const char *const *fields, const size_t *lens,
    size_t n)
{
	FUZZ_ASSERT(n > 0);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(strlen(fields[i]) <= lens[i]);
	(*(size_t *)ctx)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_buf file = { 0 };
	struct cw_journal_counts c;
	struct cw_journal_summary sum;
	struct cw_warm_run run;
	const char *path;
	size_t records = 0;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		const char *s = (const char *)data + 1, *end = s + size - 1;

		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t len = (size_t)((nl != NULL ? nl : end) - s);
			char hex[20];

			snprintf(hex, sizeof(hex), "%016llx ",
			    (unsigned long long)XXH3_64bits(s, len));
			cw_buf_append(&file, hex, 17, NULL);
			cw_buf_append(&file, s, len, NULL);
			if (nl != NULL)
				cw_buf_append(&file, "\n", 1, NULL);
			s += len + 1;
		}
	} else {
		cw_buf_append(&file, data + 1, size - 1, NULL);
	}
	path = fuzz_file("warm.journal", (const uint8_t *)file.data, file.len);
	FUZZ_ASSERT(cw_journal_read(path, count_record, &records, &c, NULL) ==
	    CW_OK);
	FUZZ_ASSERT(c.records == records);
	FUZZ_ASSERT(cw_journal_summary(path, &sum, NULL) == CW_OK);
	FUZZ_ASSERT(sum.counts.records == records);
	memset(&run, 0, sizeof(run));
	if (cw_journal_load_run(path, NULL, &run, NULL) == CW_OK)
		FUZZ_ASSERT(run.ntasks <= records);
	cw_warm_run_free(&run);
	cw_buf_free(&file);
	return 0;
}
