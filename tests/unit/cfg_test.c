#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(cfg, .init = tmpdir_setup, .fini = tmpdir_teardown);

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void
isolate(void)
{
	char p[PATH_MAX];

	setenv("HOME", tpath(p, sizeof(p), "home"), 1);
	setenv("XDG_CONFIG_HOME", tpath(p, sizeof(p), "xdg"), 1);
	setenv("XDG_CACHE_HOME", tpath(p, sizeof(p), "cache"), 1);
	unsetenv("CW_CONFIG");
	unsetenv("CW_L1_FILE");
	unsetenv("CW_SOURCE");
}

Test(cfg, defaults_need_no_file)
{
	struct cw_cfg c;
	char want[PATH_MAX];

	isolate();
	cr_assert_eq(cw_cfg_load(&c, NULL, NULL), CW_OK);
	cr_assert_str_eq(c.loaded_from, "");
	cr_assert_str_eq(c.l1_file, tpath(want, sizeof(want), "cache/cw/l1"));
	cr_assert_eq(c.l1_max_entries, 1000);
	cr_assert_eq(c.l1_max_bytes, 100ull << 20);
	cr_assert_eq(c.l1_ttl_ms, 300000);
	cr_assert_eq(c.l1_mode, 0600);
	cr_assert_eq(c.source_ttl_ms, 86400000);
	cr_assert_eq(strncmp(c.source, "csv:", 4), 0);
}

/* Without XDG variables, files go under HOME as the XDG defaults say,
 * and the built-in source is the sample data, installed or in the tree. */
Test(cfg, home_paths_without_xdg)
{
	char p[PATH_MAX], dir[PATH_MAX], want[PATH_MAX];
	struct cw_cfg c;

	isolate();
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_CACHE_HOME");
	cr_assert_eq(cw_cfg_load(&c, NULL, NULL), CW_OK);
	cr_assert_str_eq(c.l1_file, tpath(want, sizeof(want),
	    "home/.cache/cw/l1"));
	cr_assert_str_eq(c.log_file, tpath(want, sizeof(want),
	    "home/.cache/cw/access.log"));
	cr_assert(strcmp(c.source, "csv:" CW_TREE_DATADIR) == 0 ||
	    strcmp(c.source, "csv:" CW_DATADIR "/data") == 0, "%s", c.source);
	mkdir(tpath(dir, sizeof(dir), "home"), 0700);
	mkdir(tpath(dir, sizeof(dir), "home/.config"), 0700);
	mkdir(tpath(dir, sizeof(dir), "home/.config/cw"), 0700);
	write_file(tpath(p, sizeof(p), "home/.config/cw/cw.conf"),
	    "[l1]\nmax_entries = 44\n");
	cr_assert_eq(cw_cfg_load(&c, NULL, NULL), CW_OK);
	cr_assert_eq(c.l1_max_entries, 44);
	cr_assert_str_eq(c.loaded_from, p);
}

Test(cfg, precedence_explicit_env_xdg)
{
	char p[PATH_MAX], dir[PATH_MAX];
	struct cw_cfg c;

	isolate();
	mkdir(tpath(dir, sizeof(dir), "xdg"), 0700);
	mkdir(tpath(dir, sizeof(dir), "xdg/cw"), 0700);
	write_file(tpath(p, sizeof(p), "xdg/cw/cw.conf"),
	    "[l1]\nmax_entries = 11\nttl = 2m\n");
	cr_assert_eq(cw_cfg_load(&c, NULL, NULL), CW_OK);
	cr_assert_eq(c.l1_max_entries, 11);
	cr_assert_eq(c.l1_ttl_ms, 120000);

	write_file(tpath(p, sizeof(p), "env.conf"), "[l1]\nmax_entries = 22\n");
	setenv("CW_CONFIG", p, 1);
	cr_assert_eq(cw_cfg_load(&c, NULL, NULL), CW_OK);
	cr_assert_eq(c.l1_max_entries, 22);
	cr_assert_eq(c.l1_ttl_ms, 300000, "only one file is read");

	write_file(tpath(p, sizeof(p), "arg.conf"),
	    "[l1]\nmax_entries = 33\nfile = /from/file\n");
	cr_assert_eq(cw_cfg_load(&c, p, NULL), CW_OK);
	cr_assert_eq(c.l1_max_entries, 33);
	cr_assert_str_eq(c.loaded_from, p);

	setenv("CW_L1_FILE", "/from/env", 1);
	setenv("CW_SOURCE", "csv:/env/src", 1);
	cr_assert_eq(cw_cfg_load(&c, p, NULL), CW_OK);
	cr_assert_str_eq(c.l1_file, "/from/env");
	cr_assert_str_eq(c.source, "csv:/env/src");
}

Test(cfg, bad_values_name_file_and_key)
{
	char p[PATH_MAX];
	struct cw_cfg c;
	struct cw_err e;

	isolate();
	write_file(tpath(p, sizeof(p), "a.conf"), "[l1]\nmax_bytes = 12Q\n");
	cr_assert_eq(cw_cfg_load(&c, p, &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "a.conf") && strstr(e.msg, "l1.max_bytes"),
	    "%s", e.msg);
	write_file(p, "[l1]\ncolour = blue\n");
	cr_assert_eq(cw_cfg_load(&c, p, &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "unknown setting [l1] colour"), "%s", e.msg);
	write_file(p, "[l1\nmax_entries = 3\n");
	cr_assert_eq(cw_cfg_load(&c, p, &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, ":1: syntax error"), "%s", e.msg);
	cr_assert_eq(cw_cfg_load(&c, "/nonexistent/cw.conf", &e), CW_ECONFIG);
	write_file(p, "[log]\nfile = off\n");
	cr_assert_eq(cw_cfg_load(&c, p, &e), CW_OK);
	cr_assert_str_eq(c.log_file, "");
}

Test(cfg, templates_l2_and_timeouts)
{
	struct cw_cfg *c = malloc(sizeof(*c));
	struct cw_err e;
	char p[PATH_MAX];

	isolate();
	write_file(tpath(p, sizeof(p), "t.conf"),
	    "[l2]\nurl = redis://127.0.0.1:1/2\nprefix = x:\nttl = 10m\n"
	    "timeout = 20ms\n"
	    "[source]\nurl = clickhouse://h:1/db\ntimeout = 2s\n"
	    "negative_ttl = 5s\n"
	    "[templates]\n"
	    "labels = SELECT * FROM labels\n"
	    "  WHERE i = {instrument}\n"
	    "bars = SELECT {date}\n");
	cr_assert_eq(cw_cfg_load(c, p, &e), CW_OK, "%s", e.msg);
	cr_assert_str_eq(c->l2_url, "redis://127.0.0.1:1/2");
	cr_assert_str_eq(c->l2_prefix, "x:");
	cr_assert_eq(c->l2_ttl_ms, 600000);
	cr_assert_eq(c->l2_timeout_ms, 20);
	cr_assert_eq(c->l2_connect_timeout_ms, 100);
	cr_assert_eq(c->source_timeout_ms, 2000);
	cr_assert_eq(c->negative_ttl_ms, 5000);
	cr_assert_str_eq(cw_cfg_template(c, "labels"),
	    "SELECT * FROM labels WHERE i = {instrument}");
	cr_assert_str_eq(cw_cfg_template(c, "bars"), "SELECT {date}");
	cr_assert_null(cw_cfg_template(c, "other"));
	/* The environment names the Redis server too; empty means none. */
	setenv("CW_REDIS_URL", "", 1);
	cr_assert_eq(cw_cfg_load(c, p, &e), CW_OK, "%s", e.msg);
	cr_assert_str_eq(c->l2_url, "");
	unsetenv("CW_REDIS_URL");

	write_file(p, "[templates]\nlabels = SELECT {instrumnet}\n");
	cr_assert_eq(cw_cfg_load(c, p, &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "{instrumnet}") != NULL, "%s", e.msg);
	write_file(p, "[templates]\nla'bels = SELECT 1\n");
	cr_assert_eq(cw_cfg_load(c, p, &e), CW_ECONFIG);
	write_file(p, "[l2]\ntimeout = 0\n");
	cr_assert_eq(cw_cfg_load(c, p, &e), CW_ECONFIG);
	free(c);
}
