#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(src, .init = tmpdir_setup, .fini = tmpdir_teardown);

static struct cw_src *
csv_source(void)
{
	char p[PATH_MAX], url[PATH_MAX + 8];
	struct cw_src *src;
	FILE *f;

	mkdir(tpath(p, sizeof(p), "labels"), 0700);
	mkdir(tpath(p, sizeof(p), "labels/EUR_USD"), 0700);
	f = fopen(tpath(p, sizeof(p), "labels/EUR_USD/H4.csv"), "w");
	cr_assert_not_null(f);
	fputs("ts,note,close\n"
	    "2024-01-01T20:00:00Z,plain,1.1\n"
	    "2024-01-02T00:00:00Z,\"with, comma\",1.2\n"
	    "2024-01-02T04:00:00Z,\"say \"\"hi\"\"\nnext line\",1.3\n"
	    "2024-01-03T00:00:00Z,later,1.4\n", f);
	fclose(f);
	snprintf(url, sizeof(url), "csv:%s", tenv.dir);
	cr_assert_eq(cw_src_open(&src, url, NULL), CW_OK);
	return src;
}

static int
get(struct cw_src *src, const char *k, struct cw_buf *b)
{
	struct cw_key key;

	cr_assert_eq(cw_key_parse(k, strlen(k), &key, NULL), CW_OK);
	return cw_src_get(src, &key, b, NULL);
}

Test(src, csv_value_is_header_plus_the_days_rows)
{
	struct cw_src *src = csv_source();
	struct cw_buf b = { 0 };
	const char *want = "ts,note,close\n"
	    "2024-01-02T00:00:00Z,\"with, comma\",1.2\n"
	    "2024-01-02T04:00:00Z,\"say \"\"hi\"\"\nnext line\",1.3\n";

	cr_assert_eq(get(src, "labels:EUR_USD:H4:2024-01-02", &b), CW_OK);
	cr_assert_eq(b.len, strlen(want), "%.*s", (int)b.len, b.data);
	cr_assert_arr_eq(b.data, want, b.len);
	cw_buf_free(&b);
	cw_src_close(src);
}

Test(src, csv_missing_day_file_or_opaque_key_is_not_found)
{
	struct cw_src *src = csv_source();
	struct cw_buf b = { 0 };
	struct cw_key key;

	cr_assert_eq(get(src, "labels:EUR_USD:H4:2024-01-05", &b),
	    CW_ENOTFOUND);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(get(src, "labels:GBP_USD:H4:2024-01-02", &b),
	    CW_ENOTFOUND);
	cr_assert_eq(get(src, "bars:EUR_USD:H4:2024-01-02", &b), CW_ENOTFOUND);
	cr_assert_eq(cw_key_parse("opaque", 6, &key, NULL), CW_OK);
	cr_assert_eq(cw_src_get(src, &key, &b, NULL), CW_ENOTFOUND);
	cw_buf_free(&b);
	cw_src_close(src);
}

Test(src, unknown_scheme_is_a_config_error)
{
	struct cw_src *src;
	struct cw_err e;

	cr_assert_eq(cw_src_open(&src, "gopher://x", &e), CW_ECONFIG);
	cr_assert_eq(cw_src_open(&src, "csv:", &e), CW_ECONFIG);
	cr_assert_eq(cw_src_open(&src, "nocolon", &e), CW_ECONFIG);
}

Test(src, unreadable_file_is_unavailable)
{
	struct cw_src *src = csv_source();
	struct cw_buf b = { 0 };
	char p[PATH_MAX];

	if (geteuid() == 0)
		cr_skip_test("root reads any file");
	chmod(tpath(p, sizeof(p), "labels/EUR_USD/H4.csv"), 0);
	cr_assert_eq(get(src, "labels:EUR_USD:H4:2024-01-02", &b), CW_EUNAVAIL);
	cw_buf_free(&b);
	cw_src_close(src);
}
