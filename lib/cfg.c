/*
 * cfg: configuration from built-in defaults, one INI file and the
 * environment, in that order of increasing precedence.
 *
 * libinih parses the file; this module only knows the keys. With no file
 * at all everything works: an L1 file in the user's cache directory and
 * the bundled sample data as the source.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "cw.h"
#include "cfg_int.h"

#ifndef CW_DATADIR
#define CW_DATADIR "/usr/local/share/cachewarm"
#endif
#ifndef CW_TREE_DATADIR
#define CW_TREE_DATADIR CW_DATADIR "/data"
#endif

struct load_ctx {
	struct cw_cfg *cfg;
	const char *path;
	struct cw_err *err;
	int rc;
};

/* Copy into one of the configuration's CW_CFG_STR-byte strings. */
static int
copy_str(char *dst, const char *src, struct cw_err *err, const char *what)
{
	if (strlen(src) >= CW_CFG_STR)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "%s: longer than %d bytes", what, CW_CFG_STR - 1);
	strcpy(dst, src);
	return CW_OK;
}

/* A path setting: "~" or "$HOME" before its first slash (or alone) is
 * the home directory, as a shell would have it, so that the sample's
 * `file = ~/.cache/cw/l1` does not make a directory named "~". */
static int
copy_path(char *dst, const char *src, struct cw_err *err, const char *what)
{
	const char *rest = NULL, *home = getenv("HOME");
	char buf[CW_CFG_STR];

	if (src[0] == '~' && (src[1] == '/' || src[1] == '\0'))
		rest = src + 1;
	else if (strncmp(src, "$HOME", 5) == 0 && (src[5] == '/' ||
	    src[5] == '\0'))
		rest = src + 5;
	if (rest == NULL)
		return copy_str(dst, src, err, what);
	if (home == NULL || home[0] == '\0')
		return cw_err_set(err, CW_ECONFIG, 0, "%s: '%s' names the home "
		    "directory, and HOME is not set", what, src);
	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", home, rest) >=
	    sizeof(buf))
		return cw_err_set(err, CW_ECONFIG, 0,
		    "%s: longer than %d bytes", what, CW_CFG_STR - 1);
	return copy_str(dst, buf, err, what);
}

/* Key types, blank or comma separated, as " t1 t2 " (so that " t "
 * finds one); each must be a key part. */
static int
type_list(char *dst, size_t cap, const char *value, struct cw_err *err)
{
	size_t len = 1;

	strcpy(dst, " ");
	for (const char *p = value; *p != '\0';) {
		size_t n = strcspn(p, " \t,");

		for (size_t i = 0; i < n; i++)
			if (!(isalnum((unsigned char)p[i]) || (i > 0 &&
			    strchr("_-.", p[i]) != NULL)))
				return cw_err_set(err, CW_EDATA, 0,
				    "source.closed_day_types: '%.*s' is not a "
				    "key type", (int)n, p);
		if (n > 0) {
			if (len + n + 1 >= cap)
				return cw_err_set(err, CW_EDATA, 0,
				    "source.closed_day_types: too long");
			memcpy(dst + len, p, n);
			len += n;
			dst[len++] = ' ';
			dst[len] = '\0';
		}
		p += n;
		p += strspn(p, " \t,");
	}
	if (len == 1)
		dst[0] = '\0';
	return CW_OK;
}

/* A duration that must be positive (timeouts, TTLs). */
static int
positive_duration(const char *value, const char *what, int64_t *out,
    struct cw_err *err)
{
	int rc = cw_num_parse_duration_ms(value, what, out, err);

	if (rc == CW_OK && *out <= 0)
		return cw_err_set(err, CW_EDATA, 0, "%s: must be positive",
		    what);
	return rc;
}

/*
 * "[templates] TYPE = SQL". inih hands an indented continuation line to
 * us again under the same name: it is appended to the template it
 * continues, so a long query can be laid out on several lines.
 */
static int
add_template(struct cw_cfg *c, const char *type, const char *sql,
    struct cw_err *err)
{
	size_t tlen = strlen(type), slen = strlen(sql), last_name = 0;
	const char *last = NULL;
	struct cw_key k;
	char probe[CW_KEY_MAX + 32];
	int rc;

	for (size_t off = 0; off < c->templates_len;) {
		last_name = off;
		last = c->templates + off + strlen(c->templates + off) + 1;
		off = (size_t)(last - c->templates) + strlen(last) + 1;
	}
	if (last != NULL && strcmp(c->templates + last_name, type) == 0) {
		/* A continuation: replace the final NUL with a space. */
		if (c->templates_len + slen + 1 > CW_CFG_TEMPLATES)
			goto too_long;
		c->templates[c->templates_len - 1] = ' ';
		memcpy(c->templates + c->templates_len, sql, slen + 1);
		c->templates_len += slen + 1;
		return cw_tmpl_check(last, err);
	}
	/* The name must be a key type that the key grammar can produce. */
	snprintf(probe, sizeof(probe), "%s:A:A:2024-01-01", type);
	if (tlen > CW_KEY_MAX || cw_key_parse(probe, strlen(probe), &k,
	    NULL) != CW_OK || strcmp(k.type, type) != 0)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "templates: '%s' is not a key type", type);
	if (cw_cfg_template(c, type) != NULL)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "templates: '%s' given twice", type);
	if ((rc = cw_tmpl_check(sql, err)) != CW_OK)
		return rc;
	if (c->templates_len + tlen + slen + 2 > CW_CFG_TEMPLATES)
		goto too_long;
	memcpy(c->templates + c->templates_len, type, tlen + 1);
	memcpy(c->templates + c->templates_len + tlen + 1, sql, slen + 1);
	c->templates_len += tlen + slen + 2;
	return CW_OK;
too_long:
	return cw_err_set(err, CW_ECONFIG, 0,
	    "templates: more than %d bytes in all", CW_CFG_TEMPLATES);
}

const char *
cw_cfg_templates_find(const char *packed, size_t len, const char *type)
{
	for (size_t off = 0; off < len;) {
		const char *name = packed + off;
		const char *sql = name + strlen(name) + 1;

		if (strcmp(name, type) == 0)
			return sql;
		off = (size_t)(sql - packed) + strlen(sql) + 1;
	}
	return NULL;
}

const char *
cw_cfg_template(const struct cw_cfg *c, const char *type)
{
	return cw_cfg_templates_find(c->templates, c->templates_len, type);
}

/*
 * dst = a b c, cut to CW_CFG_STR - 1 bytes. The paths of every start are
 * joined with this rather than snprintf: a first snprintf costs a short
 * process about three page faults (its code and a deep stack), some
 * 50 us on this kind of machine, which cw-get answering from L1 feels.
 */
static void
join3(char *dst, const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p != '\0' &&
		    n < CW_CFG_STR - 1; p++)
			dst[n++] = *p;
	dst[n] = '\0';
}

/* $XDG_CACHE_HOME/cw/NAME or ~/.cache/cw/NAME. */
static void
cache_path(char *dst, const char *name)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/')
		join3(dst, xdg, "/cw/", name);
	else if (home != NULL && home[0] != '\0')
		join3(dst, home, "/.cache/cw/", name);
	else
		snprintf(dst, CW_CFG_STR, "/tmp/cw-%ld/%s", (long)getuid(),
		    name);
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The sample data: installed under DATADIR, or, for a program run from
 * its build tree before installation, the tree's own share/data. */
static void
default_source(char *dst)
{
	if (!is_dir(CW_DATADIR "/data") && is_dir(CW_TREE_DATADIR))
		join3(dst, "csv:", CW_TREE_DATADIR, "");
	else
		join3(dst, "csv:", CW_DATADIR, "/data");
}

void
cw_cfg_warm_path(const struct cw_cfg *c, int which, char out[CW_CFG_STR])
{
	const char *set = which == 'c' ? c->warm_calendar : c->warm_journal;
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (set[0] != '\0')
		snprintf(out, CW_CFG_STR, "%s", set);
	else if (which == 'c' && !is_dir(CW_DATADIR "/data") &&
	    is_dir(CW_TREE_DATADIR))
		join3(out, CW_TREE_DATADIR, "/../calendar.conf", "");
	else if (which == 'c')
		join3(out, CW_DATADIR, "/calendar.conf", "");
	else if (xdg != NULL && xdg[0] == '/')
		join3(out, xdg, "/cw/", "warm.journal");
	else if (home != NULL && home[0] != '\0')
		join3(out, home, "/.local/state/cw/", "warm.journal");
	else
		snprintf(out, CW_CFG_STR, "/tmp/cw-%ld/warm.journal",
		    (long)getuid());
}

/* Every field is set here; the struct is not zeroed as a whole because
 * its path buffers span pages that a short-lived program need not touch. */
static void
defaults(struct cw_cfg *c)
{
	c->l1_max_entries = 1000;
	c->l1_max_bytes = 100ull << 20;
	c->l1_ttl_ms = 300 * 1000;
	c->l1_mode = 0600;
	c->l1_gid = -1;
	c->l2_ttl_ms = 3600 * 1000;
	c->l2_connect_timeout_ms = 100;
	c->l2_timeout_ms = 50;
	c->source_ttl_ms = 86400 * 1000ll;
	c->source_connect_timeout_ms = 1000;
	c->source_timeout_ms = 10000;
	/* Far above any real bar file (a year of M1 bars is a few MB),
	 * low enough that an endless writer cannot eat the memory. */
	c->source_max_value_bytes = 16ull << 20;
	c->negative_ttl_ms = 30 * 1000;
	c->closed_day_ttl_ms = 2 * 86400 * 1000;
	c->log_max_bytes = 64ull << 20;
	c->log_keep = 1;
	strcpy(c->l2_prefix, "cw:");
	c->loaded_from[0] = '\0';
	cache_path(c->l1_file, "l1");
	default_source(c->source);
	cache_path(c->log_file, "access.log");
	c->l2_url[0] = '\0';
	c->l2_password_file[0] = '\0';
	cache_path(c->predict_state, "predict.state");
	c->predict_history_ms = 168 * 3600 * 1000ll;
	c->warm_calendar[0] = '\0';
	c->warm_journal[0] = '\0';
	c->warm_jobs = 5;			/* the seed's */
	c->warm_deadline_ms = 10 * 60 * 1000;	/* the seed's, per task */
	c->warm_refresh_below = 0.1;
	c->warm_failure_warning = 5;
	c->templates_len = 0;
}

/* One "name = value" of section; returns CW_OK or a code with err set. */
static int
apply(struct cw_cfg *c, const char *section, const char *name,
    const char *value, struct cw_err *err)
{
	uint64_t u;
	int rc;

#define IS(s, n) (strcmp(section, s) == 0 && strcmp(name, n) == 0)
	if (IS("l1", "file"))
		return copy_path(c->l1_file, value, err, "l1.file");
	if (IS("l1", "max_entries"))
		return cw_num_parse_u64(value, 1, 1u << 24, "l1.max_entries",
		    &c->l1_max_entries, err);
	if (IS("l1", "max_bytes"))
		return cw_num_parse_size(value, "l1.max_bytes",
		    &c->l1_max_bytes, err);
	if (IS("l1", "ttl"))
		return cw_num_parse_duration_ms(value, "l1.ttl",
		    &c->l1_ttl_ms, err);
	if (IS("l1", "stale_if_error"))
		return cw_num_parse_duration_ms(value, "l1.stale_if_error",
		    &c->l1_stale_if_error_ms, err);
	if (IS("l1", "stale_exit_ok")) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "l1.stale_exit_ok '%s': yes or no", value);
		c->l1_stale_exit_ok = strcmp(value, "yes") == 0;
		return CW_OK;
	}
	if (IS("l1", "mode")) {
		char *end;
		unsigned long m = strtoul(value, &end, 8);

		if (*value == '\0' || *end != '\0' || m > 0777)
			return cw_err_set(err, CW_EDATA, 0,
			    "l1.mode '%s': not an octal mode", value);
		c->l1_mode = (unsigned)m;
		return CW_OK;
	}
	if (IS("l1", "group")) {
		struct group *g = getgrnam(value);

		if (g == NULL)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "l1.group '%s': no such group", value);
		c->l1_gid = (long)g->gr_gid;
		return CW_OK;
	}
	if (IS("l2", "url"))
		return copy_str(c->l2_url, value, err, "l2.url");
	if (IS("l2", "password_file"))
		return copy_path(c->l2_password_file, value, err,
		    "l2.password_file");
	if (IS("l2", "prefix")) {
		if (strlen(value) >= sizeof(c->l2_prefix) ||
		    strpbrk(value, " \t") != NULL)
			return cw_err_set(err, CW_EDATA, 0, "l2.prefix '%s': "
			    "at most %zu bytes, no blanks", value,
			    sizeof(c->l2_prefix) - 1);
		strcpy(c->l2_prefix, value);
		return CW_OK;
	}
	if (IS("l2", "ttl"))
		return positive_duration(value, "l2.ttl", &c->l2_ttl_ms, err);
	if (IS("l2", "connect_timeout"))
		return positive_duration(value, "l2.connect_timeout",
		    &c->l2_connect_timeout_ms, err);
	if (IS("l2", "timeout"))
		return positive_duration(value, "l2.timeout",
		    &c->l2_timeout_ms, err);
	if (IS("source", "url"))
		return copy_str(c->source, value, err, "source.url");
	if (IS("source", "ttl"))
		return positive_duration(value, "source.ttl",
		    &c->source_ttl_ms, err);
	if (IS("source", "connect_timeout"))
		return positive_duration(value, "source.connect_timeout",
		    &c->source_connect_timeout_ms, err);
	if (IS("source", "timeout"))
		return positive_duration(value, "source.timeout",
		    &c->source_timeout_ms, err);
	if (IS("source", "max_value_size"))
		return cw_num_parse_size(value, "source.max_value_size",
		    &c->source_max_value_bytes, err);
	if (IS("source", "negative_ttl"))
		return cw_num_parse_duration_ms(value, "source.negative_ttl",
		    &c->negative_ttl_ms, err);
	if (IS("source", "closed_day_ttl"))
		return positive_duration(value, "source.closed_day_ttl",
		    &c->closed_day_ttl_ms, err);
	if (IS("source", "closed_day_types"))
		return type_list(c->closed_day_types,
		    sizeof(c->closed_day_types), value, err);
	if (IS("warm", "calendar"))
		return copy_path(c->warm_calendar, value, err,
		    "warm.calendar");
	if (IS("warm", "journal"))
		return copy_path(c->warm_journal, value, err, "warm.journal");
	if (IS("warm", "jobs")) {
		if ((rc = cw_num_parse_u64(value, 1, 1024, "warm.jobs", &u,
		    err)) != CW_OK)
			return CW_ECONFIG;
		c->warm_jobs = (unsigned)u;
		return CW_OK;
	}
	if (IS("warm", "deadline"))
		return positive_duration(value, "warm.deadline",
		    &c->warm_deadline_ms, err);
	if (IS("warm", "refresh_below"))
		return cw_num_parse_double(value, 0, 1, "warm.refresh_below",
		    &c->warm_refresh_below, err) == CW_OK ? CW_OK : CW_ECONFIG;
	if (IS("stats", "warm_failure_warning"))
		return cw_num_parse_double(value, 0, 100,
		    "stats.warm_failure_warning", &c->warm_failure_warning,
		    err) == CW_OK ? CW_OK : CW_ECONFIG;
	if (strcmp(section, "templates") == 0)
		return add_template(c, name, value, err);
	if (IS("log", "file"))
		return copy_path(c->log_file, strcmp(value, "off") == 0 ? "" :
		    value, err, "log.file");
	if (IS("log", "max_size"))
		return cw_num_parse_size(value, "log.max_size",
		    &c->log_max_bytes, err);
	if (IS("log", "keep")) {
		if ((rc = cw_num_parse_u64(value, 1, 99, "log.keep", &u,
		    err)) == CW_OK)
			c->log_keep = (unsigned)u;
		return rc;
	}
	if (IS("predict", "state_file"))
		return copy_path(c->predict_state, value, err,
		    "predict.state_file");
	if (IS("predict", "history"))
		return positive_duration(value, "predict.history",
		    &c->predict_history_ms, err);
#undef IS
	return cw_err_set(err, CW_ECONFIG, 0, "unknown setting [%s] %s",
	    section, name);
}

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *lc = user;
	struct cw_err e;
	int rc;

	if (lc->rc != CW_OK)
		return 0;
	/* A key outside any section follows a broken header such as
	 * "[l1": let inih report the syntax error at its line. */
	if (section[0] == '\0')
		return 0;
	if ((rc = apply(lc->cfg, section, name, value, &e)) != CW_OK) {
		/* The file and line are added once inih says which line. */
		lc->rc = cw_err_set(lc->err, CW_ECONFIG, 0, "%s", e.msg);
		return 0;
	}
	return 1;
}

static int
load_file(struct cw_cfg *c, const char *path, struct cw_err *err)
{
	struct load_ctx lc = { c, path, err, CW_OK };
	FILE *f;
	int line;

	struct stat st;

	if ((f = fopen(path, "re")) == NULL)
		return cw_err_set(err, CW_ECONFIG, errno, "%s", path);
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return cw_err_set(err, CW_ECONFIG, 0, "%s: not a regular file",
		    path);
	}
	/* inih goes on past a setting the handler refuses and returns the
	 * first refused or malformed line's number: that is where it is. */
	line = ini_parse_file(f, on_ini, &lc);
	fclose(f);
	if (lc.rc != CW_OK) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err != NULL ? err->msg : "");
		return cw_err_set(err, CW_ECONFIG, 0, "%s:%d: %s", path, line,
		    why);
	}
	if (line != 0)
		return cw_err_set(err, CW_ECONFIG, 0, "%s:%d: syntax error",
		    path, line);
	return copy_str(c->loaded_from, path, err, "config path");
}

int
cw_cfg_load(struct cw_cfg *c, const char *path, struct cw_err *err)
{
	char candidate[CW_CFG_STR];
	const char *env;
	int rc;

	defaults(c);
	if (path == NULL && (env = getenv("CW_CONFIG")) != NULL && *env)
		path = env;
	if (path != NULL) {
		if ((rc = load_file(c, path, err)) != CW_OK)
			return rc;
	} else {
		const char *xdg = getenv("XDG_CONFIG_HOME");
		const char *home = getenv("HOME");

		candidate[0] = '\0';
		if (xdg != NULL && xdg[0] == '/')
			join3(candidate, xdg, "/cw/cw.conf", "");
		else if (home != NULL && home[0] != '\0')
			join3(candidate, home, "/.config/cw/cw.conf", "");
		if (candidate[0] == '\0' || access(candidate, F_OK) != 0)
			join3(candidate, "/etc/cw/cw.conf", "", "");
		if (access(candidate, F_OK) == 0 &&
		    (rc = load_file(c, candidate, err)) != CW_OK)
			return rc;
	}
	if ((env = getenv("CW_L1_FILE")) != NULL && *env &&
	    (rc = copy_str(c->l1_file, env, err, "CW_L1_FILE")) != CW_OK)
		return rc;
	if ((env = getenv("CW_REDIS_URL")) != NULL &&
	    (rc = copy_str(c->l2_url, env, err, "CW_REDIS_URL")) != CW_OK)
		return rc;
	if ((env = getenv("CW_SOURCE")) != NULL && *env &&
	    (rc = copy_str(c->source, env, err, "CW_SOURCE")) != CW_OK)
		return rc;
	return CW_OK;
}

void
cw_cfg_l1_opts(const struct cw_cfg *c, struct cw_clock clock,
    struct cw_l1_opts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->path = c->l1_file;
	lo->max_entries = c->l1_max_entries;
	lo->max_bytes = c->l1_max_bytes;
	lo->mode = c->l1_mode;
	lo->clock = clock;
	lo->shared = c->l1_gid >= 0;
	lo->share_gid = c->l1_gid >= 0 ? (unsigned)c->l1_gid : 0;
}
