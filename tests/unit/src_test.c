#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "src_int.h"
#include "key_int.h"

TestSuite(src, .init = tmpdir_setup, .fini = tmpdir_teardown);

/* Open the source at url with the built-in defaults otherwise. */
static int
open_url(struct cw_src **src, const char *url, struct cw_err *e)
{
	struct cw_cfg *cfg = calloc(1, sizeof(*cfg));
	struct cw_src_opts o = { 0 };
	int rc;

	setenv("HOME", tenv.dir, 1);
	unsetenv("CW_CONFIG");
	unsetenv("CW_SOURCE");
	setenv("XDG_CONFIG_HOME", tenv.dir, 1);
	cr_assert_eq(cw_cfg_load(cfg, NULL, NULL), CW_OK);
	snprintf(cfg->source, sizeof(cfg->source), "%s", url);
	cfg->source_timeout_ms = 300;
	o.url = cfg->source;
	o.connect_timeout_ms = cfg->source_connect_timeout_ms;
	o.timeout_ms = cfg->source_timeout_ms;
	o.max_value_bytes = cfg->source_max_value_bytes;
	o.templates = cfg->templates;
	o.templates_len = cfg->templates_len;
	o.clock = cw_clock_system();
	rc = cw_src_open(src, &o, e);
	free(cfg);
	return rc;
}

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
	cr_assert_eq(open_url(&src, url, NULL), CW_OK);
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

	cr_assert_eq(open_url(&src, "gopher://x", &e), CW_ECONFIG);
	cr_assert_eq(open_url(&src, "csv:", &e), CW_ECONFIG);
	cr_assert_eq(open_url(&src, "nocolon", &e), CW_ECONFIG);
	cr_assert_eq(open_url(&src, "exec:relative/cmd", &e), CW_ECONFIG);
	cr_assert_eq(open_url(&src, "exec:/nonexistent/cmd", &e), CW_ECONFIG);
	cr_assert_eq(open_url(&src, "clickhouse:host", &e), CW_ECONFIG);
	cr_assert_eq(open_url(&src, "clickhouse://h/d;DROP", &e), CW_ECONFIG);
	/* A host is a name or an address: no user, no path in it. */
	cr_assert_eq(open_url(&src, "clickhouse://user@h:8123/db", &e),
	    CW_ECONFIG);
	cr_assert_eq(open_url(&src, "clickhouse://h/x:8123/db", &e),
	    CW_ECONFIG);
}

Test(src, unreadable_file_is_unavailable)
{
	struct cw_src *src = csv_source();
	struct cw_buf b = { 0 };
	char p[PATH_MAX];

	pid_t pid;
	int st;

	chmod(tpath(p, sizeof(p), "labels/EUR_USD/H4.csv"), 0);
	/* Root reads any file: as root (CI), the lookup runs as nobody in
	 * a child, so that the test means the same for everyone. */
	if ((pid = fork()) == 0) {
		if (geteuid() == 0) {
			chmod(tenv.dir, 0755);
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(3);
		}
		_exit(get(src, "labels:EUR_USD:H4:2024-01-02", &b) ==
		    CW_EUNAVAIL ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "an unreadable file: CW_EUNAVAIL (child status %d)", st);
	cw_buf_free(&b);
	cw_src_close(src);
}

/* A shell script as the exec source; returns its path. */
static const char *
script(const char *name, const char *body)
{
	static char p[PATH_MAX];
	FILE *f = fopen(tpath(p, sizeof(p), name), "w");

	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, 0700);
	return p;
}

Test(src, exec_value_not_found_failure_and_timeout)
{
	char url[PATH_MAX + 8];
	struct cw_src *src;
	struct cw_buf b = { 0 };
	struct cw_err e;
	struct cw_key k;
	const char *opaque = "any.opaque-key";

	snprintf(url, sizeof(url), "exec:%s", script("x",
	    "case $1 in\n"
	    "  a:*) printf 'v\\0of %s\\n' \"$1\" ;;\n"
	    "  any.*) printf 'opaque' ;;\n"
	    "  b:*) exit 1 ;;\n"
	    "  c:*) echo broken >&2; exit 3 ;;\n"
	    "  *) exec sleep 5 ;;\n"
	    "esac"));
	cr_assert_eq(open_url(&src, url, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(get(src, "a:I:G:2024-01-01", &b), CW_OK);
	cr_assert_eq(b.len, 22);
	cr_assert_arr_eq(b.data, "v\0of a:I:G:2024-01-01\n", 22);
	/* exec answers opaque keys too: the command decides. */
	cr_assert_eq(cw_key_parse(opaque, strlen(opaque), &k, NULL), CW_OK);
	cr_assert_eq(cw_src_get(src, &k, &b, NULL), CW_OK);
	cr_assert_eq(b.len, 6);
	cr_assert_eq(get(src, "b:I:G:2024-01-01", &b), CW_ENOTFOUND);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(cw_key_parse("c:I:G:2024-01-01", 16, &k, NULL), CW_OK);
	cr_assert_eq(cw_src_get(src, &k, &b, &e), CW_EUNAVAIL);
	cr_assert(strstr(e.msg, "exit 3") != NULL, "%s", e.msg);
	cr_assert_eq(cw_key_parse("d:I:G:2024-01-01", 16, &k, NULL), CW_OK);
	cr_assert_eq(cw_src_get(src, &k, &b, &e), CW_ETIMEOUT);
	cr_assert(strstr(e.msg, "300 ms") != NULL, "%s", e.msg);
	cw_src_close(src);
	cw_buf_free(&b);
}

static int
synthetic_get(struct cw_src *src, const char *k, struct cw_buf *v)
{
	struct cw_key key;
	struct cw_err e;

	cr_assert_eq(cw_key_parse(k, strlen(k), &key, &e), CW_OK);
	return cw_src_get(src, &key, v, &e);
}

/* A day's bars of the key's granularity, the same bytes every time, not
 * found for a future date, after the stated latency. */
Test(src, synthetic_sizes_dates_and_latency)
{
	struct cw_src *src;
	struct cw_buf a = { 0 }, b = { 0 };
	struct cw_err e;
	struct timespec t0, t1;
	size_t rows = 0;

	cr_assert_eq(open_url(&src, "synthetic:20ms", &e), CW_OK, "%s", e.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(synthetic_get(src, "ohlc:EUR_USD:M5:2024-03-01", &a),
	    CW_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_geq((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec -
	    t0.tv_nsec) / 1000000, 20);
	for (size_t i = 0; i < a.len; i++)
		rows += a.data[i] == '\n';
	cr_assert_eq(rows, 1 + 288, "a header and 288 five-minute bars");
	/* Stamped five minutes apart, through the whole day. */
	cr_assert(memmem(a.data, a.len, "\n2024-03-01T00:05:00Z,", 22) !=
	    NULL);
	cr_assert(memmem(a.data, a.len, "\n2024-03-01T23:55:00Z,", 22) !=
	    NULL);
	cr_assert_eq(synthetic_get(src, "ohlc:EUR_USD:M5:2024-03-01", &b),
	    CW_OK);
	cr_assert(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	/* The exact bytes, as printf's "%u.%04u" wrote them (a price under
	 * 1 among them): a replay's values stay what they were. */
	cr_assert(memmem(a.data, a.len, "\n2024-03-01T04:15:00Z,1.0000,"
	    "1.0007,0.9995,1.0002\n", 50) != NULL);
	cr_assert_eq(synthetic_get(src, "ohlc:EUR_USD:D:2024-03-01", &b),
	    CW_OK);
	cr_assert_eq(b.len, 79);
	cr_assert(memcmp(b.data, "timestamp,open,high,low,close\n"
	    "2024-03-01T00:00:00Z,1.1044,1.1051,1.1039,1.1046\n", 79) == 0);
	cr_assert_eq(synthetic_get(src, "ohlc:EUR_USD:D:2999-01-01", &b),
	    CW_ENOTFOUND);
	cr_assert_eq(synthetic_get(src, "ohlc:EUR_USD:W7:2024-03-01", &b),
	    CW_ENOTFOUND);
	cr_assert_eq(synthetic_get(src, "12345", &b), CW_OK);
	cr_assert_eq(b.len, 1024);
	cw_src_close(src);
	cw_buf_free(&a);
	cw_buf_free(&b);
	cr_assert_eq(open_url(&src, "synthetic:soon", &e), CW_ECONFIG);
}

/* cw_src_get is for a caller with nothing in flight: with a fetch
 * submitted and not yet answered it refuses rather than hand back the
 * other fetch's answer. */
Test(src, a_blocking_get_refuses_while_fetches_are_in_flight)
{
	struct cw_src *src;
	struct cw_buf a = { 0 }, b = { 0 };
	struct cw_src_done d;
	struct cw_key k1, k2;
	struct cw_err e;
	int tag;

	cr_assert_eq(open_url(&src, "synthetic:50ms", &e), CW_OK, "%s", e.msg);
	cr_assert_eq(cw_key_parse("ohlc:EUR_USD:H1:2024-03-01", 26, &k1, &e),
	    CW_OK);
	cr_assert_eq(cw_key_parse("ohlc:EUR_USD:D:2024-03-01", 25, &k2, &e),
	    CW_OK);
	cr_assert_eq(cw_src_submit(src, &k1, &a, &tag, &e), CW_OK);
	cr_assert_eq(cw_src_get(src, &k2, &b, &e), CW_EUSAGE);
	while (cw_src_poll(src, -1, &d, 1) == 0)
		;
	cr_assert_eq(d.rc, CW_OK);
	cr_assert_eq(cw_src_get(src, &k2, &b, &e), CW_OK);
	cw_src_close(src);
	cw_buf_free(&a);
	cw_buf_free(&b);
}
