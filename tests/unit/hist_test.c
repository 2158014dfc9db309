#include <criterion/criterion.h>
#include <math.h>

#include "cw.h"
#include "hist_int.h"

Test(hist, buckets_are_monotonic_and_narrow)
{
	unsigned prev = 0;

	for (int64_t v = 0; v < (1LL << 36); v = v < 1000 ? v + 1 : v * 1.01) {
		unsigned b = cw_hist_bucket(v);
		int64_t lo = cw_hist_bucket_low(b);

		cr_assert_geq(b, prev);
		cr_assert_leq(lo, v, "v=%lld lo=%lld", (long long)v,
		    (long long)lo);
		if (b + 1 < CW_HIST_BUCKETS)
			cr_assert_gt(cw_hist_bucket_low(b + 1), v);
		if (v >= 256)
			cr_assert_leq((double)(cw_hist_bucket_low(b + 1) - lo),
			    (double)lo * CW_HIST_REL_ERROR + 1e-9);
		prev = b;
	}
	cr_assert_eq(cw_hist_bucket(-5), 0);
	cr_assert_eq(cw_hist_bucket(INT64_MAX), CW_HIST_BUCKETS - 1);
}

Test(hist, quantiles_within_stated_error)
{
	static uint64_t counts[CW_HIST_BUCKETS];

	/* 1..100000 ns, one sample each: true quantile q is about q*1e5. */
	for (int64_t v = 1; v <= 100000; v++)
		counts[cw_hist_bucket(v)]++;
	cr_assert_eq(cw_hist_total(counts), 100000);
	for (double q = 0.1; q < 1.0; q += 0.1) {
		double truth = q * 100000;
		double got = (double)cw_hist_quantile(counts, q);

		cr_assert_leq(fabs(got - truth) / truth, CW_HIST_REL_ERROR,
		    "q=%.1f got %.0f want %.0f", q, got, truth);
	}
	cr_assert_leq(fabs(cw_hist_sum_ns(counts) - 5000050000.0) /
	    5000050000.0, CW_HIST_REL_ERROR);
}

Test(hist, empty_histogram_reads_zero)
{
	static uint64_t counts[CW_HIST_BUCKETS];

	cr_assert_eq(cw_hist_quantile(counts, 0.99), 0);
}
