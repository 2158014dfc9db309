#include <criterion/criterion.h>

#include "cw.h"

Test(num, durations_take_units)
{
	int64_t ms;
	struct cw_err e;

	cr_assert_eq(cw_num_parse_duration_ms("300", "t", &ms, &e), CW_OK);
	cr_assert_eq(ms, 300000);
	cr_assert_eq(cw_num_parse_duration_ms("90s", "t", &ms, &e), CW_OK);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(cw_num_parse_duration_ms("2h", "t", &ms, &e), CW_OK);
	cr_assert_eq(ms, 7200000);
	cr_assert_eq(cw_num_parse_duration_ms("250ms", "t", &ms, &e), CW_OK);
	cr_assert_eq(ms, 250);
	cr_assert_eq(cw_num_parse_duration_ms("7d", "t", &ms, &e), CW_OK);
	cr_assert_eq(ms, 7 * 86400000LL);
}

Test(num, junk_and_overflow_are_refused)
{
	int64_t ms;
	uint64_t u;
	struct cw_err e;

	cr_assert_eq(cw_num_parse_duration_ms("12x", "--ttl", &ms, &e),
	    CW_EDATA);
	cr_assert(strstr(e.msg, "--ttl") != NULL);
	cr_assert_eq(cw_num_parse_duration_ms("-5", "t", &ms, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_duration_ms("", "t", &ms, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_duration_ms("99999999999999999999", "t",
	    &ms, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_duration_ms("9999999999999999d", "t", &ms,
	    &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_u64("12abc", 0, 100, "n", &u, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_u64("101", 0, 100, "n", &u, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_u64("100", 0, 100, "n", &u, &e), CW_OK);
	cr_assert_eq(u, 100);
}

Test(num, sizes_take_binary_units)
{
	uint64_t b;
	struct cw_err e;

	cr_assert_eq(cw_num_parse_size("100M", "s", &b, &e), CW_OK);
	cr_assert_eq(b, 100ull << 20);
	cr_assert_eq(cw_num_parse_size("4k", "s", &b, &e), CW_OK);
	cr_assert_eq(b, 4096);
	cr_assert_eq(cw_num_parse_size("17", "s", &b, &e), CW_OK);
	cr_assert_eq(b, 17);
	cr_assert_eq(cw_num_parse_size("1MB", "s", &b, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_size("99999999999T", "s", &b, &e), CW_EDATA);
}

Test(err, exit_codes_and_ranking)
{
	cr_assert_eq(cw_exit_code(CW_OK), 0);
	cr_assert_eq(cw_exit_code(CW_ENOTFOUND), 1);
	cr_assert_eq(cw_exit_code(CW_EUSAGE), 2);
	cr_assert_eq(cw_exit_code(CW_EDATA), 65);
	cr_assert_eq(cw_exit_code(CW_EUNAVAIL), 69);
	cr_assert_eq(cw_exit_code(CW_EIO), 74);
	cr_assert_eq(cw_exit_code(CW_ETIMEOUT), 75);
	cr_assert_eq(cw_exit_code(CW_ECONFIG), 78);
	cr_assert_eq(cw_exit_worse(1, 65), 65);
	cr_assert_eq(cw_exit_worse(65, 1), 65);
	cr_assert_eq(cw_exit_worse(75, 69), 69);
	cr_assert_eq(cw_exit_worse(74, 2), 2);
	cr_assert_eq(cw_exit_worse(0, 0), 0);
}

Test(num, decimals_in_range_only)
{
	struct cw_err e;
	double v;

	cr_assert_eq(cw_num_parse_double("0.5", 0, 1, "-p", &v, &e), CW_OK);
	cr_assert_float_eq(v, 0.5, 1e-12);
	cr_assert_eq(cw_num_parse_double("99.9", 0, 100, "-p", &v, &e), CW_OK);
	cr_assert_eq(cw_num_parse_double("1.01", 0, 1, "-p", &v, &e), CW_EDATA);
	cr_assert_not_null(strstr(e.msg, "-p '1.01': not a number in 0..1"),
	    "%s", e.msg);
	cr_assert_eq(cw_num_parse_double("", 0, 1, "-p", &v, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_double("0.5x", 0, 1, "-p", &v, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_double("nan", 0, 1, "-p", &v, &e), CW_EDATA);
	cr_assert_eq(cw_num_parse_double("-0.1", 0, 1, "-p", &v, &e), CW_EDATA);
}

/* The whole ranking, as a table: each status against every other, the
 * worse being the one later in the list (and a status not listed worse
 * than all of them). */
Test(num, exit_code_ranking_whole)
{
	static const int order[] = { 0, 1, 65, 75, 69, 74, 71, 78, 2, 99 };
	size_t n = sizeof(order) / sizeof(order[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			cr_assert_eq(cw_exit_worse(order[i], order[j]),
			    order[i > j ? i : j], "worse of %d and %d",
			    order[i], order[j]);
}
