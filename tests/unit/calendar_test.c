#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "helpers.h"
#include "calendar_int.h"
#include "cal_int.h"

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

/* Every other way a calendar file can be wrong, each named with its
 * file and line or the session it concerns. */
Test(calendar, each_kind_of_bad_calendar_says_what)
{
	static const char head[] = "[calendar]\ntypes = labels\n"
	    "granularities = H1\n";
	static const struct {
		const char *body;	/* after head */
		const char *says;
	} cases[] = {
		{ "days_back = 99\n", "calendar.days_back" },
		{ "releases =\n", "calendar.releases: empty or too long" },
		{ "frobnicate = 1\n", "unknown setting calendar.frobnicate" },
		{ "[x]\ncolour = red\n", "unknown setting x.colour" },
		{ "[x]\nzone = Europe/London\nopen = 17:00\nclose = 08:00\n"
		    "instruments = A\n", "session [x] needs zone, open before "
		    "close, and instruments" },
		{ "[x]\nzone = Europe/London\nopen = 08:00\nclose = 17:00\n",
		    "session [x] needs zone" },
		{ "", "needs sessions, types and granularities" },
		{ "this is no setting\n", ":4: not INI" },
		{ "[x]\nzone = ../etc/passwd\n",
		    ":5: x.zone: '../etc/passwd' is not a zone name" },
		{ "[x]\nzone = /etc/localtime\n",
		    ":5: x.zone: '/etc/localtime' is not a zone name" },
		{ "[x]\nzone = Europe/Lon$don\n",
		    ":5: x.zone: 'Europe/Lon$don' is not a zone name" },
		{ "[x]\nopen = 12:60\n", ":5: x.open: '12:60' is not HH:MM" },
		{ "[x]\nopen = 24:01\n", ":5: x.open: '24:01' is not HH:MM" },
		{ "[x]\nclose = 1:2x\n", ":5: x.close: '1:2x' is not HH:MM" },
		{ "[x]\nopen = -1:00\n", ":5: x.open: '-1:00' is not HH:MM" },
		{ "holidays = 2024-13-01\n", ":4: calendar.holidays: "
		    "'2024-13-01' is not a date YYYY-MM-DD" },
		{ "holidays = 2024-1-1\n", ":4: calendar.holidays: "
		    "'2024-1-1' is not a date YYYY-MM-DD" },
		{ "[a_session_name_longer_than_a_word_x]\nopen = 08:00\n",
		    ":5: session [a_session_name_longer_than_a_word_x]: "
		    "too many sessions or too long a name" },
		{ "[s1]\nopen = 08:00\n[s2]\nopen = 08:00\n"
		    "[s3]\nopen = 08:00\n[s4]\nopen = 08:00\n"
		    "[s5]\nopen = 08:00\n[s6]\nopen = 08:00\n"
		    "[s7]\nopen = 08:00\n[s8]\nopen = 08:00\n"
		    "[s9]\nopen = 08:00\n",
		    ":21: session [s9]: too many sessions or too long a name" },
	};
	struct cw_calendar *cal;
	struct cw_err e;
	char p[PATH_MAX], text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", head, cases[i].body);
		write_file("cal", text, strlen(text));
		cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "cal"),
		    NULL, &e), CW_ECONFIG, "%s", cases[i].body);
		cr_assert(strstr(e.msg, cases[i].says) != NULL, "%s -> %s",
		    cases[i].body, e.msg);
	}
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
					cr_assert_eq(cw_cal_tz_offset_s(&s->tz, t),
					    tm.tm_gmtoff, "%s at %lld",
					    zones[z], (long long)t);
				}
			}
	}
	unsetenv("TZ");
	cw_calendar_free(cal);
}

/* The releases due within lead of when, as "name@YYYY-MM-DDTHH:MM:SSZ
 * name@...". */
static const char *
released(struct cw_calendar *cal, const char *when, int64_t lead)
{
	static char buf[256];
	struct cw_cal_open o[CW_CAL_RELEASES];
	char utc[CW_CAL_UTC_LEN];
	size_t n = cw_calendar_releasing(cal, at(when), lead, o,
	    CW_CAL_RELEASES);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		cw_cal_format_utc(o[i].open_s, utc);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "%s%s@%s", i ? " " : "", o[i].session->name, utc);
	}
	return buf;
}

/* Each release keeps its local time through its own zone's clock change,
 * whichever way the others' have gone: March 2026 has New York on EDT
 * (from the 8th) while London is still on GMT (to the 29th), and Sydney
 * leaves AEDT on 5 April. */
Test(calendar, releases_fall_at_their_local_time_across_dst)
{
	struct cw_calendar *cal = shipped(NULL);
	static const struct { const char *when, *want; } cases[] = {
		/* FOMC 14:00 EST, then EDT. */
		{ "2026-01-28T18:45Z", "fomc@2026-01-28T19:00:00Z" },
		{ "2026-03-18T17:30Z", "fomc@2026-03-18T18:00:00Z" },
		{ "2026-03-18T17:29Z", "" },
		{ "2026-03-18T18:01Z", "" },
		/* BoE 12:00 GMT the next day, then BST. */
		{ "2026-03-19T11:40Z", "boe@2026-03-19T12:00:00Z" },
		{ "2026-04-30T10:45Z", "boe@2026-04-30T11:00:00Z" },
		{ "2026-04-30T11:45Z", "" },
		/* RBA 14:30 AEDT, then AEST. */
		{ "2026-03-17T03:15Z", "rba@2026-03-17T03:30:00Z" },
		{ "2026-05-05T04:10Z", "rba@2026-05-05T04:30:00Z" },
		/* Two at once: the BoC at 09:45 and the FOMC at 14:00 New
		 * York, with a lead that covers both. */
		{ "2026-01-28T14:40Z",
		    "fomc@2026-01-28T19:00:00Z boc@2026-01-28T14:45:00Z" },
		/* 2027 too. */
		{ "2027-12-08T18:50Z", "fomc@2027-12-08T19:00:00Z" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t lead = i == 9 ? 5 * 3600 : 1800;

		cr_expect_str_eq(released(cal, cases[i].when, lead),
		    cases[i].want, "at %s", cases[i].when);
	}
	/* The sessions' own openings are not mixed with them. */
	cr_expect_str_eq(picked(cal, "2026-03-18T17:30Z"), "");
	cw_calendar_free(cal);
}

Test(calendar, a_release_warms_the_instruments_of_its_currencies)
{
	struct cw_calendar *cal = shipped(NULL);
	const struct cw_cal_session *s = cw_calendar_session(cal, "fomc");
	struct cw_buf b = { 0 };
	struct cw_cal_open o;
	size_t lines = 0;

	cr_assert_not_null(s);
	cr_assert(s->is_release);
	/* Every instrument with USD, once each, in the sessions' order. */
	cr_assert_eq(s->ninstruments, 5);
	cr_expect_str_eq(s->instruments[0], "AUD_USD");
	cr_expect_str_eq(s->instruments[1], "USD_JPY");
	cr_expect_str_eq(s->instruments[2], "EUR_USD");
	cr_expect_str_eq(s->instruments[3], "GBP_USD");
	cr_expect_str_eq(s->instruments[4], "USD_CAD");
	s = cw_calendar_session(cal, "boe");
	cr_assert_eq(s->ninstruments, 1);
	cr_expect_str_eq(s->instruments[0], "GBP_USD");
	/* Its next date, however far: the day after one (in New York),
	 * the next one. */
	s = cw_calendar_session(cal, "fomc");
	cr_assert_eq(cw_calendar_day_of(cal, s, at("2026-03-19T12:00Z"), &o),
	    CW_OK);
	cr_assert_eq(o.open_s, at("2026-04-29T18:00Z"));
	cr_assert_eq(cw_calendar_keys(cal, &o, &b, NULL), CW_OK);
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	cr_assert_eq(lines, 5 * 4 * 2, "5 instruments x 4 granularities x "
	    "2 days");
	cr_assert(starts_with(&b, "labels:AUD_USD:M15:2026-04-29\n"
	    "labels:AUD_USD:M15:2026-04-28\n"), "%.*s", (int)b.len, b.data);
	cr_assert_eq(cw_calendar_day_of(cal, s, at("2027-12-09T12:00Z"), &o),
	    CW_ENOTFOUND);
	cw_buf_free(&b);
	cw_calendar_free(cal);
}

Test(calendar, a_bad_releases_file_is_a_config_error_naming_the_line)
{
	static const char head[] = "[calendar]\ntypes = labels\n"
	    "granularities = H1\nreleases = rel\n[ldn]\nzone = UTC\n"
	    "open = 08:00\nclose = 17:00\ninstruments = EUR_USD GBP_USD\n";
	static const struct { const char *rel, *want; } cases[] = {
		{ "[x]\nzone = UTC\ntime = 12:00\ncurrencies = EUR\n"
		    "dates = 2026-01-05\n\t2026-02-30\n",
		    "rel:6: x.dates: '2026-02-30' is not a date" },
		{ "[x]\nzone = UTC\ntime = 24:00\n",
		    "rel:3: x.time: '24:00' is not HH:MM" },
		{ "[x]\nwhen = 12:00\n", "rel:2: unknown setting x.when" },
		{ "[x]\nzone = UTC\ntime = 12:00\ncurrencies = JPY\n"
		    "dates = 2026-01-05\n",
		    "[x] moves none of the calendar's instruments" },
		{ "[ldn]\nzone = UTC\ntime = 12:00\ncurrencies = EUR\n"
		    "dates = 2026-01-05\n", "[ldn] is also a session" },
		{ "[x]\nzone = UTC\ncurrencies = EUR\ndates = 2026-01-05\n",
		    "[x] needs zone, time, dates, and currencies" },
	};
	struct cw_calendar *cal;
	struct cw_err e;
	char p[PATH_MAX];

	write_file("cal", head, strlen(head));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("rel", cases[i].rel, strlen(cases[i].rel));
		cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "cal"),
		    NULL, &e), CW_ECONFIG, "case %zu", i);
		cr_expect(strstr(e.msg, cases[i].want) != NULL, "case %zu: %s",
		    i, e.msg);
	}
	/* A good one, with dates out of order and its own instruments. */
	static const char good[] = "[x]\nzone = UTC\ntime = 12:00\n"
	    "instruments = EUR_GBP\ndates = 2026-02-02 2026-01-05\n";

	write_file("rel", good, strlen(good));
	cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "cal"), NULL,
	    &e), CW_OK, "%s", e.msg);
	cr_expect_str_eq(released(cal, "2026-01-05T11:45Z", 1800),
	    "x@2026-01-05T12:00:00Z");
	cr_expect_str_eq(cal->release[0].keys.instruments[0], "EUR_GBP");
	cw_calendar_free(cal);
	/* No releases file where the calendar says: an error, not none. */
	unlink(tpath(p, sizeof(p), "rel"));
	cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "cal"), NULL,
	    &e), CW_ECONFIG);
	cr_expect(strstr(e.msg, "/rel") != NULL, "%s", e.msg);
}

/* Dates over several lines add up, and stop at the room there is: 140
 * holidays in ten lines of 14 are too many, not a write past the end. */
Test(calendar, too_many_dates_over_several_lines_is_an_error)
{
	struct cw_calendar *cal;
	struct cw_buf b = { 0 };
	struct cw_err e;
	char p[PATH_MAX];

	cr_assert_eq(cw_buf_appendf(&b, NULL, "[calendar]\ntypes = labels\n"
	    "granularities = H1\nholidays ="), CW_OK);
	for (int i = 0; i < 140; i++) {
		int64_t day = cw_cal_days_from_civil(2030, 1, 1) + i;
		int y, m, d;

		cw_cal_civil_from_days(day, &y, &m, &d);
		cr_assert_eq(cw_buf_appendf(&b, NULL, "%s%04d-%02d-%02d",
		    i > 0 && i % 14 == 0 ? "\n\t" : " ", y, m, d), CW_OK);
	}
	cr_assert_eq(cw_buf_appendf(&b, NULL, "\n[x]\nzone = UTC\n"
	    "open = 08:00\nclose = 17:00\ninstruments = A_B\n"), CW_OK);
	write_file("many", b.data, b.len);
	cr_assert_eq(cw_calendar_load(&cal, tpath(p, sizeof(p), "many"), NULL,
	    &e), CW_ECONFIG);
	cr_expect(strstr(e.msg, "calendar.holidays: too many") != NULL, "%s",
	    e.msg);
	cw_buf_free(&b);
}
