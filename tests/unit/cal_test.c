#include "helpers.h"
#include "cal_int.h"

TestSuite(cal);

static int64_t
utc(int y, int m, int d, int h, int mi)
{
	return cw_cal_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

static int32_t
offset_h(unsigned session, int64_t t)
{
	struct cw_tz tz;

	cr_assert_eq(cw_cal_session_tz(session, &tz), CW_OK);
	return cw_cal_tz_offset_s(&tz, t) / 3600;
}

Test(cal, floor_division_rounds_down_before_1970_too)
{
	cr_assert_eq(cw_cal_floor_div(7, 7), 1);
	cr_assert_eq(cw_cal_floor_div(6, 7), 0);
	cr_assert_eq(cw_cal_floor_div(0, 7), 0);
	cr_assert_eq(cw_cal_floor_div(-1, 7), -1);
	cr_assert_eq(cw_cal_floor_div(-7, 7), -1);
	cr_assert_eq(cw_cal_floor_div(-8, 7), -2);
	/* One second before the epoch is on 1969-12-31. */
	cr_assert_eq(cw_cal_floor_div(-1, 86400), -1);
}

Test(cal, civil_days_round_trip)
{
	int y, m, d;

	cr_assert_eq(cw_cal_days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(cw_cal_days_from_civil(2024, 2, 29), 19782);
	for (int64_t day = -800000; day < 800000; day += 997) {
		cw_cal_civil_from_days(day, &y, &m, &d);
		cr_assert_eq(cw_cal_days_from_civil(y, m, d), day);
	}
	cr_assert_eq(cw_cal_weekday(cw_cal_days_from_civil(2024, 3, 4)), 0,
	    "2024-03-04 was a Monday");
}

Test(cal, clock_changes_of_the_four_sessions)
{
	/* London: last Sunday of March, 01:00 UTC. */
	cr_assert_eq(offset_h(CW_SESSION_LONDON, utc(2024, 3, 31, 0, 59)), 0);
	cr_assert_eq(offset_h(CW_SESSION_LONDON, utc(2024, 3, 31, 1, 0)), 1);
	cr_assert_eq(offset_h(CW_SESSION_LONDON, utc(2024, 10, 27, 0, 59)), 1);
	cr_assert_eq(offset_h(CW_SESSION_LONDON, utc(2024, 10, 27, 1, 0)), 0);
	/* New York: second Sunday of March, 02:00 EST = 07:00 UTC. */
	cr_assert_eq(offset_h(CW_SESSION_NEW_YORK, utc(2024, 3, 10, 6, 59)),
	    -5);
	cr_assert_eq(offset_h(CW_SESSION_NEW_YORK, utc(2024, 3, 10, 7, 0)),
	    -4);
	cr_assert_eq(offset_h(CW_SESSION_NEW_YORK, utc(2024, 11, 3, 5, 59)), -4);
	cr_assert_eq(offset_h(CW_SESSION_NEW_YORK, utc(2024, 11, 3, 6, 0)), -5);
	/* Sydney, southern: summer time across the new year. */
	cr_assert_eq(offset_h(CW_SESSION_SYDNEY, utc(2024, 1, 15, 0, 0)), 11);
	cr_assert_eq(offset_h(CW_SESSION_SYDNEY, utc(2024, 4, 6, 15, 59)), 11);
	cr_assert_eq(offset_h(CW_SESSION_SYDNEY, utc(2024, 4, 6, 16, 0)), 10);
	cr_assert_eq(offset_h(CW_SESSION_SYDNEY, utc(2024, 10, 5, 16, 0)), 11);
	cr_assert_eq(offset_h(CW_SESSION_TOKYO, utc(2024, 7, 1, 0, 0)), 9);
}

Test(cal, bad_zone_rules_are_refused)
{
	struct cw_tz tz;
	struct cw_err e;

	cr_assert_eq(cw_cal_tz_parse("EST5EDT,J60,J300", &tz, &e), CW_EDATA);
	cr_assert_eq(cw_cal_tz_parse("X5", &tz, &e), CW_EDATA);
	/* Mm.w.d: month 1..12, week 1..5, weekday 0..6, nothing else. */
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M3.5.0,M11.1.0", &tz, &e), CW_OK);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M3.6.0,M11.1.0", &tz, &e), CW_EDATA);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M3.0.0,M11.1.0", &tz, &e), CW_EDATA);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M13.2.0,M11.1.0", &tz, &e),
	    CW_EDATA);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M0.2.0,M11.1.0", &tz, &e), CW_EDATA);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M3.2.7,M11.1.0", &tz, &e), CW_EDATA);
	cr_assert_eq(cw_cal_tz_parse("<+0530>-5:30", &tz, &e), CW_OK);
	cr_assert_eq(cw_cal_tz_offset_s(&tz, 0), 5 * 3600 + 1800);
}

Test(cal, weekends_share_fridays_trading_day)
{
	int64_t fri = cw_cal_days_from_civil(2024, 3, 8);

	cr_assert_eq(cw_cal_tday(fri + 1), cw_cal_tday(fri));
	cr_assert_eq(cw_cal_tday(fri + 2), cw_cal_tday(fri));
	cr_assert_eq(cw_cal_tday(fri + 3), cw_cal_tday(fri) + 1, "Monday");
	cr_assert_eq(cw_cal_tday_days(cw_cal_tday(fri + 3) - 1), fri);
	for (int64_t d = -30; d < 30; d++)
		if (cw_cal_weekday(d) < 5)
			cr_assert_eq(cw_cal_tday_days(cw_cal_tday(d)), d);
}

Test(cal, fx_trades_sunday_to_friday_new_york_time)
{
	struct cw_tz ny;

	cw_cal_session_tz(CW_SESSION_NEW_YORK, &ny);
	/* Friday 2024-03-08 17:00 EST is 22:00 UTC. */
	cr_assert(cw_cal_fx_open(&ny, utc(2024, 3, 8, 21, 59)));
	cr_assert_not(cw_cal_fx_open(&ny, utc(2024, 3, 8, 22, 0)));
	/* Sunday 2024-03-10 17:00 EDT is 21:00 UTC. */
	cr_assert_not(cw_cal_fx_open(&ny, utc(2024, 3, 10, 20, 59)));
	cr_assert(cw_cal_fx_open(&ny, utc(2024, 3, 10, 21, 0)));
}

Test(cal, utc_times_parse_and_print)
{
	char out[CW_CAL_UTC_LEN];
	int64_t t;

	cr_assert_eq(cw_cal_parse_utc("2024-03-04T08:30Z", &t, NULL), CW_OK);
	cr_assert_eq(t, 1709541000);
	cr_assert_eq(cw_cal_parse_utc("1709541000", &t, NULL), CW_OK);
	cr_assert_eq(t, 1709541000);
	cr_assert_eq(cw_cal_parse_utc("2024-03-04", &t, NULL), CW_OK);
	cr_assert_eq(t, 1709510400);
	cw_cal_format_utc(1709541005, out);
	cr_assert_str_eq(out, "2024-03-04T08:30:05Z");
	cw_cal_format_utc(-1, out);
	cr_assert_str_eq(out, "-");
	cr_assert_eq(cw_cal_parse_utc("2024-02-30", &t, NULL), CW_EDATA);
	cr_assert_eq(cw_cal_parse_utc("2024-03-04T24:00", &t, NULL), CW_EDATA);
	cr_assert_eq(cw_cal_parse_utc("soon", &t, NULL), CW_EDATA);
	/* Seconds, a space for the T, and what they refuse. */
	cr_assert_eq(cw_cal_parse_utc("2024-03-04T08:30:05Z", &t, NULL), CW_OK);
	cr_assert_eq(t, 1709541005);
	cr_assert_eq(cw_cal_parse_utc("2024-03-04 08:30:05", &t, NULL), CW_OK);
	cr_assert_eq(t, 1709541005);
	cr_assert_eq(cw_cal_parse_utc("2024-03-04T08:30:5", &t, NULL),
	    CW_EDATA);
	cr_assert_eq(cw_cal_parse_utc("2024-03-04T08:30:60", &t, NULL),
	    CW_EDATA);
	cr_assert_eq(cw_cal_parse_utc("2024-03-04T08:30Zulu", &t, NULL),
	    CW_EDATA);
	/* Each field past its range, or short, and what is said. */
	static const char *const refused[] = {
		"2024-03-04T08:60", "2024-03-04T8:30", "2024-03-04T08:3",
		"2024-3-04", "2024-03-04x", "2024-03-04T08:30:5x",
		"2024-13-01",
	};
	struct cw_err e;
	char want[128];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		cr_assert_eq(cw_cal_parse_utc(refused[i], &t, &e), CW_EDATA,
		    "%s", refused[i]);
		snprintf(want, sizeof(want), "'%s': not a time (Unix seconds "
		    "or YYYY-MM-DD[THH:MM[:SS]][Z])", refused[i]);
		cr_assert_str_eq(e.msg, want);
	}
}

/* A zone whose summer time is not an hour (Lord Howe's half hour), a
 * rule's time with seconds, and a zone that names a summer time but no
 * rules for it. */
Test(cal, zones_with_their_own_summer_offset)
{
	struct cw_tz tz;
	struct cw_err e;

	cr_assert_eq(cw_cal_tz_parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
	    &tz, &e), CW_OK, "%s", e.msg);
	/* 2024-01-15 southern summer: +11; 2024-07-01 winter: +10:30. */
	cr_assert_eq(cw_cal_tz_offset_s(&tz, 1705276800), 11 * 3600);
	cr_assert_eq(cw_cal_tz_offset_s(&tz, 1719792000), 10 * 3600 + 1800);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M3.2.0/2:00:30,M11.1.0/2",
	    &tz, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(tz.start.time_s, 2 * 3600 + 30);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT,M3.2.0/2:00:60,M11.1.0", &tz,
	    &e), CW_EDATA);
	cr_assert_eq(cw_cal_tz_parse("EST5EDT", &tz, &e), CW_EDATA,
	    "a summer time with no rules");
	cr_assert_eq(cw_cal_tz_parse("EST5EDT4:30x,M3.2.0,M11.1.0", &tz, &e),
	    CW_EDATA);
}
