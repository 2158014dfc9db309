#include "helpers.h"

TestSuite(replay_plot, .init = tmpdir_setup, .fini = tmpdir_teardown);

/* The charts' data, hour by hour: the hit rate of what was served, and
 * the L3 queries (the third count of an hour, not its hits). */
Test(replay_plot, the_hourly_data_is_each_hours_hit_rate_and_l3_queries)
{
	uint64_t hourly[2][3] = { { 10, 7, 3 }, { 4, 4, 0 } };
	struct cw_replay_result r;
	struct cw_calendar *cal;
	struct cw_buf b = { 0 };
	struct cw_err e;
	char p[PATH_MAX];

	memset(&r, 0, sizeof(r));
	r.strategy = CW_STRATEGY_NONE;
	r.first_hour_s = 1704067200;	/* 2024-01-01, a Monday */
	r.hours = 2;
	r.hourly = hourly;
	cr_assert_eq(cw_calendar_load(&cal, CW_TREE_DATADIR "/../calendar.conf",
	    NULL, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(cw_replay_plot_files(&r, 1, cal, tenv.dir, &e), CW_OK,
	    "%s", e.msg);
	cw_calendar_free(cal);
	cr_assert_str_eq(file_text(tpath(p, sizeof(p), "l3_per_hour.dat"), &b),
	    "# hour none\n1704067200 3\n1704070800 0\n");
	cr_assert_str_eq(file_text(tpath(p, sizeof(p), "hit_rate.dat"), &b),
	    "# hour none\n1704067200 70.000\n1704070800 100.000\n");
	cw_buf_free(&b);
}
