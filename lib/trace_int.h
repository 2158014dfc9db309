/*
 * trace_int.h: the body of a trace, for the replay that walks it.
 */
#ifndef CW_TRACE_INT_H
#define CW_TRACE_INT_H

#include "cw.h"
#include "intern_int.h"

struct cw_trace {
	int64_t *ts_ms;		/* calendar time of each access, in order */
	uint32_t *key;		/* its key's id in keys */
	size_t n, cap;
	struct cw_intern keys;
	uint64_t skipped;	/* header and malformed lines */
	uint64_t reordered;	/* stamped before the line above */
};

#endif /* CW_TRACE_INT_H */
