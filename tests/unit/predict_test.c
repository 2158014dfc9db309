#include <fcntl.h>
#include <math.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hash_int.h"
#include "helpers.h"
#include "predict_int.h"
#include "cal_int.h"

TestSuite(predict);

static int64_t
utc(int y, int m, int d, int h, int mi)
{
	return cw_cal_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

static void
read_key(struct cw_predict *m, int64_t t_s, const char *key)
{
	cr_assert_eq(cw_predict_learn_key(m, t_s * 1000, key, strlen(key)),
	    CW_OK);
}

/* Reads of today's key at 08:00-08:59 London time on weekdays only,
 * from first_day for days days. */
static void
london_open_reads(struct cw_predict *m, int64_t first_day, int days)
{
	struct cw_tz london;

	cw_cal_session_tz(CW_SESSION_LONDON, &london);
	for (int64_t day = first_day; day < first_day + days; day++) {
		int y, mo, d;
		char key[64];

		if (cw_cal_weekday(day) > 4)
			continue;
		cw_cal_civil_from_days(day, &y, &mo, &d);
		snprintf(key, sizeof(key), "labels:EUR_GBP:M5:%04d-%02d-%02d",
		    y, mo, d);
		/* 08:00 local is 08:00 UTC in winter, 07:00 in summer. */
		int64_t open = day * 86400 + 8 * 3600 -
		    cw_cal_tz_offset_s(&london, day * 86400 + 8 * 3600);
		for (int i = 0; i < 6; i++)
			read_key(m, open + i * 600 + 30, key);
	}
}

static int
peak_hour(struct cw_predict *m, int64_t at)
{
	struct cw_pattern_info pi;
	struct cw_err e;

	cr_assert_eq(cw_predict_pattern(m, "labels:EUR_GBP:M5:T", at, &pi, &e),
	    CW_OK, "%s", e.msg);
	return pi.peak[0];
}

Test(predict, london_open_peaks_at_the_open_in_winter_and_summer)
{
	struct cw_predict *m;
	struct cw_pattern_info pi;

	cr_assert_eq(cw_predict_new(&m, NULL), CW_OK);
	/* Learned in winter only: 4 to 29 March 2024. */
	london_open_reads(m, cw_cal_days_from_civil(2024, 3, 4), 26);
	cw_predict_advance(m, utc(2024, 3, 30, 0, 0));
	cr_assert_eq(peak_hour(m, utc(2024, 3, 20, 0, 0)), 8, "winter: 08 UTC");
	/* After the clock change it follows London, not UTC. */
	cr_assert_eq(peak_hour(m, utc(2024, 4, 2, 0, 0)), 7, "summer: 07 UTC");
	cr_assert_eq(cw_predict_pattern(m, "labels:EUR_GBP:M5:T",
	    utc(2024, 4, 2, 0, 0), &pi, NULL), CW_OK);
	cr_assert_str_eq(pi.frame, "london");
	cr_assert_gt(pi.session_share[CW_SESSION_LONDON], 0.95);
	cr_assert_lt(pi.session_share[CW_SESSION_NEW_YORK], 0.05);
	/* Learned on through the change, it peaks there as well. */
	london_open_reads(m, cw_cal_days_from_civil(2024, 4, 1), 12);
	cw_predict_advance(m, utc(2024, 4, 13, 0, 0));
	cr_assert_eq(peak_hour(m, utc(2024, 4, 15, 0, 0)), 7);
	cr_assert_eq(peak_hour(m, utc(2024, 11, 4, 0, 0)), 8,
	    "and back to 08 UTC next winter");
	cw_predict_free(m);
}

Test(predict, forecast_names_tomorrows_key_and_the_open)
{
	struct cw_predict *m;
	struct cw_forecast *list;
	struct cw_forecast_opts o = { .min_probability = 0.5 };
	size_t n;

	cw_predict_new(&m, NULL);
	london_open_reads(m, cw_cal_days_from_civil(2024, 3, 4), 26);
	cw_predict_advance(m, utc(2024, 4, 1, 7, 0));
	/* A key never read: the data of Monday 1 April, at 08:00 BST. */
	cr_assert_eq(cw_predict_forecast(m, utc(2024, 4, 1, 7, 0), 3600, &o,
	    &list, &n, NULL), CW_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(list[0].key, "labels:EUR_GBP:M5:2024-04-01");
	cr_assert_gt(list[0].expected, 5);
	cr_assert_str_eq(list[0].reason, "session:london");
	free(list);
	/* Nothing at 15:00, nor at the weekend. */
	cr_assert_eq(cw_predict_forecast(m, utc(2024, 4, 2, 15, 0), 3600, &o,
	    &list, &n, NULL), CW_OK);
	cr_assert_eq(n, 0);
	free(list);
	cr_assert_eq(cw_predict_forecast(m, utc(2024, 4, 6, 7, 0), 3600, &o,
	    &list, &n, NULL), CW_OK);
	cr_assert_eq(n, 0);
	free(list);
	cw_predict_free(m);
}

Test(predict, a_constant_rate_converges)
{
	struct cw_predict *m;
	struct cw_forecast *list;
	struct cw_forecast_opts o = { 0 };
	int64_t start = utc(2024, 3, 4, 0, 0), t;
	size_t n;

	cw_predict_new(&m, NULL);
	for (t = start; t < start + 21 * 86400; t += 360)	/* 10 an hour */
		read_key(m, t, "opaque-key");
	cw_predict_advance(m, t);
	for (int h = 0; h < 48; h += 5) {
		cr_assert_eq(cw_predict_forecast(m, t + h * 3600, 3600, &o,
		    &list, &n, NULL), CW_OK);
		cr_assert_eq(n, 1);
		cr_assert_float_eq(list[0].expected, 10, 0.05, "hour %d: %f", h,
		    list[0].expected);
		cr_assert_float_eq(list[0].probability, 1 - exp(-10), 1e-4);
		free(list);
	}
	cw_predict_free(m);
}

Test(predict, patterns_of_keys)
{
	char p[CW_PATTERN_MAX], k[CW_KEY_MAX + 1];
	int64_t monday = utc(2024, 3, 11, 9, 0);

	cr_assert_eq(cw_pattern_of_key("a:EUR_USD:H1:2024-03-08", 23, monday,
	    p, sizeof(p), NULL), CW_OK);
	cr_assert_str_eq(p, "a:EUR_USD:H1:T-1", "Friday is the day before");
	cr_assert_eq(cw_pattern_of_key("a:EUR_USD:H1:2024-03-12", 23, monday,
	    p, sizeof(p), NULL), CW_OK);
	cr_assert_str_eq(p, "a:EUR_USD:H1:T+1");
	cr_assert_eq(cw_pattern_key("a:EUR_USD:H1:T-1", monday, k, NULL),
	    CW_OK);
	cr_assert_str_eq(k, "a:EUR_USD:H1:2024-03-08");
	cr_assert_eq(cw_pattern_key("a:EUR_USD:H1:T", monday, k, NULL), CW_OK);
	cr_assert_str_eq(k, "a:EUR_USD:H1:2024-03-11");
	cr_assert_eq(cw_pattern_key("plain", monday, k, NULL), CW_OK);
	cr_assert_str_eq(k, "plain");
	cr_assert_eq(cw_pattern_key("a:b:c:X-1", monday, k, NULL), CW_EDATA);
	cr_assert_eq(cw_pattern_of_key("bad key", 7, monday, p, sizeof(p),
	    NULL), CW_EDATA);
	/* A weekend's date is no trading day: counted back in calendar
	 * days, its pattern names the next Sunday's key on the next Monday. */
	cr_assert_eq(cw_pattern_of_key("a:EUR_USD:H1:2024-03-10", 23, monday,
	    p, sizeof(p), NULL), CW_OK);
	cr_assert_str_eq(p, "a:EUR_USD:H1:D-1");
	cr_assert_eq(cw_pattern_of_key("a:EUR_USD:H1:2024-03-09", 23, monday,
	    p, sizeof(p), NULL), CW_OK);
	cr_assert_str_eq(p, "a:EUR_USD:H1:D-2");
	cr_assert_eq(cw_pattern_key("a:EUR_USD:H1:D-1", monday + 7 * 86400, k,
	    NULL), CW_OK);
	cr_assert_str_eq(k, "a:EUR_USD:H1:2024-03-17");
}

Test(predict, bad_lines_are_counted_never_fatal)
{
	struct cw_predict *m;
	struct cw_predict_summary s;
	static const char *const lines[] = {
		"ts,key,level,latency_us",		/* a header */
		"1709510400.5,labels:EUR_USD:H1:2024-03-04,l1,3",
		"garbage",
		"1709510401,labels:EUR_USD:H1:2024-02-30",	/* no such date */
		"-5,x",
		"9999999999,future-key",
		"1709510402,",
	};
	int64_t now = 1709510400 + 3600;

	cw_predict_new(&m, NULL);
	for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++)
		cw_predict_learn_line(m, lines[i], strlen(lines[i]), now, 0);
	cw_predict_summary(m, &s);
	cr_assert_eq(s.counts.lines, 6);
	cr_assert_eq(s.counts.learned, 1);
	cr_assert_eq(s.counts.malformed, 4);
	cr_assert_eq(s.counts.future, 1);
	cr_assert_eq(s.patterns, 1);
	cw_predict_free(m);
}

static struct cw_predict *
learned_workload(void)
{
	struct cw_workload_opts wo = { .seed = 3, .weeks = 2,
	    .instruments = "EUR_USD,AUD_JPY", .rate_per_hour = 40,
	    .start_s = utc(2024, 10, 21, 0, 0) };
	struct cw_workload *w;
	struct cw_predict *m;
	struct cw_buf minute = { 0 };
	struct cw_err e;

	cr_assert_eq(cw_workload_open(&w, &wo, &e), CW_OK, "%s", e.msg);
	cw_predict_new(&m, NULL);
	while (cw_workload_next(w, &minute, NULL) == CW_OK) {
		char *line = minute.data, *nl;

		for (; line < minute.data + minute.len; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(minute.data +
			    minute.len - line));
			cr_assert_eq(cw_predict_learn_line(m, line,
			    (size_t)(nl - line), 0, 0), CW_OK, "%.*s",
			    (int)(nl - line), line);
		}
	}
	cw_buf_free(&minute);
	cw_workload_close(w);
	return m;
}

static void
assert_same_forecasts(struct cw_predict *a, struct cw_predict *b,
    int64_t at)
{
	struct cw_forecast *fa, *fb;
	struct cw_forecast_opts o = { 0 };
	size_t na, nb;

	cr_assert_eq(cw_predict_forecast(a, at, 7200, &o, &fa, &na, NULL),
	    CW_OK);
	cr_assert_eq(cw_predict_forecast(b, at, 7200, &o, &fb, &nb, NULL),
	    CW_OK);
	cr_assert_eq(na, nb);
	cr_assert_gt(na, 100);
	for (size_t i = 0; i < na; i++) {
		cr_assert_str_eq(fa[i].key, fb[i].key);
		cr_assert_eq(fa[i].expected, fb[i].expected, "%s", fa[i].key);
		cr_assert_eq(fa[i].confidence, fb[i].confidence);
		cr_assert_str_eq(fa[i].reason, fb[i].reason);
	}
	free(fa);
	free(fb);
}

Test(predict, export_then_import_gives_the_same_forecasts)
{
	struct cw_predict *m = learned_workload(), *copy;
	struct cw_buf csv = { 0 }, again = { 0 };
	struct cw_err e;

	cr_assert_eq(cw_predict_export(m, &csv, &e), CW_OK);
	cr_assert_eq(cw_predict_import(&copy, csv.data, csv.len, &e), CW_OK,
	    "%s", e.msg);
	assert_same_forecasts(m, copy, utc(2024, 11, 4, 13, 30));
	cr_assert_eq(cw_predict_export(copy, &again, &e), CW_OK);
	cr_assert_eq(again.len, csv.len);
	cr_assert_eq(memcmp(again.data, csv.data, csv.len), 0);
	/* And after both learn the same hours on. */
	cw_predict_advance(m, utc(2024, 11, 5, 15, 0));
	cw_predict_advance(copy, utc(2024, 11, 5, 15, 0));
	assert_same_forecasts(m, copy, utc(2024, 11, 5, 15, 0));
	struct cw_predict *bad;
	cr_assert_eq(cw_predict_import(&bad, "kind,x\nbogus,1\n", 15, &e),
	    CW_EDATA);
	cw_buf_free(&csv);
	cw_buf_free(&again);
	cw_predict_free(copy);
	cw_predict_free(m);
}

Test(predict, state_file_round_trip_and_damage, .init = tmpdir_setup,
    .fini = tmpdir_teardown)
{
	struct cw_predict *m = learned_workload(), *back;
	char path[600];
	struct cw_err e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/state", tenv.dir);
	cr_assert_eq(cw_predict_load(&back, path, &e), CW_ENOTFOUND);
	cr_assert_eq(cw_predict_save(m, path, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(cw_predict_load(&back, path, &e), CW_OK, "%s", e.msg);
	assert_same_forecasts(m, back, utc(2024, 11, 5, 1, 0));
	cw_predict_free(back);
	/* One flipped byte deep inside: refused, with the way out. */
	cr_assert_not_null(f = fopen(path, "r+"));
	fseek(f, 5000, SEEK_SET);
	int c = fgetc(f);
	fseek(f, 5000, SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
	cr_assert_eq(cw_predict_load(&back, path, &e), CW_EDATA);
	cr_assert_not_null(strstr(e.msg, "damaged"));
	cr_assert_not_null(strstr(e.msg, "--rebuild"));
	cr_assert_eq(truncate(path, 100), 0);
	cr_assert_eq(cw_predict_load(&back, path, &e), CW_EDATA);
	cw_predict_free(m);
}

/* In a child, while this process holds the learners' lock, either save
 * a new model over state (an import) or keep a backtest's scores in it:
 * the child must still be waiting 300 ms later, and finish once the lock
 * is let go. */
static void
writes_only_under_the_lock(const char *state, int keep_backtest)
{
	char lock[700];
	struct timespec pause = { 0, 300 * 1000 * 1000 };
	int fd, status;
	pid_t pid;

	snprintf(lock, sizeof(lock), "%s.lock", state);
	cr_assert_geq(fd = open(lock, O_RDWR | O_CREAT, 0600), 0);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		struct cw_backtest_report r = { .ran_s = 1234567 };
		struct cw_predict *m = NULL;
		int rc;

		if (keep_backtest) {
			rc = cw_predict_keep_backtest(state, &r, NULL);
		} else {
			cw_predict_new(&m, NULL);
			rc = cw_predict_save_locked(m, state, NULL);
		}
		_exit(rc == CW_OK ? 0 : 1);
	}
	nanosleep(&pause, NULL);
	cr_assert_eq(waitpid(pid, &status, WNOHANG), 0,
	    "wrote the state without the learners' lock");
	cr_assert_eq(flock(fd, LOCK_UN), 0);
	close(fd);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(predict, import_and_backtest_save_under_the_learners_lock,
    .init = tmpdir_setup, .fini = tmpdir_teardown)
{
	struct cw_predict *m;
	struct cw_predict_summary s;
	char state[600];

	snprintf(state, sizeof(state), "%s/state", tenv.dir);
	writes_only_under_the_lock(state, 0);
	writes_only_under_the_lock(state, 1);
	cr_assert_eq(cw_predict_load(&m, state, NULL), CW_OK);
	cw_predict_summary(m, &s);
	cr_assert(s.has_backtest);
	cr_assert_eq(s.backtest.ran_s, 1234567);
	cw_predict_free(m);
	/* No model yet: the scores are not kept, and no file is made. */
	unlink(state);
	cr_assert_eq(cw_predict_keep_backtest(state, &s.backtest, NULL),
	    CW_ENOTFOUND);
	cr_assert_eq(access(state, F_OK), -1);
}

/* The learner's turn: a log learned into the state file once, what it
 * gains later learned on the next turn, and each turn's counts its own. */
/* cron's learner on state and log at now_s, a week of history: it
 * must succeed; what it read into *read. */
static void
learner_run(const char *state, const char *log, int64_t now_s,
    struct cw_predict_counts *read)
{
	struct cw_err e;

	cr_assert_eq(cw_predict_update(state, log, now_s, 7 * 86400, 0, read,
	    &e), CW_OK, "%s", e.msg);
}

Test(predict, update_learns_what_the_log_gained, .init = tmpdir_setup,
    .fini = tmpdir_teardown)
{
	struct cw_predict_counts read;
	struct cw_predict_summary sum;
	struct cw_predict *m;
	char state[600], log[600];
	int64_t t = utc(2024, 11, 5, 8, 0);
	struct cw_err e;
	FILE *f;

	snprintf(state, sizeof(state), "%s/sub/state", tenv.dir);
	snprintf(log, sizeof(log), "%s/access.log", tenv.dir);
	cr_assert_not_null(f = fopen(log, "w"));
	fprintf(f, "%lld,labels:EUR_USD:H4:2024-11-05,l1,12\n"
	    "not a line\n"
	    "%lld,labels:EUR_USD:H4:2024-11-05,l1,9\n",
	    (long long)t, (long long)t + 60);
	fclose(f);
	learner_run(state, log, t + 7200, &read);
	cr_assert_eq(read.lines, 3);
	cr_assert_eq(read.learned, 2);
	cr_assert_eq(read.malformed, 1);
	cr_assert_not_null(f = fopen(log, "a"));
	fprintf(f, "%lld,labels:GBP_USD:H4:2024-11-05,l2,300\n",
	    (long long)t + 3600);
	fclose(f);
	learner_run(state, log, t + 7200, &read);
	cr_assert_eq(read.lines, 1, "only what the log gained");
	cr_assert_eq(read.learned, 1);
	cr_assert_eq(cw_predict_load_or_new(&m, state, &e), CW_OK);
	cw_predict_summary(m, &sum);
	cr_assert_eq(sum.counts.learned, 3);
	cr_assert_eq(sum.patterns, 2);
	cw_predict_free(m);
	/* No log yet and no state yet: a new, empty model is saved. */
	snprintf(state, sizeof(state), "%s/other", tenv.dir);
	cr_assert_eq(cw_predict_update(state, NULL, t, 7 * 86400, 0, &read,
	    &e), CW_OK, "%s", e.msg);
	cr_assert_eq(read.lines, 0);
	cr_assert_eq(cw_predict_load(&m, state, &e), CW_OK, "%s", e.msg);
	cw_predict_free(m);
}

/* A log cut in place (copytruncate's rotation) is read again from its
 * start; a line past the reader's 1 MB buffer is skipped whole, up to
 * its newline, as one malformed line, and the lines after it learned. */
Test(predict, update_restarts_a_cut_log_and_skips_an_overlong_line,
    .init = tmpdir_setup, .fini = tmpdir_teardown)
{
	struct cw_predict_counts read;
	char state[600], log[600];
	int64_t t = utc(2024, 11, 5, 8, 0);
	FILE *f;

	snprintf(state, sizeof(state), "%s/state", tenv.dir);
	snprintf(log, sizeof(log), "%s/access.log", tenv.dir);
	cr_assert_not_null(f = fopen(log, "w"));
	for (int i = 0; i < 3; i++)
		fprintf(f, "%lld,labels:EUR_USD:H4:2024-11-05,l1,12\n",
		    (long long)t + i * 60);
	fclose(f);
	learner_run(state, log, t + 7200, &read);
	cr_assert_eq(read.learned, 3);
	cr_assert_not_null(f = fopen(log, "w"));
	/* In the next hour, which the learner keeps open. */
	fprintf(f, "%lld,labels:GBP_USD:H4:2024-11-05,l2,300\n",
	    (long long)t + 3600);
	fclose(f);
	learner_run(state, log, t + 7200, &read);
	cr_assert_eq(read.lines, 1, "the cut log read from its start");
	cr_assert_eq(read.learned, 1);
	/* One line of 1 MB of garbage and then what looks like a log line
	 * (the reader's buffer ends just before it), then two lines. */
	cr_assert_not_null(f = fopen(log, "a"));
	for (int i = 0; i < (1 << 20); i++)
		fputc('x', f);
	fprintf(f, "%lld,labels:EUR_JPY:H4:2024-11-05,l1,5\n", (long long)t +
	    3620);
	fprintf(f, "%lld,labels:USD_JPY:H4:2024-11-05,l1,5\n"
	    "%lld,labels:USD_JPY:H4:2024-11-05,l1,5\n", (long long)t + 3640,
	    (long long)t + 3700);
	fclose(f);
	learner_run(state, log, t + 7200, &read);
	cr_assert_eq(read.malformed, 1, "the long line, once");
	cr_assert_eq(read.lines, 3);
	cr_assert_eq(read.learned, 2);
}

/* A tiny trace scored by hand; opaque keys are their own patterns. */
Test(predict, backtest_scores_by_hand)
{
	int64_t t0 = utc(2024, 3, 4, 0, 0);
	struct {
		int hour;
		const char *key;
	} reads[] = {
		{ 0, "x" }, { 0, "x" }, { 0, "y" },		/* a week ago */
		{ 167, "y" }, { 167, "z" }, { 167, "z" }, { 167, "z" },
		{ 168, "x" }, { 168, "y" }, { 168, "y" }, { 168, "w" },
	};
	struct cw_backtest *bt;
	struct cw_backtest_report r;
	struct cw_err e;
	char line[64];

	cr_assert_eq(cw_backtest_new(&bt, 3600, &e), CW_OK);
	for (size_t i = 0; i < sizeof(reads) / sizeof(*reads); i++) {
		int n = snprintf(line, sizeof(line), "%lld,%s",
		    (long long)(t0 + reads[i].hour * 3600 + 60 + (int64_t)i),
		    reads[i].key);
		cr_assert_eq(cw_backtest_line(bt, line, (size_t)n), CW_OK);
	}
	cr_assert_eq(cw_backtest_run(bt, &r, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(r.hours, 1);
	cr_assert_eq(r.reads, 4);
	/* Last hour: y 1, z 3 expected; y read twice of 4 reads. */
	const struct cw_backtest_scores *last = &r.method[CW_BT_LAST_HOUR];
	cr_assert_float_eq(last->coverage, 0.5, 1e-9);
	cr_assert_float_eq(last->precision[0], 0.5, 1e-9);
	cr_assert_float_eq(last->recall[0], 1.0 / 3, 1e-9);
	cr_assert_float_eq(last->f1[0], 0.4, 1e-9);
	cr_assert_float_eq(last->precision[1], 0, 1e-9);
	/* Over x y z w: (0-1)^2 + (e^-1)^2 + (1-e^-3)^2 + (0-1)^2. */
	cr_assert_float_eq(last->brier, (2 + exp(-2) + pow(1 - exp(-3), 2)) /
	    4, 1e-9);
	/* A week ago: x 2, y 1 expected. */
	const struct cw_backtest_scores *week = &r.method[CW_BT_WEEK_AGO];
	cr_assert_float_eq(week->coverage, 0.75, 1e-9);
	cr_assert_float_eq(week->precision[0], 1, 1e-9);
	cr_assert_float_eq(week->recall[0], 2.0 / 3, 1e-9);
	cr_assert_float_eq(week->f1[0], 0.8, 1e-9);
	cr_assert_float_eq(week->precision[1], 1, 1e-9);
	cr_assert_float_eq(week->recall[1], 1.0 / 3, 1e-9);
	cr_assert_float_eq(week->brier, (exp(-4) + exp(-2) + 1) / 4, 1e-9);
	/* The model knows x, y and z only: w is a miss for everyone. */
	cr_assert_lt(r.method[CW_BT_MODEL].coverage, 1);
	cw_backtest_free(bt);
}

/* The truth row by hand: the same reads, and a truth file whose keys
 * the budget (twice the 3 keys read) must choose among. */
Test(predict, backtest_truth_row_by_hand)
{
	int64_t t0 = utc(2024, 3, 4, 0, 0);
	struct {
		int hour;
		const char *key;
	} reads[] = {
		{ 0, "x" }, { 0, "x" }, { 0, "y" },
		{ 167, "y" }, { 167, "z" }, { 167, "z" }, { 167, "z" },
		{ 168, "x" }, { 168, "y" }, { 168, "y" }, { 168, "w" },
	};
	static const struct {
		const char *key;
		double expected;
	} truth[] = {
		{ "y", 2 }, { "x", 1 }, { "q", 0.2 }, { "r", 0.1 },
		{ "s", 0.05 }, { "t", 0.01 }, { "w", 0.001 },
	};
	struct cw_backtest *bt;
	struct cw_backtest_report r;
	struct cw_err e;
	char line[64];

	cr_assert_eq(cw_backtest_new(&bt, 3600, &e), CW_OK);
	for (size_t i = 0; i < sizeof(reads) / sizeof(*reads); i++) {
		int n = snprintf(line, sizeof(line), "%lld,%s",
		    (long long)(t0 + reads[i].hour * 3600 + 60 + (int64_t)i),
		    reads[i].key);
		cr_assert_eq(cw_backtest_line(bt, line, (size_t)n), CW_OK);
	}
	for (size_t i = 0; i < sizeof(truth) / sizeof(*truth); i++) {
		int n = snprintf(line, sizeof(line), "%lld,%s,%g",
		    (long long)(t0 + 168 * 3600), truth[i].key,
		    truth[i].expected);
		cr_assert_eq(cw_backtest_truth_line(bt, line, (size_t)n),
		    CW_OK);
	}
	/* Not on the hour, no number, a negative one: not truth lines. */
	cr_assert_eq(cw_backtest_truth_line(bt, "1709510460,x,1", 14),
	    CW_EDATA);
	cr_assert_eq(cw_backtest_truth_line(bt, "1709510400,x", 12), CW_EDATA);
	cr_assert_eq(cw_backtest_truth_line(bt, "1709510400,x,-1", 15),
	    CW_EDATA);
	cr_assert_eq(cw_backtest_truth_malformed(bt), 3);
	cr_assert_eq(cw_backtest_run(bt, &r, &e), CW_OK, "%s", e.msg);
	cr_assert(r.has_truth);
	/* Budget 6 of 7: y x q r s t; w, read once, is left out. */
	const struct cw_backtest_scores *t = &r.method[CW_BT_TRUTH];
	cr_assert_float_eq(t->coverage, 0.75, 1e-9);
	/* Precision and recall at 0.5: y and x named, both read. */
	cr_assert_float_eq(t->precision[0], 1, 1e-9);
	cr_assert_float_eq(t->recall[0], 2.0 / 3, 1e-9);
	/* Brier over the keys the three named or read (x y z w), not the
	 * truth's own q r s t: x e^-2, y e^-4, z 0, w (e^-0.001)^2. */
	cr_assert_float_eq(t->brier, (exp(-2) + exp(-4) + exp(-0.002)) / 4,
	    1e-9);
	/* The three are scored as without a truth. */
	cr_assert_float_eq(r.method[CW_BT_LAST_HOUR].brier, (2 + exp(-2) +
	    pow(1 - exp(-3), 2)) / 4, 1e-9);
	cr_assert_float_eq(r.method[CW_BT_WEEK_AGO].coverage, 0.75, 1e-9);
	cw_backtest_free(bt);
}

/* The truth a generated workload writes is what its draws come from:
 * for every key expected often enough to tell, the reads drawn sit
 * within chance of the sum of its hourly truths. Wide desk, so the
 * calendar days, Monday's mix and the overlap are in the sums too. */
Test(predict, workload_truth_is_what_the_draws_follow)
{
	struct cw_workload_opts wo = { .seed = 11, .weeks = 1,
	    .instruments = "EUR_USD,USD_JPY", .rate_per_hour = 300,
	    .wide = 1, .start_s = utc(2024, 3, 4, 0, 0) };
	struct cw_workload *w;
	struct cw_buf minute = { 0 }, truth = { 0 };
	struct cw_intern keys = { 0 };
	double *expected = calloc(1 << 20, sizeof(*expected));
	uint32_t *drawn = calloc(1 << 20, sizeof(*drawn));
	double z2 = 0, worst = 0;
	size_t tested = 0, weekend_dates = 0;
	struct cw_err e;

	cr_assert(expected != NULL && drawn != NULL);
	cr_assert_eq(cw_workload_open(&w, &wo, &e), CW_OK, "%s", e.msg);
	for (;;) {
		cr_assert_eq(cw_workload_truth(w, &truth, &e), CW_OK);
		for (char *p = truth.data, *end = p + truth.len; p < end;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			char *k = strchr(p, ',') + 1, *c = strchr(k, ',');
			int64_t id = cw_intern_id(&keys, k, (size_t)(c - k), 1);

			cr_assert(id >= 0 && id < (1 << 20));
			expected[id] += strtod(c + 1, NULL);
			p = nl + 1;
		}
		if (cw_workload_next(w, &minute, &e) != CW_OK)
			break;
		for (char *p = minute.data, *end = p + minute.len; p < end;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			char *k = strchr(p, ',') + 1;
			int64_t id = cw_intern_id(&keys, k, (size_t)(nl - k), 1);
			int y, mo, d;

			cr_assert(id >= 0 && id < (1 << 20));
			drawn[id]++;
			sscanf(nl - 10, "%4d-%2d-%2d", &y, &mo, &d);
			weekend_dates += cw_cal_weekday(
			    cw_cal_days_from_civil(y, mo, d)) > 4;
			p = nl + 1;
		}
	}
	for (size_t id = 0; id < keys.n; id++) {
		double z;

		if (expected[id] < 30)
			continue;
		z = (drawn[id] - expected[id]) / sqrt(expected[id]);
		z2 += z * z;
		worst = fmax(worst, fabs(z));
		tested++;
	}
	cr_assert_gt(tested, 200);
	cr_assert_lt(z2 / (double)tested, 1.3, "mean z^2 %.3f over %zu keys",
	    z2 / (double)tested, tested);
	cr_assert_lt(worst, 5, "a key %.1f sd from its truth", worst);
	/* The wide desk reads weekend dates (calendar days back). */
	cr_assert_gt(weekend_dates, 100);
	cw_workload_close(w);
	cw_buf_free(&minute);
	cw_buf_free(&truth);
	cw_intern_free(&keys);
	free(expected);
	free(drawn);
}

/* Reads of pattern (TYPE:INST:GRAN, trading days back) in each weekday
 * hour from 08:00 to 16:59 UTC: per_hour[weekday] reads, spread evenly,
 * for days days from first_day. */
static void
weekday_reads(struct cw_predict *m, int64_t first_day, int days,
    const char *prefix, int back, const int per_hour[5])
{
	for (int64_t day = first_day; day < first_day + days; day++) {
		int wd = cw_cal_weekday(day), y, mo, d;
		char key[64];

		if (wd > 4)
			continue;
		cw_cal_civil_from_days(cw_cal_tday_days(cw_cal_tday(day) -
		    back), &y, &mo, &d);
		snprintf(key, sizeof(key), "%s:%04d-%02d-%02d", prefix, y, mo,
		    d);
		for (int h = 8; h < 17; h++)
			for (int r = 0; r < per_hour[wd]; r++)
				read_key(m, day * 86400 + h * 3600 +
				    r * 3600 / per_hour[wd], key);
	}
}

/* Effect 1: a pattern read once every other day among a group read 40
 * times an hour is forecast near its true rate (1/48 an hour), not as
 * if its one read filled an hour. */
Test(predict, a_rare_pattern_is_forecast_at_its_rate)
{
	static const int busy[5] = { 40, 40, 40, 40, 40 };
	int64_t monday = cw_cal_days_from_civil(2024, 4, 1), t;
	struct cw_pattern_info pi;
	struct cw_predict *m;

	cw_predict_new(&m, NULL);
	for (int64_t day = monday; day < monday + 21; day++) {
		int y, mo, d;
		char key[64];

		weekday_reads(m, day, 1, "a:EUR_USD:H1", 0, busy);
		if ((day - monday) % 2 != 0 || cw_cal_weekday(day) > 4)
			continue;
		cw_cal_civil_from_days(cw_cal_tday_days(cw_cal_tday(day) -
		    100), &y, &mo, &d);
		snprintf(key, sizeof(key), "b:EUR_USD:H1:%04d-%02d-%02d", y,
		    mo, d);
		read_key(m, day * 86400 + 17 * 3600 + 1800, key);
	}
	t = (monday + 21) * 86400 + 12 * 3600;
	cw_predict_advance(m, t);
	cr_assert_eq(cw_predict_pattern(m, "b:EUR_USD:H1:T-100", t, &pi,
	    NULL), CW_OK);
	/* Read on about half the weekdays: ~0.5 a day, and no hour of it
	 * near a read of its own. */
	cr_assert_lt(pi.per_day, 1, "a rare pattern: %.3f reads a day",
	    pi.per_day);
	cr_assert_gt(pi.per_day, 0.15, "a rare pattern: %.3f reads a day",
	    pi.per_day);
	for (int h = 0; h < 24; h++)
		cr_assert_lt(pi.per_hour[h], 0.2, "at %02d: %.3f", h,
		    pi.per_hour[h]);
	cw_predict_free(m);
}

/* Effect 1, the prior: a pattern read once, on the last of three weeks
 * of its group's 360 reads a day, is one read among thousands: its
 * long-run share puts it near one read a fortnight, where its recent
 * rate alone (one read in the last ~50 hours) says one every two days. */
Test(predict, a_pattern_read_once_is_shrunk_to_its_share)
{
	static const int busy[5] = { 40, 40, 40, 40, 40 };
	int64_t monday = cw_cal_days_from_civil(2024, 4, 1), t;
	int64_t last = monday + 18;	/* a Friday */
	const char *key = "b:EUR_USD:H1:2023-06-01";
	char name[CW_PATTERN_MAX];
	struct cw_pattern_info pi;
	struct cw_predict *m;

	cw_predict_new(&m, NULL);
	weekday_reads(m, monday, 18, "a:EUR_USD:H1", 0, busy);
	weekday_reads(m, last, 1, "a:EUR_USD:H1", 0, busy);
	t = last * 86400 + 17 * 3600 + 1800;
	read_key(m, t, key);
	cr_assert_eq(cw_pattern_of_key(key, strlen(key), t, name,
	    sizeof(name), NULL), CW_OK);
	t = (last + 3) * 86400 + 12 * 3600;	/* Monday */
	cw_predict_advance(m, t);
	cr_assert_eq(cw_predict_pattern(m, name, t, &pi, NULL), CW_OK,
	    "the pattern of the key read once");
	cr_assert_lt(pi.per_day, 0.15, "read once: %.3f reads a day",
	    pi.per_day);
	cw_predict_free(m);
}

/* Effect 2, over six weeks: Monday reads the previous trading day (Friday) three times
 * as much as today's; Tuesday to Friday the other way round. One daily
 * profile would forecast the mean both days; the weekday's factor
 * gives each its own. */
Test(predict, mondays_mix_of_trading_days_back)
{
	static const int t1[5] = { 30, 10, 10, 10, 10 };
	static const int t0[5] = { 10, 30, 30, 30, 30 };
	int64_t monday = cw_cal_days_from_civil(2024, 4, 1);
	int64_t next = (monday + 42) * 86400 + 12 * 3600;
	struct cw_pattern_info mon, tue;
	struct cw_predict *m;

	cw_predict_new(&m, NULL);
	for (int64_t day = monday; day < monday + 42; day++)	/* in order */
		for (int h = 8; h < 17; h++) {
			int wd = cw_cal_weekday(day);

			if (wd > 4)
				continue;
			for (int back = 0; back < 2; back++) {
				int n = (back ? t1 : t0)[wd], y, mo, d;
				char key[64];

				cw_cal_civil_from_days(cw_cal_tday_days(
				    cw_cal_tday(day) - back), &y, &mo, &d);
				snprintf(key, sizeof(key),
				    "a:EUR_USD:H1:%04d-%02d-%02d", y, mo, d);
				for (int r = 0; r < n; r++)
					read_key(m, day * 86400 + h * 3600 +
					    r * 3600 / n, key);
			}
		}
	cw_predict_advance(m, next);
	cr_assert_eq(cw_predict_pattern(m, "a:EUR_USD:H1:T-1", next, &mon,
	    NULL), CW_OK);
	cr_assert_eq(cw_predict_pattern(m, "a:EUR_USD:H1:T-1", next + 86400,
	    &tue, NULL), CW_OK);
	cr_assert_float_eq(mon.per_hour[12], 30, 6, "Monday's T-1: %.2f",
	    mon.per_hour[12]);
	cr_assert_float_eq(tue.per_hour[12], 10, 3, "Tuesday's T-1: %.2f",
	    tue.per_hour[12]);
	cr_assert_eq(cw_predict_pattern(m, "a:EUR_USD:H1:T", next, &mon,
	    NULL), CW_OK);
	cr_assert_float_eq(mon.per_hour[12], 10, 3, "Monday's T: %.2f",
	    mon.per_hour[12]);
	cw_predict_free(m);
}

/* Effect 3: EUR_USD read at the London open (08:00 London) and at the
 * New York open (08:00 New York), 20 an hour each, on weekdays from
 * mid-February. On Monday 11 March 2024 New York is on summer time and
 * London not yet: its open is at 12:00 UTC, an hour earlier than the
 * weeks before. A single clock puts one of the two opens at the wrong
 * hour; the pair's parts follow both. */
Test(predict, a_two_session_pair_between_the_clock_changes)
{
	int64_t first = cw_cal_days_from_civil(2024, 2, 12);
	int64_t gap = cw_cal_days_from_civil(2024, 3, 11);
	struct cw_tz tz[2];
	struct cw_pattern_info pi;
	struct cw_predict *m;

	cw_cal_session_tz(CW_SESSION_LONDON, &tz[0]);
	cw_cal_session_tz(CW_SESSION_NEW_YORK, &tz[1]);
	cw_predict_new(&m, NULL);
	for (int64_t day = first; day < gap; day++) {
		int y, mo, d;
		char key[64];

		if (cw_cal_weekday(day) > 4)
			continue;
		cw_cal_civil_from_days(day, &y, &mo, &d);
		snprintf(key, sizeof(key), "a:EUR_USD:H1:%04d-%02d-%02d", y,
		    mo, d);
		for (int64_t h = day * 24; h < day * 24 + 24; h++) {
			int open = 0;

			for (int c = 0; c < 2; c++) {
				struct cw_local l;

				cw_cal_tz_local(&tz[c], h * 3600 + 1800, &l);
				open |= l.hour == 8;
			}
			for (int r = 0; open && r < 20; r++)
				read_key(m, h * 3600 + r * 180, key);
		}
	}
	cw_predict_advance(m, gap * 86400);
	cr_assert_eq(cw_predict_pattern(m, "a:EUR_USD:H1:T", gap * 86400, &pi,
	    NULL), CW_OK);
	cr_assert_str_eq(pi.frame, "london+new_york");
	/* London's open where it was; New York's moved an hour earlier:
	 * most of it at 12:00, little left at 13:00. */
	cr_assert_gt(pi.per_hour[8], 15, "08 UTC: %.2f", pi.per_hour[8]);
	cr_assert_gt(pi.per_hour[12], 10, "12 UTC: %.2f", pi.per_hour[12]);
	cr_assert_lt(pi.per_hour[13], 10, "13 UTC: %.2f", pi.per_hour[13]);
	cw_predict_free(m);
}

/* Sunday's data read on Mondays only, 10 an hour, for three weeks: the
 * D-1 pattern learns from Mondays alone (the days it names a weekend),
 * so the next Monday is forecast at its rate, and a Tuesday not at all. */
Test(predict, a_weekend_dates_pattern_learns_on_its_days)
{
	int64_t first = cw_cal_days_from_civil(2024, 4, 1), next = first + 21;
	struct cw_pattern_info mon, tue;
	struct cw_predict *m;

	cw_predict_new(&m, NULL);
	for (int64_t day = first; day < next; day += 7) {
		int y, mo, d;
		char key[64];

		cw_cal_civil_from_days(day - 1, &y, &mo, &d);
		snprintf(key, sizeof(key), "a:EUR_USD:H1:%04d-%02d-%02d", y, mo,
		    d);
		for (int h = 9; h < 17; h++)
			for (int r = 0; r < 10; r++)
				read_key(m, day * 86400 + h * 3600 + r * 360,
				    key);
	}
	cw_predict_advance(m, next * 86400);
	cr_assert_eq(cw_predict_pattern(m, "a:EUR_USD:H1:D-1", next * 86400,
	    &mon, NULL), CW_OK);
	cr_assert_eq(cw_predict_pattern(m, "a:EUR_USD:H1:D-1", (next + 1) *
	    86400, &tue, NULL), CW_OK);
	cr_assert_float_eq(mon.per_hour[12], 10, 3, "Monday: %.2f",
	    mon.per_hour[12]);
	cr_assert_eq(tue.per_day, 0, "Tuesday: %.3f", tue.per_day);
	cw_predict_free(m);
}

/* Found by fuzzing the import: a number that parses as a double but
 * not as the float or the hour it is stored in (exported as "inf", then
 * refused: the round trip broke), and a name longer than any key (the
 * forecast copied it into a key's buffer). */
Test(predict, import_refuses_what_its_fields_cannot_hold)
{
	struct cw_predict *m = learned_workload(), *bad;
	struct cw_buf csv = { 0 }, edit = { 0 };
	char *line, *f;
	struct cw_err e;
	char name[300];

	cr_assert_eq(cw_predict_export(m, &csv, &e), CW_OK);
	cw_buf_append(&csv, "", 1, NULL);
	/* The first pattern line, its fields by number. */
	line = strstr(csv.data, "\npattern,") + 1;
	for (int k = 0; k < 5; k++) {
		const char *repl[] = { "1e39", "9223372036854775807",
		    "1.5", "-1e300", NULL };
		int field[] = { 6, 2, 3, 7, 0 };

		if (repl[k] == NULL)
			break;
		edit.len = 0;
		cw_buf_append(&edit, csv.data, (size_t)(line - csv.data), NULL);
		f = line;
		for (int c = 0; c < field[k]; c++)
			f = strchr(f, ',') + 1;
		cw_buf_append(&edit, line, (size_t)(f - line), NULL);
		cw_buf_append(&edit, repl[k], strlen(repl[k]), NULL);
		f += strcspn(f, ",");
		cw_buf_append(&edit, f, strlen(f), NULL);
		cr_assert_eq(cw_predict_import(&bad, edit.data, edit.len, &e),
		    CW_EDATA, "%s in field %d", repl[k], field[k]);
	}
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	edit.len = 0;
	cw_buf_append(&edit, csv.data, (size_t)(line - csv.data), NULL);
	cw_buf_append(&edit, "pattern,", 8, NULL);
	cw_buf_append(&edit, name, strlen(name), NULL);
	f = strchr(strchr(line, ',') + 1, ',');
	cw_buf_append(&edit, f, strlen(f), NULL);
	cr_assert_eq(cw_predict_import(&bad, edit.data, edit.len, &e),
	    CW_EDATA);
	cw_buf_free(&csv);
	cw_buf_free(&edit);
	cw_predict_free(m);
}

/* A saved state file's bytes, and where its checksum sits: the 8 bytes
 * that, zeroed, hash to themselves. It ends the header, so the patterns
 * follow it. */
static size_t
saved_state(struct cw_predict *m, const char *path, struct cw_buf *f)
{
	uint64_t was;
	size_t sum_at = 0;
	struct cw_err e;
	int fd;

	cr_assert_eq(cw_predict_save(m, path, &e), CW_OK, "%s", e.msg);
	cr_assert_geq(fd = open(path, O_RDONLY), 0);
	f->len = 0;
	cr_assert_eq(cw_buf_read_fd(f, fd, path, NULL), CW_OK);
	close(fd);
	for (size_t off = 8; off + 8 <= f->len && sum_at == 0; off += 8) {
		memcpy(&was, f->data + off, 8);
		memset(f->data + off, 0, 8);
		if (cw_hash(f->data, f->len) == was)
			sum_at = off;
		memcpy(f->data + off, &was, 8);
	}
	cr_assert_gt(sum_at, 0);
	return sum_at;
}

/* Write f's first len bytes to path, with the checksum at sum_at made
 * right for them when fix_sum: what load refuses is then its fields. */
static void
write_state(const char *path, struct cw_buf *f, size_t len, size_t sum_at,
    int fix_sum)
{
	uint64_t sum;
	int fd;

	if (fix_sum) {
		memset(f->data + sum_at, 0, 8);
		sum = cw_hash(f->data, len);
		memcpy(f->data + sum_at, &sum, 8);
	}
	cr_assert_geq(fd = open(path, O_WRONLY | O_TRUNC), 0);
	cr_assert_eq(write(fd, f->data, len), (ssize_t)len);
	close(fd);
}

/* Found by fuzzing the state file with its checksum made right: a
 * frame number past the frames (read out of bounds), hours past any
 * clock (overflow). A checksum says a file is whole, not that this
 * library made it. */
Test(predict, state_file_with_a_right_checksum_and_wrong_fields,
    .init = tmpdir_setup, .fini = tmpdir_teardown)
{
	struct cw_predict *m = learned_workload(), *back;
	struct cw_buf f = { 0 };
	size_t sum_at;
	char path[600];
	struct cw_err e;
	uint32_t frame = 99;

	snprintf(path, sizeof(path), "%s/state", tenv.dir);
	sum_at = saved_state(m, path, &f);
	memcpy(f.data + sum_at + 8 + offsetof(struct cw_pat, frame), &frame,
	    4);
	write_state(path, &f, f.len, sum_at, 1);
	cr_assert_eq(cw_predict_load(&back, path, &e), CW_EDATA);
	cr_assert(strstr(e.msg, "patterns out of range") != NULL, "%s", e.msg);
	cw_buf_free(&f);
	cw_predict_free(m);
}

/* Each way a state file can be wrong, named: what an operator reads
 * before rebuilding it. */
Test(predict, state_file_damage_named, .init = tmpdir_setup,
    .fini = tmpdir_teardown)
{
	struct cw_predict *m = learned_workload(), *back;
	struct cw_buf f = { 0 };
	size_t sum_at, pats;
	char path[600];
	struct cw_err e;
	int32_t group;
	uint32_t version;
	static const struct {
		const char *what;	/* the damage */
		const char *says;	/* in the message */
	} cases[] = {
		{ "short", "too short" },
		{ "magic", "not a cw-predict state file" },
		{ "version", "another version" },
		{ "cut", "truncated" },
		{ "names", "pattern names" },
		{ "group", "pattern groups" },
	};

	snprintf(path, sizeof(path), "%s/state", tenv.dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *what = cases[i].what;

		sum_at = saved_state(m, path, &f);
		pats = sum_at + 8;
		if (strcmp(what, "short") == 0)
			write_state(path, &f, 10, sum_at, 0);
		else if (strcmp(what, "magic") == 0) {
			f.data[0] ^= 0x20;
			write_state(path, &f, f.len, sum_at, 1);
		} else if (strcmp(what, "version") == 0) {
			memcpy(&version, f.data + 8, 4);
			version++;
			memcpy(f.data + 8, &version, 4);
			write_state(path, &f, f.len, sum_at, 1);
		} else if (strcmp(what, "cut") == 0)
			write_state(path, &f, f.len - 1, sum_at, 1);
		else if (strcmp(what, "names") == 0) {
			/* The last name's NUL: the names run off the end. */
			f.data[f.len - 1] = 'x';
			write_state(path, &f, f.len, sum_at, 1);
		} else {
			/* The first pattern's group: past the patterns. */
			group = 1 << 30;
			memcpy(f.data + pats + offsetof(struct cw_pat, group),
			    &group, sizeof(group));
			write_state(path, &f, f.len, sum_at, 1);
		}
		cr_assert_eq(cw_predict_load(&back, path, &e), CW_EDATA, "%s",
		    what);
		cr_assert(strstr(e.msg, cases[i].says) != NULL, "%s: %s", what,
		    e.msg);
		cr_assert(strstr(e.msg, "--rebuild") != NULL, "%s: %s", what,
		    e.msg);
	}
	cw_buf_free(&f);
	cw_predict_free(m);
}

/* The backtest's window: a minute to a week, nothing else. */
Test(predict, backtest_window_bounds)
{
	struct cw_backtest *bt = NULL;

	cr_assert_eq(cw_backtest_new(&bt, 59, NULL), CW_EUSAGE);
	cr_assert_eq(cw_backtest_new(&bt, 7 * 86400 + 1, NULL), CW_EUSAGE);
	cr_assert_eq(cw_backtest_new(&bt, 60, NULL), CW_OK);
	cw_backtest_free(bt);
	cr_assert_eq(cw_backtest_new(&bt, 7 * 86400, NULL), CW_OK);
	cw_backtest_free(bt);
}

/* csv with field f of its first line of kind (counted from the end when
 * f < 0) set to value, or the line's last field dropped (value NULL);
 * which line that was into *lineno. */
static char *
export_with(const char *csv, const char *kind, int f, const char *value,
    size_t *lineno)
{
	size_t klen = strlen(kind), n = 1;
	const char *line = csv;
	char *out = malloc(strlen(csv) + 64), *o = out;
	const char *start[300], *stop[300];
	int nf = 0;

	cr_assert_not_null(out);
	while (strncmp(line, kind, klen) != 0 || line[klen] != ',') {
		line = strchr(line, '\n') + 1;
		n++;
	}
	*lineno = n;
	for (const char *p = line; nf < 300; nf++) {
		start[nf] = p;
		p += strcspn(p, ",\n");
		stop[nf] = p;
		if (*p != ',')
			break;
		p++;
	}
	nf++;
	if (f < 0)
		f += nf;
	memcpy(o, csv, (size_t)(line - csv));
	o += line - csv;
	for (int i = 0; i < nf - (value == NULL); i++) {
		const char *v = i == f && value != NULL ? value : start[i];
		size_t vl = i == f && value != NULL ? strlen(value) :
		    (size_t)(stop[i] - start[i]);

		if (i > 0)
			*o++ = ',';
		memcpy(o, v, vl);
		o += vl;
	}
	strcpy(o, stop[nf - 1]);
	return out;
}

/* Every field an import checks, wrong in turn: the line is named. */
Test(predict, an_import_names_the_line_of_each_wrong_field)
{
	static const struct {
		const char *kind;
		int field;
		const char *value;	/* NULL: the last field dropped */
	} cases[] = {
		{ "pattern", 0, "bogus" }, { "pattern", 2, "x" },
		{ "pattern", 3, "" }, { "pattern", 4, "nan" },
		{ "pattern", 5, "1e39" }, { "pattern", 6, "" },
		{ "pattern", -2, "70000" }, { "pattern", -2, "1.5" },
		{ "pattern", -2, "-1" }, { "pattern", -1, "sideways" },
		{ "pattern", 0, NULL }, { "model", 6, "-1" },
		{ "model", 6, "x" }, { "group", 1, "EUR_USD" },
	};
	struct cw_predict *m = learned_workload(), *bad;
	struct cw_buf csv = { 0 };
	struct cw_err e;
	char want[96];

	cr_assert_eq(cw_predict_export(m, &csv, &e), CW_OK);
	cr_assert_eq(cw_buf_append(&csv, "", 1, &e), CW_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t line;
		char *text = export_with(csv.data, cases[i].kind,
		    cases[i].field, cases[i].value, &line);

		cr_assert_eq(cw_predict_import(&bad, text, strlen(text), &e),
		    CW_EDATA, "case %zu", i);
		snprintf(want, sizeof(want), "import line %zu: not a line of "
		    "cw-predict export", line);
		cr_assert_str_eq(e.msg, want, "case %zu", i);
		free(text);
	}
	cw_buf_free(&csv);
	cw_predict_free(m);
}
