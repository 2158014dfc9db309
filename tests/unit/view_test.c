#include <math.h>

#include "helpers.h"
#include "hist_int.h"

/* The buffer's text as a C string (still the buffer's). */
static const char *
cstr(struct cw_buf *b)
{
	cr_assert_eq(cw_buf_append(b, "", 1, NULL), CW_OK);
	b->len--;
	return b->data;
}

/* Two snapshots two seconds apart, with known counts in between. */
static void
two_snaps(struct cw_view_snap *a, struct cw_view_snap *b)
{
	memset(a, 0, sizeof(*a));
	a->at_ns = 5000000000;
	a->wall_s = 1717243200;		/* 2024-06-01T12:00:00Z */
	a->l1.max_entries = 1000;
	a->l1.max_bytes = 1000000;
	a->l1.level[CW_LEVEL_L1].results[CW_RESULT_HIT] = 500;
	a->l1.level[CW_LEVEL_L1].results[CW_RESULT_MISS] = 50;
	a->l1.overall[cw_hist_bucket(2000)] = 550;
	a->l1.evictions = 7;
	*b = *a;
	b->at_ns += 2000000000;
	b->wall_s += 2;
	/* 100 lookups: 90 in L1, 6 of the 10 in L2, 4 from the source. */
	b->l1.level[CW_LEVEL_L1].results[CW_RESULT_HIT] += 90;
	b->l1.level[CW_LEVEL_L1].results[CW_RESULT_MISS] += 10;
	b->l1.level[CW_LEVEL_L2].results[CW_RESULT_HIT] += 6;
	b->l1.level[CW_LEVEL_L2].results[CW_RESULT_MISS] += 4;
	b->l1.level[CW_LEVEL_L3].results[CW_RESULT_HIT] += 4;
	b->l1.overall[cw_hist_bucket(1000)] += 90;
	b->l1.overall[cw_hist_bucket(300000)] += 6;
	b->l1.overall[cw_hist_bucket(2000000)] += 4;
	b->l1.evictions += 10;
	b->l1.entries = 250;
	b->l1.bytes = 100000;
	b->warming = 1;
	strcpy(b->warm_id, "20240601T115959Z-42");
	b->warm_done = 3;
	b->warm_total = 8;
}

Test(view, the_model_is_the_interval_not_all_time)
{
	struct cw_view_snap *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct cw_view_line *l = malloc(sizeof(*l));

	cr_assert(a && b && l);
	two_snaps(a, b);
	cr_assert_eq(cw_view_delta(a, b, l, NULL), CW_OK);
	cr_expect_eq(l->r.lookups, 100);
	cr_expect_float_eq(l->seconds, 2.0, 1e-9);
	cr_expect_float_eq(l->lookups_per_s, 50.0, 1e-9);
	cr_expect_float_eq(l->r.level[CW_LEVEL_L1].hit_rate, 0.90, 1e-9);
	cr_expect_float_eq(l->r.level[CW_LEVEL_L2].hit_rate, 0.60, 1e-9);
	cr_expect_float_eq(l->r.hit_rate, 0.96, 1e-9, "served without L3");
	cr_expect_float_eq(l->evictions_per_s, 5.0, 1e-9);
	/* P99 of the interval: among the 4 slowest (2 ms), not diluted by
	 * the 550 earlier lookups at 2 us. */
	cr_expect(l->r.latency.p99_ns > 1900000 && l->r.latency.p99_ns <
	    2100000, "p99 %lld", (long long)l->r.latency.p99_ns);
	cr_expect(l->r.latency.p50_ns < 1100, "p50 %lld",
	    (long long)l->r.latency.p50_ns);
	cr_expect_float_eq(l->r.fill_pct, 25.0, 1e-9);
	/* A reset between the two: counts start again from zero. */
	a->l1.level[CW_LEVEL_L1].results[CW_RESULT_HIT] = 10000;
	cr_assert_eq(cw_view_delta(a, b, l, NULL), CW_OK);
	cr_expect_eq(l->r.level[CW_LEVEL_L1].hits, 590);
	free(a);
	free(b);
	free(l);
}

Test(view, each_form_renders_the_same_figures)
{
	struct cw_view_snap *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct cw_view_line *l = malloc(sizeof(*l));
	struct cw_buf out = { 0 };
	char want[512];

	cr_assert(a && b && l);
	two_snaps(a, b);
	cr_assert_eq(cw_view_delta(a, b, l, NULL), CW_OK);
	cw_view_header(CW_VIEW_TSV, &out);
	cr_expect_str_eq(cstr(&out), "time\tlookups_per_s\tl1_hit_rate\t"
	    "l2_hit_rate\tl3_hit_rate\toverall_hit_rate\tp50_us\tp99_us\t"
	    "p999_us\tl1_entries\tl1_fill_pct\tevictions_per_s\twarming\n");
	out.len = 0;
	cw_view_render(l, CW_VIEW_TSV, &out);
	snprintf(want, sizeof(want), "12:00:02Z\t50.0\t0.9000\t0.6000\t"
	    "1.0000\t0.9600\t%.1f\t%.1f\t%.1f\t250\t25.0\t5.0\t"
	    "20240601T115959Z-42\n", (double)l->r.latency.p50_ns / 1e3,
	    (double)l->r.latency.p99_ns / 1e3,
	    (double)l->r.latency.p999_ns / 1e3);
	cr_expect_str_eq(cstr(&out), want);
	out.len = 0;
	cw_view_render(l, CW_VIEW_JSON, &out);
	snprintf(want, sizeof(want), "{\"time\":1717243202,\"seconds\":2.000,"
	    "\"lookups\":100,\"lookups_per_s\":50.0,\"l1_hit_rate\":0.9000,"
	    "\"l2_hit_rate\":0.6000,\"l3_hit_rate\":1.0000,"
	    "\"overall_hit_rate\":0.9600,\"p50_us\":%.1f,\"p99_us\":%.1f,"
	    "\"p999_us\":%.1f,\"l1_entries\":250,\"l1_fill_pct\":25.0,"
	    "\"evictions_per_s\":5.0,\"warming\":{\"id\":"
	    "\"20240601T115959Z-42\",\"done\":3,\"tasks\":8}}\n",
	    (double)l->r.latency.p50_ns / 1e3,
	    (double)l->r.latency.p99_ns / 1e3,
	    (double)l->r.latency.p999_ns / 1e3);
	cr_expect_str_eq(cstr(&out), want);
	/* The screen: home and clear first, then the same figures. */
	out.len = 0;
	cw_view_render(l, CW_VIEW_SCREEN, &out);
	cstr(&out);
	cr_expect(strncmp(out.data, "\033[H\033[Jcachewarm live  12:00:02Z  "
	    "over 2.0 s\n", 40) == 0, "%s", out.data);
	cr_expect(strstr(out.data, "lookups/s       50.0   served without L3 "
	    "96.0%   evictions/s 5.0\n") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\nl1           50.0   90.0%") != NULL,
	    "%s", out.data);
	cr_expect(strstr(out.data, "\nL1     250 of 1000 entries, 97.7K of "
	    "976.6K (25.0% full)\n") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\nwarm   20240601T115959Z-42: 3 of 8 "
	    "tasks\n") != NULL, "%s", out.data);
	/* No lookups: no rates, not zeros. */
	*a = *b;
	a->at_ns -= 1000000000;
	cr_assert_eq(cw_view_delta(a, b, l, NULL), CW_OK);
	out.len = 0;
	cw_view_render(l, CW_VIEW_TSV, &out);
	cr_expect(strncmp(out.data, "12:00:02Z\t0.0\t-\t-\t-\t-\t-\t-\t-\t",
	    28) == 0, "%.*s", (int)out.len, out.data);
	cw_buf_free(&out);
	free(a);
	free(b);
	free(l);
}
