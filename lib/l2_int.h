/*
 * l2_int.h: the part of L2 that only the fill machine uses: many stores
 * in one round trip.
 */
#ifndef CW_L2_INT_H
#define CW_L2_INT_H

#include "cw.h"

/* One store of a batch, as cw_l2_set takes it; ttl_ms is set. */
struct cw_l2_write {
	const char *key;
	size_t klen;
	const void *val;	/* ignored with CW_L2_NEGATIVE */
	size_t vlen;
	int64_t max_ttl_ms;
	unsigned flags;
	int64_t ttl_ms;		/* out: the TTL given */
};

/* cw_l2_set for n keys in one round trip (pipelined): a warmer's answers
 * go to Redis together. */
int cw_l2_set_many(struct cw_l2 *l2, struct cw_l2_write *w, size_t n,
    struct cw_err *err);

#endif /* CW_L2_INT_H */
