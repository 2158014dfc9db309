#include <sys/stat.h>
#include <time.h>

#include "helpers.h"

TestSuite(calendar, .init = tmpdir_setup, .fini = tmpdir_teardown);

#define SHIPPED CW_TREE_DATADIR "/../calendar.conf"

static struct cw_calendar *
shipped(const char *tzdir)
{
	struct cw_calendar *cal;
	struct cw_err e;

	cr_assert_eq(cw_calendar_load(&cal, SHIPPED, tzdir, &e), CW_OK, "%s",
	    e.msg);
	return cal;
}

static int64_t
at(const char *s)
{
	int64_t t;

	cr_assert_eq(cw_cal_parse_utc(s, &t, NULL), CW_OK, "%s", s);
	return t;
}

static int
starts_with(const struct cw_buf *b, const char *prefix)
{
	return b->len >= strlen(prefix) &&
	    memcmp(b->data, prefix, strlen(prefix)) == 0;
}

/* The sessions `auto` picks at when, with a 30-minute lead, as
 * "name name". */
static const char *
picked(struct cw_calendar *cal, const char *when)
{
	static char buf[128];
	struct cw_cal_open o[8];
	size_t n = cw_calendar_opening(cal, at(when), 1800, o, 8);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    i ? " " : "", o[i].session->name);
	return buf;
}

Test(calendar, auto_picks_the_right_session_all_year)
{
	struct cw_calendar *cal = shipped(NULL);
	static const struct { const char *when, *want; } cases[] = {
		/* Winter: London on GMT, New York on EST. */
		{ "2024-01-03T07:45Z", "london" },
		{ "2024-01-03T07:30Z", "london" },
		{ "2024-01-03T07:29Z", "" },
		{ "2024-01-03T08:01Z", "" },
		{ "2024-01-03T12:45Z", "newyork" },
		{ "2024-01-02T23:45Z", "tokyo" },
		/* New York moved (10 March), London not yet (31 March). */
		{ "2024-03-11T11:45Z", "newyork" },
		{ "2024-03-11T12:45Z", "" },
		{ "2024-03-11T07:45Z", "london" },
		{ "2024-03-08T12:45Z", "newyork" },
		/* Both on summer time. */
		{ "2024-04-02T06:45Z", "london" },
		{ "2024-04-02T07:45Z", "" },
		/* London back on GMT (27 October), New York not yet. */
		{ "2024-10-28T07:45Z", "london" },
		{ "2024-10-28T11:45Z", "newyork" },
		{ "2024-11-04T12:45Z", "newyork" },
		/* Sydney: AEDT ends 7 April, starts 6 October. */
		{ "2024-04-07T22:45Z", "sydney" },
		{ "2024-10-06T21:45Z", "sydney" },
		{ "2024-01-07T21:45Z", "sydney" },
		/* The weekend and a holiday: nothing. */
		{ "2024-01-06T07:45Z", "" },
		{ "2024-01-07T07:45Z", "" },
		{ "2024-12-25T07:45Z", "" },
		/* Friday after New York's 17:00: Sydney's Saturday is no
		 * session day anyway; nothing until Sunday evening. */
		{ "2024-01-05T22:45Z", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(picked(cal, cases[i].when), cases[i].want,
		    "at %s", cases[i].when);
	cw_calendar_free(cal);
}

Test(calendar, a_session_expands_to_its_keys)
{
	struct cw_calendar *cal = shipped(NULL);
	const struct cw_cal_session *s = cw_calendar_session(cal, "london");
	struct cw_buf b = { 0 };
	struct cw_cal_open o;
	size_t lines = 0;

	cr_assert_not_null(s);
	cr_assert_eq(cw_calendar_day_of(cal, s, at("2024-01-03T07:45Z"), &o),
	    CW_OK);
	cr_assert_eq(o.open_s, at("2024-01-03T08:00Z"));
	cr_assert_eq(cw_calendar_keys(cal, &o, &b, NULL), CW_OK);
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	cr_assert_eq(lines, 2 * 4 * 2, "2 instruments x 4 granularities x "
	    "2 days");
	cr_assert(starts_with(&b, "labels:EUR_USD:M15:2024-01-03\n"
	    "labels:EUR_USD:M15:2024-01-02\nlabels:EUR_USD:H1:2024-01-03\n"),
	    "%.*s", (int)b.len, b.data);
	/* A Monday's day before is the Friday; a Saturday's session day
	 * is the Monday after. */
	b.len = 0;
	cr_assert_eq(cw_calendar_day_of(cal, s, at("2024-01-06T12:00Z"), &o),
	    CW_OK);
	cr_assert_eq(cw_calendar_keys(cal, &o, &b, NULL), CW_OK);
	cr_assert(starts_with(&b, "labels:EUR_USD:M15:2024-01-08\n"
	    "labels:EUR_USD:M15:2024-01-05\n"), "%.*s",
	    (int)b.len, b.data);
	/* The day after a holiday looks back past it. */
	b.len = 0;
	cr_assert_eq(cw_calendar_day_of(cal, s, at("2024-01-02T07:00Z"), &o),
	    CW_OK);
	cr_assert_eq(cw_calendar_keys(cal, &o, &b, NULL), CW_OK);
	cr_assert(starts_with(&b, "labels:EUR_USD:M15:2024-01-02\n"
	    "labels:EUR_USD:M15:2023-12-29\n"), "%.*s",
	    (int)b.len, b.data);
	cw_buf_free(&b);
	cw_calendar_free(cal);
}

static void
write_file(const char *name, const char *text, size_t n)
{
	char p[PATH_MAX];
	FILE *f = fopen(tpath(p, sizeof(p), name), "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	fclose(f);
}

Test(calendar, zones_come_from_tzdata_first_then_the_built_in_rules)
{
	struct cw_calendar *cal;
	const struct cw_cal_session *s;
	char dir[PATH_MAX];
	/* A TZif file whose rule says London is on UTC+5 all year. */
	static const char fake[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	    "\nXXX-5\n";

	mkdir(tpath(dir, sizeof(dir), "zi"), 0700);
	mkdir(tpath(dir, sizeof(dir), "zi/Europe"), 0700);
	write_file("zi/Europe/London", fake, sizeof(fake) - 1);
	cal = shipped(tpath(dir, sizeof(dir), "zi"));
	s = cw_calendar_session(cal, "london");
	cr_assert_eq(s->tz_from_system, 1);
	cr_assert_eq(s->tz.std_offset_s, 5 * 3600, "the system's rule wins");
	s = cw_calendar_session(cal, "tokyo");
	cr_assert_eq(s->tz_from_system, 0, "no file: built in");
	cr_assert_eq(s->tz.std_offset_s, 9 * 3600);
	cw_calendar_free(cal);
}

Test(calendar, a_bad_calendar_is_a_config_error_naming_the_line)
{
	struct cw_calendar *cal;
	struct cw_err e;
	char p[PATH_MAX];

	write_file("bad", "[calendar]\ntypes = labels\ngranularities = H1\n"
	    "[x]\nzone = Mars/Olympus\nopen = 08:00\nclose = 17:00\n"
	    "instruments = A\n", 112);
	cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "bad"), NULL,
	    &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "Mars/Olympus") != NULL, "%s", e.msg);
	write_file("bad2", "[london]\nopen = 25:00\n", 22);
	cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "bad2"), NULL,
	    &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "bad2:2: london.open: '25:00' is not HH:MM")
	    != NULL, "%s", e.msg);
	/* A zone is a name in tzdata, never a path (these two would even
	 * resolve to tzdata's London). */
	write_file("bad3", "[calendar]\ntypes = labels\ngranularities = H1\n"
	    "[x]\nzone = ../zoneinfo/Europe/London\nopen = 08:00\n"
	    "close = 17:00\ninstruments = A\n", 125);
	cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "bad3"), NULL,
	    &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "../zoneinfo/Europe/London") != NULL, "%s",
	    e.msg);
	write_file("bad4", "[calendar]\ntypes = labels\ngranularities = H1\n"
	    "[x]\nzone = Europe/./London\nopen = 08:00\n"
	    "close = 17:00\ninstruments = A\n", 115);
	cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "bad4"), NULL,
	    &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "Europe/./London") != NULL, "%s", e.msg);
}

/* The built-in rules agree with the system's zoneinfo, hour by hour
 * through every month of clock changes, every year 2018-2030. */
Test(calendar, built_in_rules_match_the_system_zoneinfo_2018_to_2030)
{
	static const char *const zones[] = { "Europe/London",
		"America/New_York", "Australia/Sydney", "Asia/Tokyo" };
	struct cw_calendar *cal = shipped("/nonexistent");
	struct stat st;

	if (stat("/usr/share/zoneinfo/Europe/London", &st) != 0)
		cr_skip_test("no system zoneinfo to compare with");
	for (size_t z = 0; z < 4; z++) {
		const struct cw_cal_session *s = NULL;
		char tz[80];

		for (unsigned i = 0; i < cal->nsessions; i++)
			if (strcmp(cal->session[i].zone, zones[z]) == 0)
				s = &cal->session[i];
		cr_assert_not_null(s);
		cr_assert_eq(s->tz_from_system, 0);
		snprintf(tz, sizeof(tz), ":%s", zones[z]);
		setenv("TZ", tz, 1);
		tzset();
		for (int y = 2018; y <= 2030; y++)
			for (int m = 1; m <= 12; m++) {
				int64_t from = cw_cal_days_from_civil(y, m, 1) *
				    86400;

				if (m != 3 && m != 4 && m != 10 && m != 11)
					continue;
				for (int64_t t = from; t < from + 31 * 86400;
				    t += 1800) {
					time_t tt = (time_t)t;
					struct tm tm;

					localtime_r(&tt, &tm);
					cr_assert_eq(cw_tz_offset_s(&s->tz, t),
					    tm.tm_gmtoff, "%s at %lld",
					    zones[z], (long long)t);
				}
			}
	}
	unsetenv("TZ");
	cw_calendar_free(cal);
}
