#include <sys/stat.h>

#include "helpers.h"
#include "hist_int.h"

TestSuite(hier, .init = tmpdir_setup, .fini = tmpdir_teardown);

/* The hierarchy of cfg as a reader opens it, on the test's clock. */
static struct cw_hier *
hier_of(struct cw_cfg *cfg, int no_fill, int log_access)
{
	struct cw_hier_opts o = { 0 };
	struct cw_hier *h;
	struct cw_err e;

	o.cfg = cfg;
	o.clock = cw_clock_manual(&tenv.now_ns);
	o.no_fill = no_fill;
	o.log_access = log_access;
	cr_assert_eq(cw_hier_open(&h, &o, &e), CW_OK, "%s", e.msg);
	return h;
}

/* A CSV source of one key, t:I:G:2024-01-01, and an L1 file of the
 * test's own: their hierarchy, logging every access. */
static struct cw_hier *
open_hier(struct cw_cfg *cfg, int no_fill)
{
	char p[PATH_MAX];
	FILE *f;

	setenv("HOME", tenv.dir, 1);
	unsetenv("CW_CONFIG");
	unsetenv("CW_L1_FILE");
	unsetenv("CW_SOURCE");
	setenv("XDG_CONFIG_HOME", tenv.dir, 1);
	cr_assert_eq(cw_cfg_load(cfg, NULL, NULL), CW_OK);
	tpath(cfg->l1_file, sizeof(cfg->l1_file), "l1");
	tpath(cfg->log_file, sizeof(cfg->log_file), "access.log");
	mkdir(tpath(p, sizeof(p), "t"), 0700);
	mkdir(tpath(p, sizeof(p), "t/I"), 0700);
	f = fopen(tpath(p, sizeof(p), "t/I/G.csv"), "w");
	fputs("ts,v\n2024-01-01T00:00:00Z,one\n", f);
	fclose(f);
	snprintf(cfg->source, sizeof(cfg->source), "csv:%s", tenv.dir);
	return hier_of(cfg, no_fill, 1);
}

Test(hier, miss_fills_l1_then_l1_answers)
{
	struct cw_cfg cfg;
	struct cw_hier *h = open_hier(&cfg, 0);
	struct cw_hier_result r;
	struct cw_buf b = { 0 };
	const char *k = "t:I:G:2024-01-01";

	cr_assert_eq(cw_hier_get(h, k, strlen(k), &b, &r, NULL), CW_OK);
	cr_assert_eq(r.level, CW_LEVEL_L3);
	cr_assert_eq(cw_hier_get(h, k, strlen(k), &b, &r, NULL), CW_OK);
	cr_assert_eq(r.level, CW_LEVEL_L1);
	cr_assert_arr_eq(b.data, "ts,v\n2024-01-01T00:00:00Z,one\n", b.len);
	/* L1's TTL passes: the source answers again. */
	tenv.now_ns += 301 * 1000000000LL;
	cr_assert_eq(cw_hier_get(h, k, strlen(k), &b, &r, NULL), CW_OK);
	cr_assert_eq(r.level, CW_LEVEL_L3);
	cw_hier_close(h);
	cw_buf_free(&b);
}

/* The counters of cfg's L1 file, read after the hierarchy has closed
 * (free them). */
static struct cw_l1_stats *
stats_of(const struct cw_cfg *cfg)
{
	struct cw_l1_stats *st = malloc(sizeof(*st));
	struct cw_l1_opts lo = { 0 };
	struct cw_l1 *l1;

	cr_assert_not_null(st);
	lo.path = cfg->l1_file;
	lo.clock = cw_clock_manual(&tenv.now_ns);
	cr_assert_eq(cw_l1_open(&l1, &lo, NULL), CW_OK);
	cw_l1_stats(l1, 0, st);
	cw_l1_close(l1);
	return st;
}

Test(hier, no_fill_leaves_l1_alone_and_misses_are_counted)
{
	struct cw_cfg cfg;
	struct cw_hier *h = open_hier(&cfg, 1);
	struct cw_hier_result r;
	struct cw_buf b = { 0 };
	struct cw_l1_stats *st;
	const char *k = "t:I:G:2024-01-01", *missing = "t:I:G:2024-01-02";

	cr_assert_eq(cw_hier_get(h, k, strlen(k), &b, &r, NULL), CW_OK);
	cr_assert_eq(cw_hier_get(h, k, strlen(k), &b, &r, NULL), CW_OK);
	cr_assert_eq(r.level, CW_LEVEL_L3);
	cr_assert_eq(cw_hier_get(h, missing, strlen(missing), &b, &r, NULL),
	    CW_ENOTFOUND);
	cr_assert_eq(r.level, CW_LEVEL_NONE);
	cr_assert_eq(cw_hier_get(h, "a b", 3, &b, &r, NULL), CW_EDATA);
	cw_hier_close(h);
	st = stats_of(&cfg);
	cr_assert_eq(st->level[CW_LEVEL_L1].results[CW_RESULT_MISS], 3);
	cr_assert_eq(st->level[CW_LEVEL_L3].results[CW_RESULT_HIT], 2);
	cr_assert_eq(st->level[CW_LEVEL_L3].results[CW_RESULT_MISS], 1);
	cr_assert_eq(cw_hist_total(st->overall), 3);
	cr_assert_eq(st->entries, 0);
	free(st);
	cw_buf_free(&b);
}

Test(hier, a_miss_is_remembered_for_negative_ttl)
{
	struct cw_cfg cfg;
	struct cw_hier *h = open_hier(&cfg, 0);
	struct cw_hier_result r;
	struct cw_buf b = { 0 };
	struct cw_l1_stats *st;
	const char *missing = "t:I:G:2024-01-02";

	cr_assert_eq(cw_hier_get(h, missing, strlen(missing), &b, &r, NULL),
	    CW_ENOTFOUND);
	cr_assert_eq(cw_hier_get(h, missing, strlen(missing), &b, &r, NULL),
	    CW_ENOTFOUND);
	cr_assert_eq(r.level, CW_LEVEL_NONE);
	/* 30 s later the source is asked again. */
	tenv.now_ns += 31 * 1000000000LL;
	cr_assert_eq(cw_hier_get(h, missing, strlen(missing), &b, &r, NULL),
	    CW_ENOTFOUND);
	cw_hier_close(h);
	st = stats_of(&cfg);
	cr_assert_eq(st->level[CW_LEVEL_L3].results[CW_RESULT_MISS], 2,
	    "the source: first lookup, and after negative_ttl");
	cr_assert_eq(st->level[CW_LEVEL_L1].results[CW_RESULT_HIT], 1,
	    "L1 answered the second from memory");
	cw_buf_free(&b);
	free(st);
}

Test(hier, a_batch_answers_each_key_in_order)
{
	struct cw_cfg cfg;
	struct cw_hier *h = open_hier(&cfg, 0);
	struct cw_hier_item it[3];
	const char *keys[] = { "t:I:G:2024-01-01", "bad key", "t:I:G:2024-01-09" };

	memset(it, 0, sizeof(it));
	for (int i = 0; i < 3; i++) {
		it[i].key = keys[i];
		it[i].klen = strlen(keys[i]);
	}
	cr_assert_eq(cw_hier_get_batch(h, it, 3), CW_OK);
	cr_assert_eq(it[0].rc, CW_OK);
	cr_assert_eq(it[0].res.level, CW_LEVEL_L3);
	cr_assert_eq(it[1].rc, CW_EDATA);
	cr_assert_eq(it[2].rc, CW_ENOTFOUND);
	cr_assert_str_eq(it[2].err.msg, "t:I:G:2024-01-09: not found");
	cr_assert_eq(cw_hier_get_batch(h, it, 3), CW_OK);
	cr_assert_eq(it[0].res.level, CW_LEVEL_L1);
	cr_assert_arr_eq(it[0].val.data, "ts,v\n2024-01-01T00:00:00Z,one\n",
	    it[0].val.len);
	cw_hier_close(h);
	for (int i = 0; i < 3; i++)
		cw_buf_free(&it[i].val);
}

/* A hierarchy whose configured L1 file is someone else's ("precious"). */
static struct cw_hier *
open_hier_foreign_l1(struct cw_cfg *cfg, int log_access)
{
	FILE *f;

	cw_hier_close(open_hier(cfg, 0));
	f = fopen(tpath(cfg->l1_file, sizeof(cfg->l1_file), "foreign"), "w");
	fputs("precious", f);
	fclose(f);
	return hier_of(cfg, 0, log_access);
}

Test(hier, an_unusable_l1_file_is_left_alone_and_the_source_answers)
{
	struct cw_cfg cfg;
	struct cw_hier *h = open_hier_foreign_l1(&cfg, 0);
	struct cw_hier_result r;
	struct cw_buf b = { 0 };
	struct cw_err e;
	const char *k = "t:I:G:2024-01-01";
	char back[16] = { 0 };
	FILE *f;

	cr_assert_eq(cw_hier_l1_status(h, &e), CW_EFOREIGN);
	cr_assert(strstr(e.msg, "not a cachewarm L1 file") != NULL, "%s", e.msg);
	cr_assert_eq(cw_hier_get(h, k, strlen(k), &b, &r, NULL), CW_OK);
	cr_assert_eq(r.level, CW_LEVEL_L3);
	cr_assert_eq(cw_hier_get(h, k, strlen(k), &b, &r, NULL), CW_OK);
	cr_assert_eq(r.level, CW_LEVEL_L3, "nothing was filled");
	cw_hier_close(h);
	f = fopen(cfg.l1_file, "r");
	cr_assert_eq(fread(back, 1, sizeof(back) - 1, f), 8);
	fclose(f);
	cr_assert_str_eq(back, "precious");
	cw_buf_free(&b);
}

/* Keys are checked once L1 has not answered them (l1_stage); without an
 * L1 they are checked all the same, and a refused one is not logged. */
Test(hier, without_an_l1_a_refused_key_is_neither_fetched_nor_logged)
{
	struct cw_cfg cfg;
	struct cw_hier *h = open_hier_foreign_l1(&cfg, 1);
	struct cw_hier_result r;
	struct cw_buf b = { 0 };
	struct cw_err e;
	char line[256];
	int lines = 0;
	FILE *f;

	cr_assert_eq(cw_hier_get(h, "bad key", 7, &b, &r, &e), CW_EDATA);
	cr_assert_str_eq(e.msg, "key 'bad key': whitespace or control character");
	cr_assert_eq(cw_hier_get(h, "t:I:G:2024-01-01", 16, &b, &r, NULL),
	    CW_OK);
	cw_hier_close(h);
	cr_assert_not_null(f = fopen(cfg.log_file, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		cr_assert(strstr(line, "t:I:G:2024-01-01,") != NULL, "%s", line);
		lines++;
	}
	fclose(f);
	cr_assert_eq(lines, 1);
	cw_buf_free(&b);
}

/* A batch's L1 hits are counted in one step: still once a key, hits and
 * misses apart, and each in the whole lookups' latency. */
Test(hier, a_batch_counts_each_lookup_once)
{
	struct cw_cfg cfg;
	struct cw_hier *h = open_hier(&cfg, 0);
	struct cw_hier_item it[5];
	const char *keys[] = { "t:I:G:2024-01-01", "t:I:G:2024-01-01",
	    "t:I:G:2024-01-03", "bad key", "t:I:G:2024-01-01" };
	struct cw_l1_stats *st;

	memset(it, 0, sizeof(it));
	for (int i = 0; i < 5; i++) {
		it[i].key = keys[i];
		it[i].klen = strlen(keys[i]);
	}
	/* Warm the one key, then a batch: three hits, one miss, one
	 * refusal, which is neither. */
	cr_assert_eq(cw_hier_get_batch(h, it, 1), CW_OK);
	cr_assert_eq(cw_hier_get_batch(h, it, 5), CW_OK);
	cw_hier_close(h);
	st = stats_of(&cfg);
	cr_assert_eq(st->level[CW_LEVEL_L1].results[CW_RESULT_HIT], 3);
	cr_assert_eq(st->level[CW_LEVEL_L1].results[CW_RESULT_MISS], 2);
	cr_assert_eq(cw_hist_total(st->level[CW_LEVEL_L1].latency), 5);
	cr_assert_eq(cw_hist_total(st->overall), 5);
	free(st);
	for (int i = 0; i < 5; i++)
		cw_buf_free(&it[i].val);
}
