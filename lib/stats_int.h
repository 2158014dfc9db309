/*
 * stats_int.h: the figures of raw counters, shared by stats.c (cw-stats)
 * and view.c (the live view), so the two define them once.
 */
#ifndef CW_STATS_INT_H
#define CW_STATS_INT_H

#include "cw.h"

/* The figures of raw counters (hit rates, percentiles, rates, fill),
 * everything but the largest values; pure. */
void cw_stats_derive(const struct cw_l1_stats *st, struct cw_stats_report *r);

#endif /* CW_STATS_INT_H */
