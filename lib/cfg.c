/*
 * cfg: configuration from built-in defaults, one INI file and the
 * environment, in that order of increasing precedence.
 *
 * libinih parses the file; this module only knows the keys. With no file
 * at all everything works: an L1 file in the user's cache directory and
 * the bundled sample data as the source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "cw.h"

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

static int
copy_str(char *dst, const char *src, struct cw_err *err, const char *what)
{
	if (strlen(src) >= CW_CFG_STR)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "%s: longer than %d bytes", what, CW_CFG_STR - 1);
	strcpy(dst, src);
	return CW_OK;
}

/* $XDG_CACHE_HOME/cw/NAME or ~/.cache/cw/NAME. */
static void
cache_path(char *dst, const char *name)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/')
		snprintf(dst, CW_CFG_STR, "%s/cw/%s", xdg, name);
	else if (home != NULL && home[0] != '\0')
		snprintf(dst, CW_CFG_STR, "%s/.cache/cw/%s", home, name);
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
		snprintf(dst, CW_CFG_STR, "csv:%s", CW_TREE_DATADIR);
	else
		snprintf(dst, CW_CFG_STR, "csv:%s/data", CW_DATADIR);
}

/* Every field is set here; the struct is not zeroed as a whole because
 * its path buffers span pages that a short-lived program need not touch. */
static void
defaults(struct cw_cfg *c)
{
	c->loaded_from[0] = '\0';
	cache_path(c->l1_file, "l1");
	c->l1_max_entries = 1000;
	c->l1_max_bytes = 100ull << 20;
	c->l1_ttl_ms = 300 * 1000;
	c->l1_mode = 0600;
	default_source(c->source);
	c->source_ttl_ms = 86400 * 1000ll;
	cache_path(c->log_file, "access.log");
	c->log_max_bytes = 64ull << 20;
	c->log_keep = 1;
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
		return copy_str(c->l1_file, value, err, "l1.file");
	if (IS("l1", "max_entries"))
		return cw_num_parse_u64(value, 1, 1u << 24, "l1.max_entries",
		    &c->l1_max_entries, err);
	if (IS("l1", "max_bytes"))
		return cw_num_parse_size(value, "l1.max_bytes",
		    &c->l1_max_bytes, err);
	if (IS("l1", "ttl"))
		return cw_num_parse_duration_ms(value, "l1.ttl",
		    &c->l1_ttl_ms, err);
	if (IS("l1", "mode")) {
		char *end;
		unsigned long m = strtoul(value, &end, 8);

		if (*value == '\0' || *end != '\0' || m > 0777)
			return cw_err_set(err, CW_EDATA, 0,
			    "l1.mode '%s': not an octal mode", value);
		c->l1_mode = (unsigned)m;
		return CW_OK;
	}
	if (IS("source", "url"))
		return copy_str(c->source, value, err, "source.url");
	if (IS("source", "ttl"))
		return cw_num_parse_duration_ms(value, "source.ttl",
		    &c->source_ttl_ms, err);
	if (IS("log", "file"))
		return copy_str(c->log_file, strcmp(value, "off") == 0 ? "" :
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
		lc->rc = cw_err_set(lc->err, CW_ECONFIG, 0, "%s: %s",
		    lc->path, e.msg);
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

	if ((f = fopen(path, "re")) == NULL)
		return cw_err_set(err, CW_ECONFIG, errno, "%s", path);
	line = ini_parse_file(f, on_ini, &lc);
	fclose(f);
	if (lc.rc != CW_OK)
		return lc.rc;
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
			snprintf(candidate, sizeof(candidate),
			    "%s/cw/cw.conf", xdg);
		else if (home != NULL && home[0] != '\0')
			snprintf(candidate, sizeof(candidate),
			    "%s/.config/cw/cw.conf", home);
		if (candidate[0] == '\0' || access(candidate, F_OK) != 0)
			snprintf(candidate, sizeof(candidate),
			    "/etc/cw/cw.conf");
		if (access(candidate, F_OK) == 0 &&
		    (rc = load_file(c, candidate, err)) != CW_OK)
			return rc;
	}
	if ((env = getenv("CW_L1_FILE")) != NULL && *env &&
	    (rc = copy_str(c->l1_file, env, err, "CW_L1_FILE")) != CW_OK)
		return rc;
	if ((env = getenv("CW_SOURCE")) != NULL && *env &&
	    (rc = copy_str(c->source, env, err, "CW_SOURCE")) != CW_OK)
		return rc;
	return CW_OK;
}
