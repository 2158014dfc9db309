/*
 * hist: log-linear latency histograms.
 *
 * HDR-style buckets: exact below 256 ns, then each power of two split into
 * 128 equal buckets, so a bucket is never wider than 1/128 of its lower
 * bound. Buckets are plain counters, which is what lets many processes add
 * to one histogram in the shared L1 header with one atomic increment.
 */
#include "cw.h"
#include "hist_int.h"

#define LINEAR 256	/* values below are their own bucket */
#define SUB_BITS 7	/* 128 buckets per power of two */

unsigned
cw_hist_bucket(int64_t ns)
{
	uint64_t v = ns < 0 ? 0 : (uint64_t)ns;
	unsigned msb, b;

	if (v < LINEAR)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);	/* >= 8 */
	b = LINEAR + (msb - 8) * (1u << SUB_BITS) +
	    (unsigned)((v >> (msb - SUB_BITS)) & ((1u << SUB_BITS) - 1));
	return b < CW_HIST_BUCKETS ? b : CW_HIST_BUCKETS - 1;
}

int64_t
cw_hist_bucket_low(unsigned bucket)
{
	unsigned octave, sub;

	if (bucket < LINEAR)
		return bucket;
	octave = (bucket - LINEAR) >> SUB_BITS;
	sub = (bucket - LINEAR) & ((1u << SUB_BITS) - 1);
	return (int64_t)(((uint64_t)(1u << SUB_BITS) + sub) << (octave + 1));
}

/* Midpoint of a bucket, the value reported for anything in it. */
static double
bucket_mid(unsigned bucket)
{
	double lo = (double)cw_hist_bucket_low(bucket);
	double hi = bucket + 1 < CW_HIST_BUCKETS ?
	    (double)cw_hist_bucket_low(bucket + 1) : lo * (1 + CW_HIST_REL_ERROR);

	return bucket < LINEAR ? lo : (lo + hi) / 2;
}

uint64_t
cw_hist_total(const uint64_t *counts)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < CW_HIST_BUCKETS; i++)
		t += counts[i];
	return t;
}

double
cw_hist_sum_ns(const uint64_t *counts)
{
	double s = 0;

	for (unsigned i = 0; i < CW_HIST_BUCKETS; i++)
		if (counts[i] != 0)
			s += (double)counts[i] * bucket_mid(i);
	return s;
}

int64_t
cw_hist_quantile(const uint64_t *counts, double q)
{
	uint64_t total = cw_hist_total(counts), rank, seen = 0;

	if (total == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* The smallest value with at least q of the samples at or below. */
	rank = (uint64_t)(q * (double)total + 0.5);
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < CW_HIST_BUCKETS; i++) {
		seen += counts[i];
		if (seen >= rank)
			return (int64_t)(bucket_mid(i) + 0.5);
	}
	return (int64_t)bucket_mid(CW_HIST_BUCKETS - 1);
}
