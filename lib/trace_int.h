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
	struct cw_intern keys;	/* every key read, the cut ones too */
	size_t nkeys;		/* keys read by the accesses kept */
	uint64_t skipped;	/* header and malformed lines */
	uint64_t reordered;	/* stamped before the line above */
};

/* ---- a trace's accesses, for the replay and bench/evict ---- */

size_t cw_trace_len(const struct cw_trace *t);	/* accesses */
size_t cw_trace_keys(const struct cw_trace *t);	/* distinct keys */
/* The accesses as key ids, 0..cw_trace_keys() - 1 in order of first
 * appearance (cw_trace_len() of them), and the key of an id. */
const uint32_t *cw_trace_ids(const struct cw_trace *t);
const char *cw_trace_key(const struct cw_trace *t, size_t id, size_t *len);
/* Keep the first n accesses only (n of 0, or past the end: all): the
 * benchmark's later strategies replay what its first got through
 * (cw_replay_run_all). */
void cw_trace_cut(struct cw_trace *t, size_t n);

#endif /* CW_TRACE_INT_H */
