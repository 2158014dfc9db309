/*
 * hist_int.h: reading the log-linear latency histograms, for the
 * modules that record them (L1's counters, the journal, the replay) and
 * sum them (stats). Programs get figures from cw_stats_*.
 */
#ifndef CW_HIST_INT_H
#define CW_HIST_INT_H

#include <stdint.h>

#include "cw.h"

/* The bucket of a latency (negative counts as 0). */
unsigned cw_hist_bucket(int64_t ns);
/* The smallest value that falls in a bucket. */
int64_t cw_hist_bucket_low(unsigned bucket);
/* The value at quantile q (0..1) of counts, the midpoint of its bucket;
 * 0 when empty. */
int64_t cw_hist_quantile(const uint64_t *counts, double q);
/* Total count and approximate sum (bucket midpoints) of counts. */
uint64_t cw_hist_total(const uint64_t *counts);
double cw_hist_sum_ns(const uint64_t *counts);

#endif /* CW_HIST_INT_H */
