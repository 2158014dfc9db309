#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "alog_int.h"
#include "predict_int.h"

TestSuite(alog, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 60);

Test(alog, lines_are_ts_key_level_latency)
{
	char p[PATH_MAX];
	struct cw_alog *log;
	struct cw_buf text = { 0 };
	char *s;

	cr_assert_eq(cw_alog_open(&log, tpath(p, sizeof(p), "d/access.log"),
	    1 << 20, 1, 0600, NULL), CW_OK);
	cr_assert_eq(cw_alog_append(log, 1704067200123456789LL, "a:b", 3,
	    CW_LEVEL_L1, 2500, NULL), CW_OK);
	cr_assert_eq(cw_alog_append(log, 1704067201000000000LL, "x,\"y", 4,
	    CW_LEVEL_NONE, 1234567, NULL), CW_OK);
	cw_alog_close(log);
	s = file_text(p, &text);
	cr_assert_str_eq(s, "1704067200.123,a:b,l1,2\n"
	    "1704067201.000,\"x,\"\"y\",none,1234\n");
	cw_buf_free(&text);
}

/* Numbers of every length are written whole: the digits go two at a
 * time, and a number of odd length starts with one. */
Test(alog, numbers_of_every_length_are_written_whole)
{
	static const int64_t us[] = { 0, 7, 10, 99, 100, 101, 9999, 12345,
	    100000000, 18446744073709LL };
	char p[PATH_MAX], want[4096] = "", line[64];
	struct cw_alog *log;
	struct cw_buf text = { 0 };
	char *s;

	cr_assert_eq(cw_alog_open(&log, tpath(p, sizeof(p), "access.log"),
	    1 << 20, 1, 0600, NULL), CW_OK);
	for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
		/* A second apart, so that each is its own line. */
		cr_assert_eq(cw_alog_append(log, (int64_t)(i + 1) * 1000000000,
		    "k", 1, CW_LEVEL_L1, us[i] * 1000, NULL), CW_OK);
		snprintf(line, sizeof(line), "%zu.000,k,l1,%lld\n", i + 1,
		    (long long)us[i]);
		strcat(want, line);
	}
	cw_alog_close(log);
	s = file_text(p, &text);
	cr_assert_str_eq(s, want);
	cw_buf_free(&text);
}

/* The lookups of a key at a level within one second are one line: the
 * first one's time, the mean latency, the count; a lone lookup's line
 * has no count; a new second, or a flush, starts new lines. */
Test(alog, a_seconds_lookups_of_a_key_are_one_line)
{
	const int64_t t = 1704067200000000000LL;
	char p[PATH_MAX];
	struct cw_alog *log;
	struct cw_buf text = { 0 };
	char *s;

	cr_assert_eq(cw_alog_open(&log, tpath(p, sizeof(p), "a.log"),
	    1 << 20, 1, 0600, NULL), CW_OK);
	cw_alog_append(log, t + 100000000, "k:1", 3, CW_LEVEL_L1, 1000, NULL);
	cw_alog_append(log, t + 200000000, "k:2", 3, CW_LEVEL_L2, 9000, NULL);
	cw_alog_append(log, t + 300000000, "k:1", 3, CW_LEVEL_L1, 2000, NULL);
	cw_alog_append(log, t + 400000000, "k:1", 3, CW_LEVEL_L2, 7000, NULL);
	cw_alog_append(log, t + 999000000, "k:1", 3, CW_LEVEL_L1, 6000, NULL);
	cw_alog_append(log, t + 1000000000, "k:1", 3, CW_LEVEL_L1, 5000, NULL);
	cr_assert_eq(cw_alog_flush(log, NULL), CW_OK);
	cw_alog_append(log, t + 1500000000, "k:1", 3, CW_LEVEL_L1, 4000, NULL);
	cw_alog_close(log);
	s = file_text(p, &text);
	cr_assert_str_eq(s, "1704067200.100,k:1,l1,3,3\n"
	    "1704067200.200,k:2,l2,9\n"
	    "1704067200.400,k:1,l2,7\n"
	    "1704067201.000,k:1,l1,5\n"
	    "1704067201.500,k:1,l1,4\n");
	cw_buf_free(&text);
}

/* More distinct keys in a second than the table holds: written out as
 * it fills, none lost, each counted once. */
Test(alog, a_full_second_is_written_out_not_lost)
{
	char p[PATH_MAX], k[32];
	struct cw_alog *log;
	struct cw_buf text = { 0 };
	size_t lines = 0;
	char *s;

	cr_assert_eq(cw_alog_open(&log, tpath(p, sizeof(p), "f.log"),
	    1 << 30, 1, 0600, NULL), CW_OK);
	for (int i = 0; i < 10000; i++) {
		snprintf(k, sizeof(k), "key:%d", i);
		cr_assert_eq(cw_alog_append(log, 1704067200000000000LL, k,
		    strlen(k), CW_LEVEL_L1, 1000, NULL), CW_OK);
	}
	cw_alog_close(log);
	s = file_text(p, &text);
	for (size_t i = 0; i < text.len; i++)
		lines += s[i] == '\n';
	cr_assert_eq(lines, 10000);
	cr_assert_not_null(strstr(s, "\n1704067200.000,key:9999,l1,1\n"));
	cr_assert_not_null(strstr(s, "1704067200.000,key:0,l1,1\n"));
	cw_buf_free(&text);
}

/* A line's reads: the count of the log's five-field form, 1 in every
 * other form, a trace's size or a stray column never taken for one. */
Test(alog, readers_take_the_count_of_the_five_field_form_only)
{
	static const struct { const char *line; uint32_t reads; } cases[] = {
		{ "1704067200.100,k:1,l1,3,3", 3 },
		{ "1704067200.100,\"k,1\",none,3,12", 12 },
		{ "1704067200.100,k:1,l1,3", 1 },
		{ "1704067200,k:1,4096", 1 },
		{ "1704067200,k:1", 1 },
		{ "1704067200,k:1,l1,3,0", 1 },
		{ "1704067200,k:1,l1,3,x", 1 },
		{ "1704067200,k:1,L1,3,7", 1 },
		{ "1704067200,k:1,l1,,7", 1 },
		{ "1704067200,k:1,l1,3,7,8", 1 },
		{ "1704067200,k:1,l2,3,1000000", CW_ALOG_MAX_COUNT },
	};
	/* More than a writer puts on a line: a few bytes must not stand
	 * for gigabytes of replayed reads (the trace fuzzer's find). */
	static const char *const too_many[] = {
		"1704067200,k:1,l2,3,1000001",
		"1704067200,k:1,l2,3,4294967295",
		"1704067200,k:1,l1,3,99999999999999999999999",
	};
	struct cw_log_line ll;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(cw_predict_parse_line(cases[i].line,
		    strlen(cases[i].line), &ll), CW_OK, "%s", cases[i].line);
		cr_expect_eq(ll.reads, cases[i].reads, "%s: %u", cases[i].line,
		    ll.reads);
	}
	for (size_t i = 0; i < sizeof(too_many) / sizeof(too_many[0]); i++)
		cr_expect_eq(cw_predict_parse_line(too_many[i],
		    strlen(too_many[i]), &ll), CW_EDATA, "%s", too_many[i]);
}

/* The writer never puts more than CW_ALOG_MAX_COUNT lookups on a line:
 * the next one starts a line of its own. */
Test(alog, a_line_stands_for_at_most_the_readers_bound)
{
	const int64_t t = 1704067200000000000LL;
	char p[PATH_MAX];
	struct cw_alog *log;
	struct cw_buf text = { 0 };
	char *s;

	cr_assert_eq(cw_alog_open(&log, tpath(p, sizeof(p), "m.log"),
	    1 << 20, 1, 0600, NULL), CW_OK);
	for (uint32_t i = 0; i < CW_ALOG_MAX_COUNT + 3; i++)
		cr_assert_eq(cw_alog_append(log, t, "k:1", 3, CW_LEVEL_L1, 2000,
		    NULL), CW_OK);
	cw_alog_close(log);
	s = file_text(p, &text);
	cr_assert_str_eq(s, "1704067200.000,k:1,l1,2,1000000\n"
	    "1704067200.000,k:1,l1,2,3\n");
	cw_buf_free(&text);
}

/* What the log writes, the readers read back: a quoted key is the key. */
Test(alog, every_reader_parses_the_keys_the_log_writes)
{
	static const struct { const char *line, *key, *rest; } ok[] = {
		{ "1704067201.000,\"x,\"\"y\",none,1234", "x,\"y", ",none,1234" },
		{ "1704067200.123,a:b,l1,2\r", "a:b", ",l1,2" },
		{ "1704067200,a:b", "a:b", "" },
		{ "1704067200,\"a,b\"", "a,b", "" },
	};
	static const char *const bad[] = {
		"1704067200,\"a,b", "1704067200,\"a\"b,l1,2", ",a", "x,a",
	};
	struct cw_log_line ll;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(cw_predict_parse_line(ok[i].line,
		    strlen(ok[i].line), &ll), CW_OK, "%s", ok[i].line);
		cr_expect_eq(ll.klen, strlen(ok[i].key), "%s", ok[i].line);
		cr_expect_arr_eq(ll.key, ok[i].key, ll.klen, "%s", ok[i].line);
		cr_expect_eq(ll.rest_len, strlen(ok[i].rest), "%s", ok[i].line);
		cr_expect_arr_eq(ll.rest, ok[i].rest, ll.rest_len);
	}
	cr_expect_eq(ll.ts_ms, 1704067200000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(cw_predict_parse_line(bad[i], strlen(bad[i]), &ll),
		    CW_EDATA, "%s", bad[i]);
}

Test(alog, many_processes_never_interleave_lines)
{
	char p[PATH_MAX], *s, *line, *save;
	struct cw_buf text = { 0 };
	pid_t pids[4];
	int status, lines = 0;

	tpath(p, sizeof(p), "shared.log");
	for (int c = 0; c < 4; c++) {
		if ((pids[c] = fork()) == 0) {
			struct cw_alog *log;
			char key[64];

			if (cw_alog_open(&log, p, 1ull << 40, 1, 0600, NULL) != CW_OK)
				_exit(3);
			for (int i = 0; i < 20000; i++) {
				snprintf(key, sizeof(key), "proc%d:key%d", c, i);
				cw_alog_append(log, 1704067200000000000LL, key,
				    strlen(key), CW_LEVEL_L3, 1000, NULL);
			}
			cw_alog_close(log);
			_exit(0);
		}
	}
	for (int c = 0; c < 4; c++) {
		cr_assert_eq(waitpid(pids[c], &status, 0), pids[c]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = file_text(p, &text);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		int c, i;

		cr_assert_eq(sscanf(line, "1704067200.000,proc%d:key%d,l3,1",
		    &c, &i), 2, "mangled line: %s", line);
		lines++;
	}
	cr_assert_eq(lines, 80000);
	cw_buf_free(&text);
}

Test(alog, rotates_past_max_size)
{
	char p[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX];
	struct cw_alog *log;

	tpath(p, sizeof(p), "r.log");
	cr_assert_eq(cw_alog_open(&log, p, 1000, 2, 0600, NULL), CW_OK);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 60; i++) {	/* > 1000 bytes */
			char k[32];

			snprintf(k, sizeof(k), "some:key:%d", i);
			cw_alog_append(log, 1, k, strlen(k), CW_LEVEL_L1, 1,
			    NULL);
		}
		cr_assert_eq(cw_alog_flush(log, NULL), CW_OK);
	}
	cw_alog_close(log);
	cr_assert_eq(access(tpath(p1, sizeof(p1), "r.log.1"), F_OK), 0);
	cr_assert_eq(access(tpath(p2, sizeof(p2), "r.log.2"), F_OK), 0);
	cr_assert_neq(access(tpath(p2, sizeof(p2), "r.log.3"), F_OK), 0);
}
