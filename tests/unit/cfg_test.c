#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "cfg_int.h"

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

/* text without its header comments and the " ; origin" of each line,
 * NUL-terminated; returns how many lines had one. */
static size_t
cut_origins(const struct cw_buf *text, struct cw_buf *out)
{
	size_t cut = 0;

	out->len = 0;
	for (size_t i = 0; i < text->len;) {
		const char *line = text->data + i;
		const char *nl = memchr(line, '\n', text->len - i);
		size_t n = nl != NULL ? (size_t)(nl - line) : text->len - i;
		const char *semi = memmem(line, n, " ; ", 3);

		if (n > 0 && line[0] == '#') {	/* the header names the file */
			i += n + 1;
			continue;
		}
		cut += semi != NULL;
		cw_buf_append(out, line, semi != NULL ? (size_t)(semi - line) :
		    n, NULL);
		cw_buf_append(out, "\n", 1, NULL);
		i += n + 1;
	}
	cw_buf_append(out, "", 1, NULL);
	return cut;
}

/* What cw_cfg_format prints is what a file would say: every value, once
 * the origins are cut off, reads back to the same configuration. */
Test(cfg, the_effective_configuration_reads_back_the_same)
{
	struct cw_cfg *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct cw_buf first = { 0 }, second = { 0 }, plain = { 0 },
	    plain2 = { 0 };
	char p[PATH_MAX], q[2 * PATH_MAX], dir[PATH_MAX];
	size_t settings;

	isolate();
	mkdir(tpath(dir, sizeof(dir), "data"), 0700);
	snprintf(q, sizeof(q), "[l1]\nmax_bytes = 1536K\nttl = 90s\n"
	    "stale_if_error = 1500ms\nmode = 0640\nstale_exit_ok = yes\n"
	    "[l2]\nprefix = x:\n[source]\nurl = csv:%s\n"
	    "closed_day_types = bars, ticks\nmax_value_size = 3000\n"
	    "[warm]\nrefresh_below = 0.25\njobs = 7\n[log]\nfile = off\n"
	    "[predict]\nhistory = 36h\n[templates]\nbars = SELECT {date}\n",
	    dir);
	write_file(tpath(p, sizeof(p), "a.conf"), q);
	cr_assert_eq(cw_cfg_load(a, p, NULL), CW_OK);
	cr_assert_eq(a->origin[0], 0, "l1.file: the default");
	cr_assert_eq(a->origin[2], 2, "l1.max_bytes: line 2");
	cr_assert_eq(cw_cfg_format(a, &first), CW_OK);
	settings = cut_origins(&first, &plain);
	write_file(tpath(q, sizeof(q), "b.conf"), plain.data);
	cr_assert_eq(cw_cfg_load(b, q, NULL), CW_OK);
	cr_assert_eq(b->l1_max_bytes, 1536 << 10);
	cr_assert_eq(b->l1_ttl_ms, 90000);
	cr_assert_eq(b->l1_stale_if_error_ms, 1500);
	cr_assert_eq(b->l1_stale_exit_ok, 1);
	cr_assert_eq(b->predict_history_ms, 36 * 3600000LL);
	cr_assert_eq(b->source_max_value_bytes, 3000);
	cr_assert_eq(b->l1_mode, 0640);
	cr_assert_eq(b->warm_jobs, 7);
	cr_assert_float_eq(b->warm_refresh_below, 0.25, 1e-12);
	cr_assert_str_eq(b->closed_day_types, " bars ticks ");
	cr_assert_str_eq(b->log_file, "");
	cr_assert_str_eq(b->l2_prefix, "x:");
	cr_assert_str_eq(cw_cfg_template(b, "bars"), "SELECT {date}");
	for (size_t i = 0; i + 1 < settings; i++)
		cr_assert_gt(b->origin[i], 0, "setting %zu read from the file",
		    i);
	cr_assert_eq(cw_cfg_format(b, &second), CW_OK);
	cut_origins(&second, &plain2);
	cr_assert_str_eq(plain2.data, plain.data, "the same configuration");
	free(a);
	free(b);
	cw_buf_free(&first);
	cw_buf_free(&second);
	cw_buf_free(&plain);
	cw_buf_free(&plain2);
}

/* Each kind of setting at its edges: what it becomes, or the exact
 * message (after "FILE:2: "). */
Test(cfg, every_kind_of_setting_at_its_edges)
{
	static const struct {
		const char *text;	/* one setting, on line 2 */
		const char *msg;	/* NULL: loads */
	} cases[] = {
		{ "[l1]\nmode = 0640\n", NULL },
		{ "[l1]\nmode = 0999\n", "l1.mode '0999': not an octal mode" },
		{ "[l1]\nmode = 1000\n", "l1.mode '1000': not an octal mode" },
		{ "[l1]\nmode = \n", "l1.mode '': not an octal mode" },
		{ "[l1]\ngroup = \n", NULL },
		{ "[l1]\ngroup = root\n", NULL },
		{ "[l1]\ngroup = no-such-group-cw\n",
		  "l1.group 'no-such-group-cw': no such group" },
		{ "[l1]\nstale_exit_ok = maybe\n",
		  "l1.stale_exit_ok 'maybe': yes or no" },
		{ "[source]\nclosed_day_types = ohlc, labels\tfeat_1\n", NULL },
		{ "[source]\nclosed_day_types = a.b-c\n", NULL },
		{ "[source]\nclosed_day_types = , ,\n", NULL },
		{ "[source]\nclosed_day_types = _x\n",
		  "source.closed_day_types: '_x' is not a key type" },
		{ "[l2]\nprefix = a b\n",
		  "l2.prefix 'a b': at most 63 bytes, no blanks or braces" },
		{ "[l2]\nprefix = a{b}\n",
		  "l2.prefix 'a{b}': at most 63 bytes, no blanks or braces" },
		{ "[l2]\nttl = 0\n", "l2.ttl: must be positive" },
		{ "[l2]\nttl = -5s\n", "l2.ttl '-5s': not a number" },
		{ "[warm]\njobs = 0\n", "warm.jobs '0': out of range 1..1024" },
	};
	char p[PATH_MAX], want[PATH_MAX + 160];
	struct cw_cfg c;
	struct cw_err e;

	isolate();
	tpath(p, sizeof(p), "edge.conf");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(p, cases[i].text);
		if (cases[i].msg == NULL) {
			cr_assert_eq(cw_cfg_load(&c, p, &e), CW_OK, "%s: %s",
			    cases[i].text, e.msg);
			continue;
		}
		cr_assert_eq(cw_cfg_load(&c, p, &e), CW_ECONFIG, "%s",
		    cases[i].text);
		snprintf(want, sizeof(want), "%s:2: %s", p, cases[i].msg);
		cr_assert_str_eq(e.msg, want);
	}
	/* What the accepted ones became. */
	write_file(p, "[l1]\nmode = 0640\ngroup = root\n[source]\n"
	    "closed_day_types = ohlc, labels\tfeat_1\n");
	cr_assert_eq(cw_cfg_load(&c, p, &e), CW_OK);
	cr_assert_eq(c.l1_mode, 0640);
	cr_assert_eq(c.l1_gid, 0);
	cr_assert_str_eq(c.closed_day_types, " ohlc labels feat_1 ");
	write_file(p, "[source]\nclosed_day_types = , ,\n[l1]\ngroup =\n");
	cr_assert_eq(cw_cfg_load(&c, p, &e), CW_OK);
	cr_assert_str_eq(c.closed_day_types, "");
	cr_assert_eq(c.l1_gid, -1);
}

/* "~" and "$HOME" at the start of a path, alone or before a slash, are
 * the home directory; anywhere else they are themselves; with HOME
 * unset they are an error that says so. */
Test(cfg, a_path_from_the_home_directory)
{
	static const struct {
		const char *set, *want;	/* want under HOME, or as is */
		int under_home;
	} cases[] = {
		{ "~", "", 1 }, { "~/x", "/x", 1 }, { "$HOME", "", 1 },
		{ "$HOME/y", "/y", 1 }, { "$HOMEz/y", "$HOMEz/y", 0 },
		{ "~x/y", "~x/y", 0 },
	};
	char p[PATH_MAX], text[256], want[PATH_MAX + 160];
	struct cw_cfg c;
	struct cw_err e;

	isolate();
	tpath(p, sizeof(p), "home.conf");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[warm]\njournal = %s\n",
		    cases[i].set);
		write_file(p, text);
		cr_assert_eq(cw_cfg_load(&c, p, &e), CW_OK, "%s", e.msg);
		snprintf(want, sizeof(want), "%s%s", cases[i].under_home ?
		    getenv("HOME") : "", cases[i].want);
		cr_assert_str_eq(c.warm_journal, want);
	}
	write_file(p, "[warm]\njournal = ~/j\n");
	setenv("HOME", "", 1);
	cr_assert_eq(cw_cfg_load(&c, p, &e), CW_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: warm.journal: '~/j' names the "
	    "home directory, and HOME is not set", p);
	cr_assert_str_eq(e.msg, want);
}
