/*
 * timing.h: what the benchmark drivers time with, once: a monotonic
 * clock in seconds and the median of a run's figures.
 */
#ifndef CW_BENCH_TIMING_H
#define CW_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n); sorts v. */
static inline double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

#endif /* CW_BENCH_TIMING_H */
