/*
 * src_ch: ClickHouse over its HTTP interface, "clickhouse://host:8123/db"
 * (or "clickhouses://" for TLS).
 *
 * libcurl is loaded with dlopen at the first query, not linked: linking
 * it costs every process start about 13 ms of relocations and library
 * constructors, and most runs are answered by L1 without a query. One
 * easy handle per process is kept for keep-alive.
 *
 * The query is the key type's template from the configuration with the
 * key's parts as quoted literals (tmpl.c). Credentials come from the
 * environment and travel as X-ClickHouse-User/-Key headers, never in the
 * URL, which may end up in a log.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cw.h"
#include "cfg_int.h"
#include "src_int.h"

/* The part of libcurl we use, resolved at first need. */
struct curl_api {
	void *dl;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

struct ch_src {
	char url[CW_CFG_STR + 64];	/* http(s)://host:port/?database=.. */
	char where[CW_CFG_STR];		/* host:port, for messages */
	char user[256], password[256];
	long connect_timeout_ms, timeout_ms;
	char *templates;		/* a copy of the configuration's */
	size_t templates_len;
	struct curl_api api;
	CURL *curl;			/* NULL until the first query */
	struct curl_slist *headers;
	struct cw_buf query;
};

static int
valid_host(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(".-[]:", s[i])))
			return 0;
	return 1;
}

static int
valid_db(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int
copy_env(char *dst, size_t cap, const char *name, struct cw_err *err)
{
	const char *v = getenv(name);

	dst[0] = '\0';
	if (v == NULL)
		return CW_OK;
	if (strlen(v) >= cap || strpbrk(v, "\r\n") != NULL)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "%s: too long or not one line", name);
	strcpy(dst, v);
	return CW_OK;
}

/* "//host[:port][/db]" after the scheme. */
static int
ch_open_scheme(void **self, const char *rest, const struct cw_src_opts *o,
    int tls, struct cw_err *err)
{
	const char *scheme = tls ? "clickhouses" : "clickhouse";
	const char *host, *slash, *db = "default";
	struct ch_src *s;
	size_t hostlen;
	int rc;

	if (strncmp(rest, "//", 2) != 0)
		return cw_err_set(err, CW_ECONFIG, 0, "source '%s:%s': "
		    "expected %s://host:port/database", scheme, rest, scheme);
	host = rest + 2;
	slash = strchr(host, '/');
	hostlen = slash != NULL ? (size_t)(slash - host) : strlen(host);
	if (slash != NULL && slash[1] != '\0')
		db = slash + 1;
	if (!valid_host(host, hostlen) || !valid_db(db) ||
	    hostlen >= CW_CFG_STR - 8)
		return cw_err_set(err, CW_ECONFIG, 0, "source '%s:%s': bad "
		    "host or database name", scheme, rest);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse source");
	/* A port-less host gets ClickHouse's HTTP(S) port. */
	snprintf(s->where, sizeof(s->where), "%.*s%s", (int)hostlen, host,
	    memchr(host, ':', hostlen) != NULL || memchr(host, ']', hostlen)
	    != NULL ? "" : tls ? ":8443" : ":8123");
	snprintf(s->url, sizeof(s->url),
	    "%s://%s/?database=%s&enable_http_compression=1",
	    tls ? "https" : "http", s->where, db);
	s->connect_timeout_ms = (long)o->cfg->source_connect_timeout_ms;
	s->timeout_ms = (long)o->cfg->source_timeout_ms;
	if ((rc = copy_env(s->user, sizeof(s->user), "CW_CLICKHOUSE_USER",
	    err)) != CW_OK || (rc = copy_env(s->password,
	    sizeof(s->password), "CW_CLICKHOUSE_PASSWORD", err)) != CW_OK) {
		free(s);
		return rc;
	}
	s->templates_len = o->cfg->templates_len;
	if ((s->templates = malloc(s->templates_len + 1)) == NULL) {
		free(s);
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse source");
	}
	memcpy(s->templates, o->cfg->templates, s->templates_len);
	*self = s;
	return CW_OK;
}

static int
ch_open(void **self, const char *rest, const struct cw_src_opts *o,
    struct cw_err *err)
{
	return ch_open_scheme(self, rest, o, 0, err);
}

static int
chs_open(void **self, const char *rest, const struct cw_src_opts *o,
    struct cw_err *err)
{
	return ch_open_scheme(self, rest, o, 1, err);
}

static int
load_curl(struct curl_api *a, struct cw_err *err)
{
	static const char *const names[] = { "libcurl.so.4",
		"libcurl-gnutls.so.4" };

	for (size_t i = 0; a->dl == NULL && i < 2; i++)
		a->dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (a->dl == NULL)
		return cw_err_set(err, CW_EUNAVAIL, 0,
		    "clickhouse: cannot load libcurl: %s", dlerror());
#define SYM(field, name) \
	if ((*(void **)&a->field = dlsym(a->dl, name)) == NULL) \
		return cw_err_set(err, CW_EUNAVAIL, 0, \
		    "clickhouse: libcurl lacks %s", name)
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	return CW_OK;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	/* Returning less than given makes curl abort with an error. */
	return cw_buf_append(ctx, p, size * nmemb, NULL) == CW_OK ?
	    size * nmemb : 0;
}

/* The handle, made once and reused: its connection stays alive. */
static int
prepare(struct ch_src *s, struct cw_err *err)
{
	char h[300];
	int rc;

	if (s->curl != NULL)
		return CW_OK;
	if ((rc = load_curl(&s->api, err)) != CW_OK)
		return rc;
	if ((s->curl = s->api.easy_init()) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse: curl handle");
	if (s->user[0] != '\0') {
		snprintf(h, sizeof(h), "X-ClickHouse-User: %s", s->user);
		s->headers = s->api.slist_append(s->headers, h);
	}
	if (s->password[0] != '\0') {
		snprintf(h, sizeof(h), "X-ClickHouse-Key: %s", s->password);
		s->headers = s->api.slist_append(s->headers, h);
	}
	s->api.easy_setopt(s->curl, CURLOPT_URL, s->url);
	s->api.easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
	s->api.easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	s->api.easy_setopt(s->curl, CURLOPT_ACCEPT_ENCODING, "");
	s->api.easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    s->connect_timeout_ms);
	s->api.easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	s->api.easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
	return CW_OK;
}

/* Lines a result of the template's FORMAT starts with before any row:
 * an empty result is only those. */
static int
header_lines(const char *tmpl)
{
	const char *p, *fmt = NULL;
	size_t n;

	for (p = tmpl; (p = strcasestr(p, "format")) != NULL; p += 6)
		fmt = p + 6;
	if (fmt == NULL)
		return 0;
	fmt += strspn(fmt, " \t\n");
	n = strcspn(fmt, " \t\n;");
	if (n >= 17 && strncasecmp(fmt + n - 17, "WithNamesAndTypes", 17) == 0)
		return 2;
	if (n >= 9 && strncasecmp(fmt + n - 9, "WithNames", 9) == 0)
		return 1;
	return 0;
}

static int
is_empty_result(const struct cw_buf *body, int headers)
{
	int lines = 0;

	for (size_t i = 0; i < body->len; i++)
		if (body->data[i] == '\n' && ++lines > headers)
			return 0;
	return body->len == 0 || lines == headers;
}

/* An exception's first line: ClickHouse sends it as the body. */
static int
server_error(struct ch_src *s, long status, const struct cw_buf *body,
    struct cw_err *err)
{
	size_t n = 0;

	while (n < body->len && body->data[n] != '\n' && n < 200)
		n++;
	return cw_err_set(err, CW_EUNAVAIL, 0, "clickhouse %s: HTTP %ld: %.*s",
	    s->where, status, (int)n, body->data != NULL ? body->data : "");
}

static int
ch_get(void *self, const struct cw_key *key, struct cw_buf *out,
    struct cw_err *err)
{
	struct ch_src *s = self;
	const char *tmpl;
	long status = 0;
	CURLcode cc;
	int rc;

	if (!key->structured || (tmpl = cw_cfg_templates_find(s->templates,
	    s->templates_len, key->type)) == NULL)
		return CW_ENOTFOUND;
	s->query.len = 0;
	if ((rc = cw_tmpl_expand(&s->query, tmpl, key, err)) != CW_OK ||
	    (rc = prepare(s, err)) != CW_OK)
		return rc;
	s->api.easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->query.data);
	s->api.easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)s->query.len);
	s->api.easy_setopt(s->curl, CURLOPT_WRITEDATA, out);
	cc = s->api.easy_perform(s->curl);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return cw_err_set(err, CW_ETIMEOUT, 0,
		    "clickhouse %s: no answer within %ld ms", s->where,
		    s->timeout_ms);
	if (cc != CURLE_OK)
		return cw_err_set(err, CW_EUNAVAIL, 0, "clickhouse %s: %s",
		    s->where, s->api.easy_strerror(cc));
	s->api.easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		rc = server_error(s, status, out, err);
		out->len = 0;
		return rc;
	}
	if (is_empty_result(out, header_lines(tmpl))) {
		out->len = 0;
		return CW_ENOTFOUND;
	}
	return CW_OK;
}

static void
ch_close(void *self)
{
	struct ch_src *s = self;

	if (s->curl != NULL)
		s->api.easy_cleanup(s->curl);
	if (s->headers != NULL)
		s->api.slist_free_all(s->headers);
	/* libcurl stays loaded: unloading it would run its TLS library's
	 * destructors while atexit handlers may still point into it. */
	cw_buf_free(&s->query);
	free(s->templates);
	free(s);
}

const struct cw_src_ops cw_src_clickhouse_ops = {
	"clickhouse", ch_open, ch_get, ch_close,
};

const struct cw_src_ops cw_src_clickhouses_ops = {
	"clickhouses", chs_open, ch_get, ch_close,
};
