/* The trace reader: any CSV is read or refused, and the offline bounds
 * it gives are bounds (Belady's MIN never below LRU, neither above the
 * accesses). */
#include "fuzz.h"
#include "trace_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_trace *t = NULL;
	uint64_t lru, belady;

	if (cw_trace_load(&t, fuzz_file("trace.csv", data, size), NULL) !=
	    CW_OK)
		return 0;
	FUZZ_ASSERT(cw_trace_keys(t) <= cw_trace_len(t));
	for (size_t cap = 1; cap <= 4; cap++) {
		FUZZ_ASSERT(cw_trace_offline(t, cap, &lru, &belady, NULL) ==
		    CW_OK);
		FUZZ_ASSERT(lru <= belady && belady <= cw_trace_len(t));
	}
	cw_trace_free(t);
	return 0;
}
