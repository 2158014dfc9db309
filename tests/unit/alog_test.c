#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(alog, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 60);

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 24);

	cr_assert_not_null(f);
	*n = fread(s, 1, (1 << 24) - 1, f);
	fclose(f);
	return s;
}

Test(alog, lines_are_ts_key_level_latency)
{
	char p[PATH_MAX];
	struct cw_alog *log;
	size_t n;
	char *s;

	cr_assert_eq(cw_alog_open(&log, tpath(p, sizeof(p), "d/access.log"),
	    1 << 20, 1, 0600, NULL), CW_OK);
	cr_assert_eq(cw_alog_append(log, 1704067200123456789LL, "a:b", 3,
	    CW_LEVEL_L1, 2500, NULL), CW_OK);
	cr_assert_eq(cw_alog_append(log, 1704067201000000000LL, "x,\"y", 4,
	    CW_LEVEL_NONE, 1234567, NULL), CW_OK);
	cw_alog_close(log);
	s = slurp(p, &n);
	cr_assert_str_eq(s, "1704067200.123,a:b,l1,2\n"
	    "1704067201.000,\"x,\"\"y\",none,1234\n");
	free(s);
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
	pid_t pids[4];
	size_t n;
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
	s = slurp(p, &n);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		int c, i;

		cr_assert_eq(sscanf(line, "1704067200.000,proc%d:key%d,l3,1",
		    &c, &i), 2, "mangled line: %s", line);
		lines++;
	}
	cr_assert_eq(lines, 80000);
	free(s);
}

Test(alog, rotates_past_max_size)
{
	char p[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX];
	struct cw_alog *log;

	tpath(p, sizeof(p), "r.log");
	cr_assert_eq(cw_alog_open(&log, p, 1000, 2, 0600, NULL), CW_OK);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 60; i++)	/* > 1000 bytes */
			cw_alog_append(log, 1, "some:key", 8, CW_LEVEL_L1, 1,
			    NULL);
		cr_assert_eq(cw_alog_flush(log, NULL), CW_OK);
	}
	cw_alog_close(log);
	cr_assert_eq(access(tpath(p1, sizeof(p1), "r.log.1"), F_OK), 0);
	cr_assert_eq(access(tpath(p2, sizeof(p2), "r.log.2"), F_OK), 0);
	cr_assert_neq(access(tpath(p2, sizeof(p2), "r.log.3"), F_OK), 0);
}
