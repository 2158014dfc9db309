/*
 * fill_int.h: what the hierarchy's batch stages use of the fill module:
 * the levels it owns, and the one rule for an answer from L2.
 */
#ifndef CW_FILL_INT_H
#define CW_FILL_INT_H

#include "cw.h"
#include "l2_int.h"

/* The L1 file, or NULL when it could not be used. */
struct cw_l1 *cw_fill_int_l1(struct cw_fill *f);
/* L2, opened at first need; NULL when there is none or it is down. */
struct cw_l2 *cw_fill_int_l2(struct cw_fill *f);
/* An L2 exchange failed: said once, when it takes the level down. */
void cw_fill_int_l2_failed(struct cw_fill *f, const struct cw_err *e);
/* Stop every fetch in flight, forgetting their keys (the run that
 * started them ends at its deadline); their locks lapse by their TTL. */
void cw_fill_int_abandon(struct cw_fill *f);
/* How a level's code counts in the stats: hit, miss, error, timeout. */
enum cw_result cw_fill_int_result_of(int rc);
/* Count an outcome in L1's shared counters, when there is an L1. */
void cw_fill_int_record(struct cw_fill *f, enum cw_level level,
    enum cw_result result, int64_t latency_ns);
/*
 * L2's answer q for key (a value in *q->val, or a remembered miss): fill
 * L1 from it, capped by what L2 has left of it, and set *rc (CW_OK or
 * CW_ENOTFOUND). 0 when L2 had nothing.
 */
int cw_fill_int_from_l2(struct cw_fill *f, const char *key, size_t klen,
    const struct cw_l2_lookup *q, int *rc);

#endif /* CW_FILL_INT_H */
