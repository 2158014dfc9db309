#include <sys/stat.h>
#include <time.h>

#include "fill_int.h"
#include "helpers.h"
#include "l1_int.h"

TestSuite(fill, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 30);

/*
 * An exec source that answers "v:KEY", counts its calls in a file, fails
 * (exit 3) the call numbered in the file "fail_at", and sleeps "slow"
 * seconds when that file exists: a source that fails the nth call, as
 * SQLite's test_vfs fails the nth I/O.
 */
static void
open_fill(struct cw_cfg *cfg, struct cw_fill **f, int64_t *clock_ns)
{
	char p[900];
	struct cw_fill_opts o = { 0 };
	struct cw_err e;
	FILE *s;

	(void)clock_ns;
	setenv("HOME", tenv.dir, 1);
	unsetenv("CW_CONFIG");
	unsetenv("CW_L1_FILE");
	unsetenv("CW_SOURCE");
	unsetenv("CW_REDIS_URL");
	setenv("XDG_CONFIG_HOME", tenv.dir, 1);
	cr_assert_eq(cw_cfg_load(cfg, NULL, NULL), CW_OK);
	tpath(cfg->l1_file, sizeof(cfg->l1_file), "l1");
	s = fopen(tpath(p, sizeof(p), "src"), "w");
	fprintf(s, "#!/bin/sh\ncd '%s'\necho x >>calls\n"
	    "n=$(wc -l <calls)\n"
	    "[ -e fail_at ] && [ \"$n\" -eq \"$(cat fail_at)\" ] && exit 3\n"
	    "[ -e slow ] && sleep \"$(cat slow)\"\n"
	    "case $1 in missing:*) exit 1;; esac\n"
	    "printf 'v:%%s' \"$1\"\n", tenv.dir);
	fclose(s);
	chmod(p, 0700);
	snprintf(cfg->source, sizeof(cfg->source), "exec:%s", p);
	o.cfg = cfg;
	o.clock = cw_clock_system();
	cr_assert_eq(cw_fill_open(f, &o, &e), CW_OK, "%s", e.msg);
}

static void
put(const char *name, const char *text)
{
	char p[900];
	FILE *f = fopen(tpath(p, sizeof(p), name), "w");

	fputs(text, f);
	fclose(f);
}

static int
calls(void)
{
	char p[PATH_MAX], line[16];
	FILE *f = fopen(tpath(p, sizeof(p), "calls"), "r");
	int n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n++;
	if (f != NULL)
		fclose(f);
	return n;
}

Test(fill, the_nth_call_failing_fails_that_key_alone_and_fills_nothing)
{
	struct cw_cfg cfg;
	struct cw_fill *f;
	struct cw_l1_opts lo = { 0 };
	struct cw_l1 *l1;
	struct cw_buf vals[5] = { { 0 } }, b = { 0 };
	char keys[5][48];

	open_fill(&cfg, &f, NULL);
	put("fail_at", "3\n");
	for (int i = 0; i < 5; i++) {
		struct cw_fill_key k = { 0 };

		snprintf(keys[i], sizeof(keys[i]), "t:I:G:2024-01-0%d", i + 1);
		k.key = keys[i];
		k.klen = strlen(keys[i]);
		k.val = &vals[i];
		cw_fill_run(f, &k);
		if (i == 2) {
			cr_assert_eq(k.rc, CW_EUNAVAIL, "the third call fails");
			cr_assert(strstr(k.err.msg, "exit 3") != NULL, "%s",
			    k.err.msg);
			cr_assert_eq(k.filled, 0, "nothing filled");
			cr_assert_eq(vals[i].len, 0);
		} else {
			cr_assert_eq(k.rc, CW_OK, "key %d: %s", i, k.err.msg);
			cr_assert_eq(k.level, CW_LEVEL_L3);
			cr_assert_eq(k.filled, CW_FILL_L1);
		}
	}
	cw_fill_close(f);
	lo.path = cfg.l1_file;
	lo.clock = cw_clock_system();
	cr_assert_eq(cw_l1_open(&l1, &lo, NULL), CW_OK);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(cw_l1_get(l1, keys[i], strlen(keys[i]), &b, NULL,
		    NULL), i == 2 ? CW_ENOTFOUND : CW_OK, "key %d in L1", i);
	cw_l1_close(l1);
	for (int i = 0; i < 5; i++)
		cw_buf_free(&vals[i]);
	cw_buf_free(&b);
}

Test(fill, many_keys_in_flight_at_once)
{
	struct cw_cfg cfg;
	struct cw_fill *f;
	struct cw_fill_key k[6], *done[6];
	struct cw_buf vals[6] = { { 0 } };
	char keys[6][48];
	struct timespec t0, t1;
	size_t ended = 0;
	double secs;

	open_fill(&cfg, &f, NULL);
	put("slow", "0.4\n");
	memset(k, 0, sizeof(k));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 6; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%s:I:G:2024-01-0%d",
		    i == 5 ? "missing" : "t", i + 1);
		k[i].key = keys[i];
		k[i].klen = strlen(keys[i]);
		k[i].val = &vals[i];
		cw_fill_begin(f, &k[i]);
		cr_assert_eq(cw_fill_step(f, &k[i]), CW_FILL_FETCHING);
	}
	cr_assert_eq(cw_fill_in_flight(f), 6);
	while (ended < 6)
		ended += cw_fill_poll(f, -1, done + ended, 6 - ended);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_lt(secs, 6 * 0.4 * 0.75, "six 0.4 s fetches overlapped "
	    "(%.2f s)", secs);
	cr_assert_eq(calls(), 6);
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(k[i].state, CW_FILL_DONE);
		cr_assert_eq(k[i].rc, i == 5 ? CW_ENOTFOUND : CW_OK);
		if (i < 5)
			cr_assert_eq(vals[i].len, strlen(keys[i]) + 2);
	}
	cw_fill_close(f);
	for (int i = 0; i < 6; i++)
		cw_buf_free(&vals[i]);
}

Test(fill, an_endless_command_is_killed_at_the_value_cap)
{
	struct cw_cfg cfg;
	struct cw_fill *f;
	struct cw_fill_opts o = { 0 };
	struct cw_fill_key k = { 0 };
	struct cw_buf v = { 0 };
	char p[900];
	FILE *s;

	open_fill(&cfg, &f, NULL);
	cw_fill_close(f);
	s = fopen(tpath(p, sizeof(p), "yes"), "w");
	fputs("#!/bin/sh\nexec yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", s);
	fclose(s);
	chmod(p, 0700);
	snprintf(cfg.source, sizeof(cfg.source), "exec:%s", p);
	cfg.source_max_value_bytes = 1 << 20;
	o.cfg = &cfg;
	o.clock = cw_clock_system();
	cr_assert_eq(cw_fill_open(&f, &o, NULL), CW_OK);
	k.key = "t:I:G:2024-01-01";
	k.klen = strlen(k.key);
	k.val = &v;
	cw_fill_run(f, &k);
	cr_assert_eq(k.rc, CW_ETOOBIG);
	cr_assert(strstr(k.err.msg, "more than 1048576 bytes") != NULL, "%s",
	    k.err.msg);
	cr_assert_eq(v.len, 0);
	cr_assert_lt(v.cap, 4u << 20, "memory stayed bounded (%zu)", v.cap);
	cw_fill_close(f);
	cw_buf_free(&v);
}

Test(fill, the_command_does_not_see_the_backends_passwords)
{
	struct cw_cfg cfg;
	struct cw_fill *f;
	struct cw_fill_opts o = { 0 };
	struct cw_fill_key k = { 0 };
	struct cw_buf v = { 0 };
	char p[900];
	FILE *s;

	open_fill(&cfg, &f, NULL);
	cw_fill_close(f);
	s = fopen(tpath(p, sizeof(p), "env"), "w");
	fputs("#!/bin/sh\nenv\n", s);
	fclose(s);
	chmod(p, 0700);
	snprintf(cfg.source, sizeof(cfg.source), "exec:%s", p);
	setenv("CW_REDIS_PASSWORD", "redis-secret", 1);
	setenv("CW_CLICKHOUSE_PASSWORD", "ch-secret", 1);
	setenv("CW_VISIBLE", "yes", 1);
	o.cfg = &cfg;
	o.clock = cw_clock_system();
	cr_assert_eq(cw_fill_open(&f, &o, NULL), CW_OK);
	k.key = "t:I:G:2024-01-01";
	k.klen = strlen(k.key);
	k.val = &v;
	cw_fill_run(f, &k);
	cr_assert_eq(k.rc, CW_OK, "%s", k.err.msg);
	cr_assert(memmem(v.data, v.len, "CW_VISIBLE=yes", 14) != NULL);
	cr_assert(memmem(v.data, v.len, "secret", 6) == NULL,
	    "%.*s", (int)v.len, v.data);
	cw_fill_close(f);
	cw_buf_free(&v);
}
