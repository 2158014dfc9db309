/*
 * src_ch: ClickHouse over its HTTP interface, "clickhouse://host:8123/db"
 * (or "clickhouses://" for TLS), or several endpoints of one source,
 * "clickhouse://host1:8123,host2:8123/db": replicas, or servers that
 * each hold a Distributed table over the same shards. Queries go to one
 * endpoint, the first (or, with source.random_endpoint, one chosen per
 * process so that hosts spread their load); a query that cannot reach
 * it (no connection, or the connection lost before an answer) is sent
 * to the next, which then takes the queries that follow.
 *
 * A fill must never cache a partial result. Every query carries the
 * settings that make ClickHouse fail rather than answer with part of
 * the rows, whatever the server's profile says: a shard that cannot be
 * reached is an error (skip_unavailable_shards=0; a Distributed table
 * with it on returns the other shards' rows and no error), and so is a
 * limit on rows, bytes or time (*_overflow_mode=throw, not break).
 *
 * libcurl is loaded with dlopen at the first query, not linked: linking
 * it costs every process start about 13 ms of relocations and library
 * constructors, and most runs are answered by L1 without a query. One
 * multi handle carries every query in flight; its easy handles are kept
 * and reused, so their connections stay alive.
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
#include "key_int.h"
#include "tmpl_int.h"

/* The part of libcurl we use, resolved at first need. */
struct curl_api {
	void *dl;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned, int,
	    int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
};

/* One query: in flight, or idle and kept for its connection. */
struct xfer {
	CURL *easy;
	size_t endpoint;	/* where it is sent */
	size_t tries;		/* endpoints it has been sent to */
	struct cw_buf query;
	struct cw_buf *out;
	void *tag;
	int headers;		/* header lines of its template's FORMAT */
	int too_big;		/* the answer passed max_value_bytes */
	int no_memory;		/* the answer could not be kept */
	uint64_t max_value_bytes;
	int busy;
};

#define CH_ENDPOINTS_MAX 8

/* What every query asks of the server (above). */
#define CH_WHOLE_RESULTS "&skip_unavailable_shards=0" \
	"&result_overflow_mode=throw&read_overflow_mode=throw" \
	"&timeout_overflow_mode=throw"

struct ch_src {
	/* http(s)://host:port/?database=..., and host:port for messages */
	char url[CH_ENDPOINTS_MAX][CW_CFG_STR + 192];
	char where[CH_ENDPOINTS_MAX][CW_CFG_STR];
	size_t nendpoints;
	size_t current;			/* where new queries go */
	char user[256], password[256];
	long connect_timeout_ms, timeout_ms;
	uint64_t max_value_bytes;
	char *templates;		/* a copy of the configuration's */
	size_t templates_len;
	struct curl_api api;
	CURLM *multi;			/* NULL until the first query */
	struct curl_slist *headers;
	struct xfer **xfers;		/* made so far, busy or idle */
	size_t nxfers, busy;
	struct cw_src_ready ready;	/* answered without a query */
	struct cw_clock clock;
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

/* "//host[:port][,host[:port]...][/db]" after the scheme. */
static int
ch_open_scheme(void **self, const char *rest, const struct cw_src_opts *o,
    int tls, struct cw_err *err)
{
	const char *scheme = tls ? "clickhouses" : "clickhouse";
	const char *host, *slash, *db = "default", *end, *port;
	struct ch_src *s;
	int rc;

	if (strncmp(rest, "//", 2) != 0)
		return cw_err_set(err, CW_ECONFIG, 0, "source '%s:%s': "
		    "expected %s://host:port/database", scheme, rest, scheme);
	host = rest + 2;
	slash = strchr(host, '/');
	end = slash != NULL ? slash : host + strlen(host);
	if (slash != NULL && slash[1] != '\0')
		db = slash + 1;
	if (!valid_db(db))
		return cw_err_set(err, CW_ECONFIG, 0, "source '%s:%s': bad "
		    "host or database name", scheme, rest);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse source");
	for (const char *h = host; h <= end; ) {
		const char *comma = memchr(h, ',', (size_t)(end - h));
		size_t hostlen = (size_t)((comma != NULL ? comma : end) - h);
		size_t i = s->nendpoints;

		if (!valid_host(h, hostlen) || hostlen >= CW_CFG_STR - 8 ||
		    i == CH_ENDPOINTS_MAX) {
			free(s);
			return cw_err_set(err, CW_ECONFIG, 0, "source '%s:%s': "
			    "bad host or database name, or more than %d hosts",
			    scheme, rest, CH_ENDPOINTS_MAX);
		}
		/* A port-less host gets ClickHouse's HTTP(S) port. */
		port = memchr(h, ':', hostlen) != NULL || memchr(h, ']',
		    hostlen) != NULL ? "" : tls ? ":8443" : ":8123";
		snprintf(s->where[i], sizeof(s->where[i]), "%.*s%s",
		    (int)hostlen, h, port);
		snprintf(s->url[i], sizeof(s->url[i]),
		    "%s://%.*s%s/?database=%s&enable_http_compression=1"
		    CH_WHOLE_RESULTS, tls ? "https" : "http", (int)hostlen, h,
		    port, db);
		s->nendpoints++;
		h += hostlen + 1;
	}
	s->current = o->random_endpoint ?
	    (size_t)(cw_clock_random(&o->clock, 0) % s->nendpoints) : 0;
	s->connect_timeout_ms = (long)o->connect_timeout_ms;
	s->timeout_ms = (long)o->timeout_ms;
	s->max_value_bytes = o->max_value_bytes;
	s->clock = o->clock;
	if ((rc = copy_env(s->user, sizeof(s->user), "CW_CLICKHOUSE_USER",
	    err)) != CW_OK || (rc = copy_env(s->password,
	    sizeof(s->password), "CW_CLICKHOUSE_PASSWORD", err)) != CW_OK) {
		free(s);
		return rc;
	}
	s->templates_len = o->templates_len;
	if ((s->templates = malloc(s->templates_len + 1)) == NULL) {
		free(s);
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse source");
	}
	if (s->templates_len > 0)
		memcpy(s->templates, o->templates, s->templates_len);
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
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(multi_init, "curl_multi_init");
	SYM(multi_add_handle, "curl_multi_add_handle");
	SYM(multi_remove_handle, "curl_multi_remove_handle");
	SYM(multi_perform, "curl_multi_perform");
	SYM(multi_poll, "curl_multi_poll");
	SYM(multi_info_read, "curl_multi_info_read");
	SYM(multi_cleanup, "curl_multi_cleanup");
#undef SYM
	return CW_OK;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;

	if (x->max_value_bytes > 0 &&
	    x->out->len + size * nmemb > x->max_value_bytes) {
		x->too_big = 1;
		return 0;	/* less than given: curl aborts the transfer */
	}
	if (cw_buf_append(x->out, p, size * nmemb, NULL) != CW_OK) {
		x->no_memory = 1;	/* not curl's "failed writing" */
		return 0;
	}
	return size * nmemb;
}

/* libcurl and the multi handle, at the first query. */
static int
prepare(struct ch_src *s, struct cw_err *err)
{
	char h[300];
	int rc;

	if (s->multi != NULL)
		return CW_OK;
	if ((rc = load_curl(&s->api, err)) != CW_OK)
		return rc;
	if ((s->multi = s->api.multi_init()) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse: curl multi");
	if (s->user[0] != '\0') {
		snprintf(h, sizeof(h), "X-ClickHouse-User: %s", s->user);
		s->headers = s->api.slist_append(s->headers, h);
	}
	if (s->password[0] != '\0') {
		snprintf(h, sizeof(h), "X-ClickHouse-Key: %s", s->password);
		s->headers = s->api.slist_append(s->headers, h);
	}
	return CW_OK;
}

/* An idle transfer, or a new one. */
static struct xfer *
idle_xfer(struct ch_src *s, struct cw_err *err)
{
	struct xfer *x;
	void *p;

	for (size_t i = 0; i < s->nxfers; i++)
		if (!s->xfers[i]->busy)
			return s->xfers[i];
	if ((p = realloc(s->xfers, (s->nxfers + 1) * sizeof(*s->xfers))) ==
	    NULL) {
		cw_err_set(err, CW_ENOMEM, 0, "clickhouse: transfer");
		return NULL;
	}
	s->xfers = p;
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		cw_err_set(err, CW_ENOMEM, 0, "clickhouse: transfer");
		return NULL;
	}
	if ((x->easy = s->api.easy_init()) == NULL) {
		free(x);
		cw_err_set(err, CW_ENOMEM, 0, "clickhouse: curl handle");
		return NULL;
	}
	s->api.easy_setopt(x->easy, CURLOPT_HTTPHEADER, s->headers);
	s->api.easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	s->api.easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
	s->api.easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    s->connect_timeout_ms);
	s->api.easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	s->api.easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
	s->api.easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	s->api.easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	x->max_value_bytes = s->max_value_bytes;
	s->xfers[s->nxfers++] = x;
	return x;
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
server_error(const char *where, long status, const struct cw_buf *body,
    struct cw_err *err)
{
	size_t n = 0;

	while (n < body->len && body->data[n] != '\n' && n < 200)
		n++;
	return cw_err_set(err, CW_EUNAVAIL, 0, "clickhouse %s: HTTP %ld: %.*s",
	    where, status, (int)n, body->data != NULL ? body->data : "");
}

static int
ch_submit(void *self, const struct cw_key *key, struct cw_buf *out,
    void *tag, struct cw_err *err)
{
	struct ch_src *s = self;
	const char *tmpl;
	struct xfer *x;
	int rc;

	/* No template for it: not found, without a query. */
	if (!key->structured || (tmpl = cw_cfg_templates_find(s->templates,
	    s->templates_len, key->type)) == NULL)
		return cw_src_ready_push(&s->ready, tag, CW_ENOTFOUND, NULL) ==
		    CW_OK ? CW_OK : cw_err_set(err, CW_ENOMEM, 0,
		    "clickhouse source");
	/* Room for every query's answer, this one's included: reporting
	 * one must not fail later. */
	if (cw_src_ready_reserve(&s->ready, s->busy + 1) != CW_OK)
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse source");
	if ((rc = prepare(s, err)) != CW_OK || (x = idle_xfer(s, err)) == NULL)
		return rc != CW_OK ? rc : CW_ENOMEM;
	x->query.len = 0;
	if ((rc = cw_tmpl_expand(&x->query, tmpl, key, err)) != CW_OK)
		return rc;
	x->out = out;
	x->tag = tag;
	x->headers = header_lines(tmpl);
	x->too_big = x->no_memory = 0;
	x->endpoint = s->current;
	x->tries = 1;
	s->api.easy_setopt(x->easy, CURLOPT_URL, s->url[x->endpoint]);
	s->api.easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->query.data);
	s->api.easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE,
	    (long)x->query.len);
	if (s->api.multi_add_handle(s->multi, x->easy) != CURLM_OK)
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse: curl multi");
	x->busy = 1;
	s->busy++;
	return CW_OK;
}

/* The answer of a finished transfer. */
static int
finished(struct ch_src *s, struct xfer *x, CURLcode cc, struct cw_err *err)
{
	const char *where = s->where[x->endpoint];
	long status = 0;

	if (x->no_memory)
		return cw_err_set(err, CW_ENOMEM, 0, "clickhouse %s: no memory "
		    "for the answer", where);
	if (x->too_big)
		return cw_err_set(err, CW_ETOOBIG, 0, "clickhouse %s: answer "
		    "over %llu bytes (source.max_value_size)", where,
		    (unsigned long long)x->max_value_bytes);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return cw_err_set(err, CW_ETIMEOUT, 0,
		    "clickhouse %s: no answer within %ld ms", where,
		    s->timeout_ms);
	if (cc != CURLE_OK)
		return cw_err_set(err, CW_EUNAVAIL, 0, "clickhouse %s: %s",
		    where, s->api.easy_strerror(cc));
	s->api.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return server_error(where, status, x->out, err);
	if (is_empty_result(x->out, x->headers))
		return CW_ENOTFOUND;
	return CW_OK;
}

/* Did x fail for want of its endpoint, not of an answer: no
 * connection, or one lost before the answer was whole? */
static int
unreachable(struct ch_src *s, struct xfer *x, CURLcode cc)
{
	double connect_s = 0;

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		return 1;
	case CURLE_OPERATION_TIMEDOUT:	/* while connecting */
		s->api.easy_getinfo(x->easy, CURLINFO_CONNECT_TIME, &connect_s);
		return connect_s == 0;
	default:
		return 0;
	}
}

/* Send x again, to the endpoint after the one that failed it; that one
 * takes the queries that follow. 0 when every endpoint has had it. */
static int
next_endpoint(struct ch_src *s, struct xfer *x)
{
	if (x->tries >= s->nendpoints)
		return 0;
	s->api.multi_remove_handle(s->multi, x->easy);
	x->endpoint = (x->endpoint + 1) % s->nendpoints;
	x->tries++;
	s->current = x->endpoint;
	x->out->len = 0;
	x->too_big = x->no_memory = 0;
	s->api.easy_setopt(x->easy, CURLOPT_URL, s->url[x->endpoint]);
	return s->api.multi_add_handle(s->multi, x->easy) == CURLM_OK;
}

/* Move what the multi handle has finished to the ready queue. */
static void
collect(struct ch_src *s)
{
	struct cw_err e;
	CURLMsg *m;
	int left, rc;

	while ((m = s->api.multi_info_read(s->multi, &left)) != NULL) {
		struct xfer *x = NULL;
		CURLcode cc;

		if (m->msg != CURLMSG_DONE)
			continue;
		cc = m->data.result;
		s->api.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		if (unreachable(s, x, cc) && next_endpoint(s, x))
			continue;
		rc = finished(s, x, cc, &e);
		if (rc != CW_OK)
			x->out->len = 0;
		s->api.multi_remove_handle(s->multi, x->easy);
		x->busy = 0;
		s->busy--;
		/* Cannot fail: ch_submit reserved the room. */
		(void)cw_src_ready_push(&s->ready, x->tag, rc, &e);
	}
}

static size_t
ch_poll(void *self, int64_t wait_ns, struct cw_src_done *done, size_t cap)
{
	struct ch_src *s = self;
	const struct cw_clock *c = &s->clock;
	int64_t until = cw_clock_elapsed_ns(c) + wait_ns;
	int running;

	for (;;) {
		int64_t left;
		int ms;

		if (s->busy > 0) {
			s->api.multi_perform(s->multi, &running);
			collect(s);
		}
		if (s->ready.n > 0 || s->busy == 0)
			return cw_src_ready_pop(&s->ready, done, cap);
		left = wait_ns < 0 ? 1000000000 : until - cw_clock_elapsed_ns(c);
		if (left <= 0)
			return 0;
		/* Each transfer has its own timeout in curl: waiting a
		 * second at a time never outlives one. */
		ms = left > 1000000000 ? 1000 : (int)((left + 999999) / 1000000);
		s->api.multi_poll(s->multi, NULL, 0, ms, NULL);
	}
}

static size_t
ch_pending(const void *self)
{
	const struct ch_src *s = self;

	return s->busy + s->ready.n;
}

static void
ch_close(void *self)
{
	struct ch_src *s = self;

	for (size_t i = 0; i < s->nxfers; i++) {
		if (s->xfers[i]->busy)
			s->api.multi_remove_handle(s->multi, s->xfers[i]->easy);
		s->api.easy_cleanup(s->xfers[i]->easy);
		cw_buf_free(&s->xfers[i]->query);
		free(s->xfers[i]);
	}
	free(s->xfers);
	if (s->multi != NULL)
		s->api.multi_cleanup(s->multi);
	if (s->headers != NULL)
		s->api.slist_free_all(s->headers);
	/* libcurl stays loaded: unloading it would run its TLS library's
	 * destructors while atexit handlers may still point into it. */
	cw_src_ready_free(&s->ready);
	free(s->templates);
	free(s);
}

const struct cw_src_ops cw_src_clickhouse_ops = {
	"clickhouse", ch_open, ch_submit, ch_poll, ch_pending, ch_close,
};

const struct cw_src_ops cw_src_clickhouses_ops = {
	"clickhouses", chs_open, ch_submit, ch_poll, ch_pending, ch_close,
};
