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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "cw.h"
#include "cfg_int.h"
#include "key_int.h"
#include "tmpl_int.h"

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
	FILE *f;
	int line;		/* of the file, read so far */
	int too_long;		/* a line passed this many bytes */
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
	/* A failover takes a cluster's node timeout and an election; more
	 * than a lookup should wait, enough for a warmer to ride one out
	 * on a cluster tuned for it. */
	c->l2_failover_ms = 2000;
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
	memset(c->origin, 0, sizeof(c->origin));
}

/*
 * Every setting a file may give, in the order cw-stats config prints
 * them: how its value is read and written back, where it lives in
 * struct cw_cfg, and the environment variable that overrides it. apply()
 * and cw_cfg_format() both go through this one table, so a setting
 * cannot be read without also being shown.
 */
enum setting_kind {
	S_STR,		/* char[CW_CFG_STR], as given */
	S_PATH,		/* the same, ~ and $HOME expanded */
	S_LOGFILE,	/* a path, "off" for none ("") */
	S_U64,		/* uint64_t in [lo, hi] */
	S_UINT,		/* unsigned in [lo, hi] */
	S_SIZE,		/* uint64_t bytes: "512K", "100M" */
	S_MS,		/* int64_t milliseconds: "90s", "2h" */
	S_POS_MS,	/* the same, and positive */
	S_REAL,		/* double in [lo, hi] */
	S_YESNO,	/* int */
	S_MODE,		/* unsigned, octal */
	S_GROUP,	/* long gid, -1 for none */
	S_PREFIX,	/* char[64], no blanks or braces */
	S_TYPES,	/* char[256], key types */
};

struct setting {
	const char *section, *name;
	enum setting_kind kind;
	size_t off;
	double lo, hi;
	const char *env;	/* overrides the file, or NULL */
	int warm_path;		/* 'c', 'j': "" is cw_cfg_warm_path's */
	int env_empty_counts;	/* VAR= sets "" (L2 off), else ignored */
};

#define AT(field) offsetof(struct cw_cfg, field)
static const struct setting settings[] = {
	{ "l1", "file", S_PATH, AT(l1_file), 0, 0, "CW_L1_FILE", 0, 0 },
	{ "l1", "max_entries", S_U64, AT(l1_max_entries), 1, 1u << 24, NULL,
	    0, 0 },
	{ "l1", "max_bytes", S_SIZE, AT(l1_max_bytes), 0, 0, NULL, 0, 0 },
	{ "l1", "ttl", S_MS, AT(l1_ttl_ms), 0, 0, NULL, 0, 0 },
	{ "l1", "stale_if_error", S_MS, AT(l1_stale_if_error_ms), 0, 0, NULL,
	    0, 0 },
	{ "l1", "stale_exit_ok", S_YESNO, AT(l1_stale_exit_ok), 0, 0, NULL,
	    0, 0 },
	{ "l1", "mode", S_MODE, AT(l1_mode), 0, 0, NULL, 0, 0 },
	{ "l1", "group", S_GROUP, AT(l1_gid), 0, 0, NULL, 0, 0 },
	{ "l2", "url", S_STR, AT(l2_url), 0, 0, "CW_REDIS_URL", 0, 1 },
	{ "l2", "password_file", S_PATH, AT(l2_password_file), 0, 0, NULL,
	    0, 0 },
	{ "l2", "prefix", S_PREFIX, AT(l2_prefix), 0, 0, NULL, 0, 0 },
	{ "l2", "ttl", S_POS_MS, AT(l2_ttl_ms), 0, 0, NULL, 0, 0 },
	{ "l2", "connect_timeout", S_POS_MS, AT(l2_connect_timeout_ms), 0, 0,
	    NULL, 0, 0 },
	{ "l2", "timeout", S_POS_MS, AT(l2_timeout_ms), 0, 0, NULL, 0, 0 },
	{ "l2", "failover_wait", S_MS, AT(l2_failover_ms), 0, 0, NULL, 0, 0 },
	{ "l2", "slot_by_instrument", S_YESNO, AT(l2_by_instrument), 0, 0,
	    NULL, 0, 0 },
	{ "source", "url", S_STR, AT(source), 0, 0, "CW_SOURCE", 0, 0 },
	{ "source", "ttl", S_POS_MS, AT(source_ttl_ms), 0, 0, NULL, 0, 0 },
	{ "source", "connect_timeout", S_POS_MS,
	    AT(source_connect_timeout_ms), 0, 0, NULL, 0, 0 },
	{ "source", "timeout", S_POS_MS, AT(source_timeout_ms), 0, 0, NULL,
	    0, 0 },
	{ "source", "max_value_size", S_SIZE, AT(source_max_value_bytes), 0,
	    0, NULL, 0, 0 },
	{ "source", "random_endpoint", S_YESNO, AT(source_random_endpoint), 0,
	    0, NULL, 0, 0 },
	{ "source", "negative_ttl", S_MS, AT(negative_ttl_ms), 0, 0, NULL,
	    0, 0 },
	{ "source", "closed_day_ttl", S_POS_MS, AT(closed_day_ttl_ms), 0, 0,
	    NULL, 0, 0 },
	{ "source", "closed_day_types", S_TYPES, AT(closed_day_types), 0, 0,
	    NULL, 0, 0 },
	{ "warm", "calendar", S_PATH, AT(warm_calendar), 0, 0, NULL, 'c', 0 },
	{ "warm", "journal", S_PATH, AT(warm_journal), 0, 0, NULL, 'j', 0 },
	{ "warm", "jobs", S_UINT, AT(warm_jobs), 1, 1024, NULL, 0, 0 },
	{ "warm", "deadline", S_POS_MS, AT(warm_deadline_ms), 0, 0, NULL,
	    0, 0 },
	{ "warm", "refresh_below", S_REAL, AT(warm_refresh_below), 0, 1, NULL,
	    0, 0 },
	{ "stats", "warm_failure_warning", S_REAL, AT(warm_failure_warning), 0,
	    100, NULL, 0, 0 },
	{ "log", "file", S_LOGFILE, AT(log_file), 0, 0, NULL, 0, 0 },
	{ "log", "max_size", S_SIZE, AT(log_max_bytes), 0, 0, NULL, 0, 0 },
	{ "log", "keep", S_UINT, AT(log_keep), 1, 99, NULL, 0, 0 },
	{ "predict", "state_file", S_PATH, AT(predict_state), 0, 0, NULL,
	    0, 0 },
	{ "predict", "history", S_POS_MS, AT(predict_history_ms), 0, 0, NULL,
	    0, 0 },
};
#undef AT
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))
_Static_assert(NSETTINGS <= CW_CFG_SETTINGS, "origins fit every setting");

/* Read value into setting s of c; what names it in errors. */
static int
set_value(struct cw_cfg *c, const struct setting *s, const char *value,
    const char *what, struct cw_err *err)
{
	char *field = (char *)c + s->off;
	uint64_t u;
	double d;
	int rc;

	switch (s->kind) {
	case S_STR:
		return copy_str(field, value, err, what);
	case S_PATH:
		return copy_path(field, value, err, what);
	case S_LOGFILE:
		return copy_path(field, strcmp(value, "off") == 0 ? "" : value,
		    err, what);
	case S_U64:
		return cw_num_parse_u64(value, (uint64_t)s->lo,
		    (uint64_t)s->hi, what, (uint64_t *)(void *)field, err);
	case S_UINT:
		if ((rc = cw_num_parse_u64(value, (uint64_t)s->lo,
		    (uint64_t)s->hi, what, &u, err)) == CW_OK)
			*(unsigned *)(void *)field = (unsigned)u;
		return rc;
	case S_SIZE:
		return cw_num_parse_size(value, what,
		    (uint64_t *)(void *)field, err);
	case S_MS:
		return cw_num_parse_duration_ms(value, what,
		    (int64_t *)(void *)field, err);
	case S_POS_MS:
		return positive_duration(value, what,
		    (int64_t *)(void *)field, err);
	case S_REAL:
		if ((rc = cw_num_parse_double(value, s->lo, s->hi, what, &d,
		    err)) == CW_OK)
			*(double *)(void *)field = d;
		return rc;
	case S_YESNO:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "%s '%s': yes or no", what, value);
		*(int *)(void *)field = strcmp(value, "yes") == 0;
		return CW_OK;
	case S_MODE: {
		char *end;
		unsigned long m = strtoul(value, &end, 8);

		if (*value == '\0' || *end != '\0' || m > 0777)
			return cw_err_set(err, CW_EDATA, 0,
			    "%s '%s': not an octal mode", what, value);
		*(unsigned *)(void *)field = (unsigned)m;
		return CW_OK;
	}
	case S_GROUP: {
		struct group *g = value[0] != '\0' ? getgrnam(value) : NULL;

		if (value[0] == '\0') {	/* none: the owner's alone */
			*(long *)(void *)field = -1;
			return CW_OK;
		}
		if (g == NULL)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "%s '%s': no such group", what, value);
		*(long *)(void *)field = (long)g->gr_gid;
		return CW_OK;
	}
	case S_PREFIX:
		if (strlen(value) >= sizeof(c->l2_prefix) ||
		    strpbrk(value, " \t{}") != NULL)
			/* Braces are a Redis Cluster's hash tags, ours. */
			return cw_err_set(err, CW_EDATA, 0, "%s '%s': "
			    "at most %zu bytes, no blanks or braces", what,
			    value, sizeof(c->l2_prefix) - 1);
		strcpy(field, value);
		return CW_OK;
	case S_TYPES:
		return type_list(field, sizeof(c->closed_day_types), value,
		    err);
	}
	return cw_err_set(err, CW_ECONFIG, 0, "%s: unknown kind", what);
}

/* One "name = value" of section; *which gets the setting's index (-1
 * for a template). Returns CW_OK or a code with err set. */
static int
apply(struct cw_cfg *c, const char *section, const char *name,
    const char *value, int *which, struct cw_err *err)
{
	char what[64];

	*which = -1;
	if (strcmp(section, "templates") == 0)
		return add_template(c, name, value, err);
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (strcmp(section, s->section) != 0 ||
		    strcmp(name, s->name) != 0)
			continue;
		*which = (int)i;
		snprintf(what, sizeof(what), "%s.%s", s->section, s->name);
		return set_value(c, s, value, what, err);
	}
	return cw_err_set(err, CW_ECONFIG, 0, "unknown setting [%s] %s",
	    section, name);
}

/* A duration as the file would give it: the largest unit it is whole
 * in. */
static void
put_ms(struct cw_buf *b, int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
	    { 1000, "s" } };

	for (size_t i = 0; ms != 0 && i < sizeof(units) / sizeof(units[0]);
	    i++)
		if (ms % units[i].ms == 0) {
			cw_buf_appendf(b, NULL, "%lld%s",
			    (long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	cw_buf_appendf(b, NULL, ms == 0 ? "0" : "%lldms", (long long)ms);
}

/* A size the same way. */
static void
put_size(struct cw_buf *b, uint64_t n)
{
	static const char units[] = "GMK";

	for (int i = 0; n != 0 && i < 3; i++) {
		uint64_t unit = 1ull << (10 * (3 - i));

		if (n % unit == 0) {
			cw_buf_appendf(b, NULL, "%llu%c",
			    (unsigned long long)(n / unit), units[i]);
			return;
		}
	}
	cw_buf_appendf(b, NULL, "%llu", (unsigned long long)n);
}

/* Setting s's effective value in c, as a file would give it. */
static void
put_value(struct cw_buf *b, const struct cw_cfg *c, const struct setting *s)
{
	const char *field = (const char *)c + s->off;
	char path[CW_CFG_STR];

	switch (s->kind) {
	case S_STR:
	case S_PATH:
	case S_PREFIX:
		if (s->warm_path != 0 && field[0] == '\0') {
			cw_cfg_warm_path(c, s->warm_path, path);
			field = path;
		}
		cw_buf_appendf(b, NULL, "%s", field);
		break;
	case S_LOGFILE:
		cw_buf_appendf(b, NULL, "%s", field[0] ? field : "off");
		break;
	case S_U64:
		cw_buf_appendf(b, NULL, "%llu", (unsigned long long)
		    *(const uint64_t *)(const void *)field);
		break;
	case S_UINT:
		cw_buf_appendf(b, NULL, "%u",
		    *(const unsigned *)(const void *)field);
		break;
	case S_SIZE:
		put_size(b, *(const uint64_t *)(const void *)field);
		break;
	case S_MS:
	case S_POS_MS:
		put_ms(b, *(const int64_t *)(const void *)field);
		break;
	case S_REAL:
		cw_buf_appendf(b, NULL, "%g",
		    *(const double *)(const void *)field);
		break;
	case S_YESNO:
		cw_buf_appendf(b, NULL, "%s",
		    *(const int *)(const void *)field ? "yes" : "no");
		break;
	case S_MODE:
		cw_buf_appendf(b, NULL, "%04o",
		    *(const unsigned *)(const void *)field);
		break;
	case S_GROUP: {
		long gid = *(const long *)(const void *)field;
		struct group *g = gid >= 0 ? getgrgid((gid_t)gid) : NULL;

		if (g != NULL)
			cw_buf_appendf(b, NULL, "%s", g->gr_name);
		else if (gid >= 0)
			cw_buf_appendf(b, NULL, "%ld", gid);
		break;
	}
	case S_TYPES: {
		size_t n = strlen(field);

		/* Kept as " t1 t2 ": shown without the outer blanks. */
		cw_buf_appendf(b, NULL, "%.*s", n > 2 ? (int)(n - 2) : 0,
		    field + (n > 2));
		break;
	}
	}
}

int
cw_cfg_format(const struct cw_cfg *c, struct cw_buf *out)
{
	const char *section = "";
	size_t before = out->len;

	cw_buf_appendf(out, NULL, "# the effective configuration, each "
	    "value's origin after ';'\n# file: %s\n", c->loaded_from[0] ?
	    c->loaded_from : "none (built-in defaults)");
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		int32_t from = c->origin[i];
		size_t at;

		if (strcmp(section, s->section) != 0)
			cw_buf_appendf(out, NULL, "\n[%s]\n",
			    section = s->section);
		cw_buf_appendf(out, NULL, "%s = ", s->name);
		at = out->len;
		put_value(out, c, s);
		if (out->len == at)	/* empty: no blank before the ';' */
			out->len--;
		if (from == CW_CFG_FROM_ENV)
			cw_buf_appendf(out, NULL, " ; environment %s\n",
			    s->env);
		else if (from > 0)
			cw_buf_appendf(out, NULL, " ; %s:%ld\n",
			    c->loaded_from, (long)from);
		else
			cw_buf_appendf(out, NULL, " ; default\n");
	}
	if (c->templates_len > 0)
		cw_buf_appendf(out, NULL, "\n[templates]\n");
	for (size_t off = 0; off < c->templates_len;) {
		const char *type = c->templates + off;
		const char *sql = type + strlen(type) + 1;

		cw_buf_appendf(out, NULL, "%s = %s ; %s\n", type, sql,
		    c->loaded_from);
		off = (size_t)(sql - c->templates) + strlen(sql) + 1;
	}
	return out->len > before ? CW_OK : CW_ENOMEM;
}

/*
 * libinih's reader, counting lines. inih reads a line into a buffer of
 * num bytes (Debian builds it with 200) and takes whatever does not fit
 * for the next line: a long template would be cut in two silently and
 * the error, if any, would name the wrong line. A line too long is
 * refused here, with its number, and reading stops.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct load_ctx *lc = stream;
	size_t n;
	int ch;

	if (fgets(str, num, lc->f) == NULL)
		return NULL;
	lc->line++;
	n = strlen(str);
	if (n == 0 || str[n - 1] == '\n')
		return str;
	/* The buffer is full: fine if the line ends right here. */
	if ((ch = getc(lc->f)) == EOF || ch == '\n')
		return str;
	lc->too_long = num - 1;
	return NULL;
}

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *lc = user;
	struct cw_err e;
	int rc, which;

	if (lc->rc != CW_OK)
		return 0;
	/* A key outside any section follows a broken header such as
	 * "[l1": let inih report the syntax error at its line. */
	if (section[0] == '\0')
		return 0;
	if ((rc = apply(lc->cfg, section, name, value, &which, &e)) !=
	    CW_OK) {
		/* The file and line are added once inih says which line. */
		lc->rc = cw_err_set(lc->err, CW_ECONFIG, 0, "%s", e.msg);
		return 0;
	}
	if (which >= 0)
		lc->cfg->origin[which] = lc->line;
	return 1;
}

static int
load_file(struct cw_cfg *c, const char *path, struct cw_err *err)
{
	struct load_ctx lc = { c, path, err, CW_OK, NULL, 0, 0 };
	struct stat st;
	int line;

	if ((lc.f = fopen(path, "re")) == NULL)
		return cw_err_set(err, CW_ECONFIG, errno, "%s", path);
	if (fstat(fileno(lc.f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(lc.f);
		return cw_err_set(err, CW_ECONFIG, 0, "%s: not a regular file",
		    path);
	}
	/* inih goes on past a setting the handler refuses and returns the
	 * first refused or malformed line's number: that is where it is. */
	line = ini_parse_stream(read_line, &lc, on_ini, &lc);
	fclose(lc.f);
	if (lc.too_long > 0)
		return cw_err_set(err, CW_ECONFIG, 0, "%s:%d: line longer than "
		    "%d bytes (a long template goes on indented lines)", path,
		    lc.line, lc.too_long);
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
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *st = &settings[i];

		/* CW_REDIS_URL= (empty) turns L2 off; an empty CW_L1_FILE
		 * or CW_SOURCE names nothing and is passed over. */
		if (st->env == NULL || (env = getenv(st->env)) == NULL ||
		    (*env == '\0' && !st->env_empty_counts))
			continue;
		if ((rc = copy_str((char *)c + st->off, env, err, st->env)) !=
		    CW_OK)
			return rc;
		c->origin[i] = CW_CFG_FROM_ENV;
	}
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
