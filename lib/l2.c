/*
 * l2: Redis, the level every host shares, through hiredis.
 *
 * Nothing connects until a lookup needs L2. Every exchange is one
 * pipelined round trip, whatever the number of keys (a batch lookup
 * takes a second one only for the keys it found no value for). A failed
 * exchange gets one reconnect and one retry; when that fails too the
 * level is down for the rest of the process (cw_l2_down), so a dead or
 * stalled Redis costs one timeout per process, not one per key.
 *
 * Under the prefix, a key KEY has up to three Redis keys: "KEY" holds the
 * value's raw bytes, "KEY none" remembers that the source had nothing,
 * "KEY lock" is the single-flight lock of whoever is fetching it. The
 * space cannot occur in a key, so these never collide with another key.
 * With calendar expiry (a replay's), "KEY until" holds the value's
 * expiry in calendar milliseconds and "KEY none" the miss's: Redis
 * expires by its own clock, which a simulated month does not move.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cw.h"
#include "hash_int.h"
#include "l2_int.h"

struct cw_l2 {
	char url[CW_CFG_STR];		/* for messages: holds no password */
	char host[CW_CFG_STR];		/* or the socket path */
	int port;			/* 0: a Unix socket */
	int db;
	char user[128], password[256];
	char prefix[64];
	int64_t ttl_ms, connect_timeout_ms, timeout_ms;
	struct cw_clock clock;
	uint64_t draws;			/* of the clock's random numbers */
	char token[64];			/* ours in a lock: "pid:ns" */
	redisContext *ctx;		/* NULL: not connected */
	int down;
	int calendar_expiry;
	struct cw_buf name;		/* scratch: prefix + key + suffix */
};

static struct timeval
ms_to_tv(int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 *
	    1000) };

	return tv;
}

/* redis://[user[:]@]host[:port][/db] or unix:///path. */
static int
parse_url(struct cw_l2 *l2, const char *url, struct cw_err *err)
{
	const char *p, *at, *end, *colon;
	char *num_end;
	long v;

	snprintf(l2->url, sizeof(l2->url), "%s", url);
	if (strncmp(url, "unix://", 7) == 0) {
		if (url[7] != '/' || strlen(url + 7) >= sizeof(l2->host))
			return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': "
			    "expected unix:///path/to/socket", url);
		strcpy(l2->host, url + 7);
		return CW_OK;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': expected "
		    "redis://host:port/db or unix:///path", url);
	p = url + 8;
	end = p + strcspn(p, "/");
	if ((at = memchr(p, '@', (size_t)(end - p))) != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon != NULL && colon + 1 != at)
			return cw_err_set(err, CW_ECONFIG, 0, "l2.url: no "
			    "password in the URL; use CW_REDIS_PASSWORD or "
			    "l2.password_file");
		snprintf(l2->user, sizeof(l2->user), "%.*s",
		    (int)((colon != NULL ? colon : at) - p), p);
		p = at + 1;
	}
	l2->port = 6379;
	if ((colon = memchr(p, ':', (size_t)(end - p))) != NULL) {
		errno = 0;
		v = strtol(colon + 1, &num_end, 10);
		if (num_end != end || v < 1 || v > 65535)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "l2.url '%s': bad port", url);
		l2->port = (int)v;
	} else {
		colon = end;
	}
	if (colon == p || (size_t)(colon - p) >= sizeof(l2->host))
		return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': no host",
		    url);
	memcpy(l2->host, p, (size_t)(colon - p));
	l2->host[colon - p] = '\0';
	if (*end == '/' && end[1] != '\0') {
		v = strtol(end + 1, &num_end, 10);
		if (*num_end != '\0' || v < 0 || v > 1000000)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "l2.url '%s': bad database number", url);
		l2->db = (int)v;
	}
	return CW_OK;
}

int
cw_l2_check_url(const char *url, struct cw_err *err)
{
	struct cw_l2 *probe = calloc(1, sizeof(*probe));
	int rc;

	if (probe == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	rc = parse_url(probe, url, err);
	free(probe);
	return rc;
}

/* CW_REDIS_PASSWORD, else the first line of l2.password_file. */
static int
read_password(struct cw_l2 *l2, const char *file, struct cw_err *err)
{
	const char *env = getenv("CW_REDIS_PASSWORD");
	FILE *f;

	if (env != NULL && *env != '\0') {
		if (strlen(env) >= sizeof(l2->password))
			return cw_err_set(err, CW_ECONFIG, 0,
			    "CW_REDIS_PASSWORD: too long");
		strcpy(l2->password, env);
		return CW_OK;
	}
	if (file[0] == '\0')
		return CW_OK;
	if ((f = fopen(file, "re")) == NULL)
		return cw_err_set(err, CW_ECONFIG, errno,
		    "l2.password_file %s", file);
	if (fgets(l2->password, sizeof(l2->password), f) == NULL)
		l2->password[0] = '\0';
	fclose(f);
	l2->password[strcspn(l2->password, "\r\n")] = '\0';
	return CW_OK;
}

int
cw_l2_open(struct cw_l2 **out, const struct cw_l2_opts *o,
    struct cw_err *err)
{
	struct cw_l2 *l2;
	int rc;

	*out = NULL;
	if ((l2 = calloc(1, sizeof(*l2))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	if ((rc = parse_url(l2, o->url, err)) != CW_OK ||
	    (rc = read_password(l2, o->password_file != NULL ?
	    o->password_file : "", err)) !=
	    CW_OK) {
		free(l2);
		return rc;
	}
	snprintf(l2->prefix, sizeof(l2->prefix), "%s", o->prefix != NULL ?
	    o->prefix : "");
	l2->ttl_ms = o->ttl_ms;
	l2->connect_timeout_ms = o->connect_timeout_ms;
	l2->timeout_ms = o->timeout_ms;
	l2->clock = o->clock;
	l2->calendar_expiry = o->calendar_expiry;
	/* Ours alone: the pid tells processes apart, the random part a
	 * reused pid. */
	snprintf(l2->token, sizeof(l2->token), "%ld:%llx", (long)getpid(),
	    (unsigned long long)cw_clock_random(&o->clock, l2->draws++));
	*out = l2;
	return CW_OK;
}

void
cw_l2_close(struct cw_l2 *l2)
{
	if (l2 == NULL)
		return;
	if (l2->ctx != NULL)
		redisFree(l2->ctx);
	cw_buf_free(&l2->name);
	explicit_bzero(l2->password, sizeof(l2->password));
	free(l2);
}

int
cw_l2_down(const struct cw_l2 *l2)
{
	return l2->down;
}

/* The code and message for a context's failure: a stalled server shows
 * as EAGAIN from the socket timeout. */
static int
context_error(struct cw_l2 *l2, redisContext *c, int saved_errno,
    struct cw_err *err)
{
	if (c != NULL && c->err == REDIS_ERR_IO && (saved_errno == EAGAIN ||
	    saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
	    saved_errno == EINPROGRESS))
		return cw_err_set(err, CW_ETIMEOUT, 0, "l2 %s: no answer "
		    "within %lld ms", l2->url, (long long)(c->flags & REDIS_CONNECTED
		    ? l2->timeout_ms : l2->connect_timeout_ms));
	return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s", l2->url,
	    c != NULL ? c->errstr : "out of memory");
}

/* Run one command on a fresh connection; a reply other than the one
 * expected is an error. */
static int
setup_command(struct cw_l2 *l2, int argc, const char **argv,
    struct cw_err *err)
{
	redisReply *r = redisCommandArgv(l2->ctx, argc, argv, NULL);
	int rc = CW_OK;

	if (r == NULL)
		return context_error(l2, l2->ctx, errno, err);
	if (r->type == REDIS_REPLY_ERROR)
		rc = cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s: %s", l2->url,
		    argv[0], r->str);
	freeReplyObject(r);
	return rc;
}

static int
connect_l2(struct cw_l2 *l2, struct cw_err *err)
{
	struct timeval ctv = ms_to_tv(l2->connect_timeout_ms);
	char db[16];
	int rc;

	l2->ctx = l2->port == 0 ? redisConnectUnixWithTimeout(l2->host, ctv) :
	    redisConnectWithTimeout(l2->host, l2->port, ctv);
	if (l2->ctx == NULL || l2->ctx->err != 0)
		return context_error(l2, l2->ctx, errno, err);
	if (redisSetTimeout(l2->ctx, ms_to_tv(l2->timeout_ms)) != REDIS_OK)
		return context_error(l2, l2->ctx, errno, err);
	if (l2->password[0] != '\0') {
		const char *auth_user[] = { "AUTH", l2->user, l2->password };
		const char *auth[] = { "AUTH", l2->password };

		if ((rc = l2->user[0] != '\0' ?
		    setup_command(l2, 3, auth_user, err) :
		    setup_command(l2, 2, auth, err)) != CW_OK)
			return rc;
	}
	if (l2->db != 0) {
		const char *select[] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", l2->db);
		if ((rc = setup_command(l2, 2, select, err)) != CW_OK)
			return rc;
	}
	return CW_OK;
}

static void
disconnect(struct cw_l2 *l2)
{
	if (l2->ctx != NULL)
		redisFree(l2->ctx);
	l2->ctx = NULL;
}

/*
 * An error reply: WRONGTYPE concerns one key (someone else's data under
 * our prefix); any other (NOAUTH, LOADING, READONLY, OOM...) says the
 * server cannot serve us now, and the level is given up like a dead one.
 */
static int
error_reply(struct cw_l2 *l2, const redisReply *r, struct cw_err *err)
{
	int per_key = strncmp(r->str, "WRONGTYPE", 9) == 0;

	if (!per_key)
		l2->down = 1;
	return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s", l2->url, r->str);
}

/* Commands of one exchange: appended by a builder, answered in order. */
typedef void build_fn(struct cw_l2 *l2, void *ctx);

static int
exchange_once(struct cw_l2 *l2, build_fn *build, void *ctx,
    redisReply **replies, size_t n, struct cw_err *err)
{
	int rc;

	if (l2->ctx == NULL && (rc = connect_l2(l2, err)) != CW_OK)
		return rc;
	build(l2, ctx);
	for (size_t i = 0; i < n; i++) {
		if (redisGetReply(l2->ctx, (void **)&replies[i]) != REDIS_OK) {
			rc = context_error(l2, l2->ctx, errno, err);
			for (size_t j = 0; j < i; j++)
				freeReplyObject(replies[j]);
			return rc;
		}
	}
	return CW_OK;
}

/*
 * One round trip, with one reconnect and retry when the connection
 * fails. Every command here is safe to repeat: GET, PTTL, SET with PX,
 * SET NX of our own token, and the token-checked unlock.
 */
static int
exchange(struct cw_l2 *l2, build_fn *build, void *ctx, redisReply **replies,
    size_t n, struct cw_err *err)
{
	int rc;

	if (l2->down)
		return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: down", l2->url);
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = exchange_once(l2, build, ctx, replies, n, err)) ==
		    CW_OK)
			return CW_OK;
		disconnect(l2);
	}
	l2->down = 1;
	return rc;
}

/* The Redis key, prefix + key + suffix, appended to to; CW_ENOMEM when
 * out of memory. */
static int
name_append(const struct cw_l2 *l2, struct cw_buf *to, const char *key,
    size_t klen, const char *suffix)
{
	return cw_buf_append(to, l2->prefix, strlen(l2->prefix), NULL) ==
	    CW_OK && cw_buf_append(to, key, klen, NULL) == CW_OK &&
	    cw_buf_append(to, suffix, strlen(suffix), NULL) == CW_OK ?
	    CW_OK : CW_ENOMEM;
}

/* The same, alone in the scratch buffer: its length, 0 when out of
 * memory. */
static size_t
redis_name(struct cw_l2 *l2, const char *key, size_t klen,
    const char *suffix)
{
	l2->name.len = 0;
	return name_append(l2, &l2->name, key, klen, suffix) == CW_OK ?
	    l2->name.len : 0;
}

/* Append one command: verb, the Redis key, then extra arguments. Out of
 * memory, nothing is appended and the exchange fails reading replies. */
static void
append(struct cw_l2 *l2, const char *verb, const char *key, size_t klen,
    const char *suffix, int nextra, const char **extra,
    const size_t *extra_len)
{
	const char *argv[6];
	size_t lens[6];
	int argc = 0;

	if ((lens[1] = redis_name(l2, key, klen, suffix)) == 0)
		return;
	argv[argc] = verb;
	lens[argc++] = strlen(verb);
	argv[argc++] = l2->name.data;
	for (int i = 0; i < nextra && argc < 6; i++) {
		argv[argc] = extra[i];
		lens[argc++] = extra_len[i];
	}
	redisAppendCommandArgv(l2->ctx, argc, argv, lens);
}

/* The commands that look a key up: its value, the value's life left,
 * and the life left of a remembered miss; with calendar expiry, the two
 * expiries too. */
static size_t
look_replies(const struct cw_l2 *l2)
{
	return l2->calendar_expiry ? 5 : 3;
}

static void
append_look(struct cw_l2 *l2, const char *key, size_t klen)
{
	append(l2, "GET", key, klen, "", 0, NULL, NULL);
	append(l2, "PTTL", key, klen, "", 0, NULL, NULL);
	append(l2, "PTTL", key, klen, " none", 0, NULL, NULL);
	if (l2->calendar_expiry) {
		append(l2, "GET", key, klen, " until", 0, NULL, NULL);
		append(l2, "GET", key, klen, " none", 0, NULL, NULL);
	}
}

static int64_t
calendar_ms(const struct cw_l2 *l2)
{
	return cw_clock_calendar_ns(&l2->clock) / 1000000;
}

/* Life left by a calendar expiry stamp: -2 when it has passed, ttl
 * (Redis's view) when there is no stamp. */
static int64_t
stamped_life(const struct cw_l2 *l2, const redisReply *stamp, int64_t ttl)
{
	char text[24];
	int64_t left;

	if (ttl == -2 || stamp->type != REDIS_REPLY_STRING || stamp->len == 0 ||
	    stamp->len >= sizeof(text))
		return ttl;
	memcpy(text, stamp->str, stamp->len);
	text[stamp->len] = '\0';
	left = strtoll(text, NULL, 10) - calendar_ms(l2);
	return left > 0 ? left : -2;
}

/* PTTL's answer: -1 no expiry, -2 gone. */
static int64_t
pttl(const redisReply *r)
{
	return r->type == REDIS_REPLY_INTEGER ? r->integer : -2;
}

/* Fill q from the replies of append_look. */
static int
read_look(const struct cw_l2 *l2, struct cw_l2_lookup *q, redisReply **r,
    struct cw_err *err)
{
	int64_t ttl = pttl(r[1]), neg_ttl = pttl(r[2]);

	if (l2->calendar_expiry) {
		ttl = stamped_life(l2, r[3], ttl);
		neg_ttl = stamped_life(l2, r[4], neg_ttl);
	}

	q->negative = 0;
	q->ttl_ms = -1;
	q->rc = CW_ENOTFOUND;
	if (r[0]->type == REDIS_REPLY_STRING && ttl != -2) {
		q->val->len = 0;
		q->rc = cw_buf_append(q->val, r[0]->str, r[0]->len, err);
		q->ttl_ms = ttl;
	} else if (r[0]->type == REDIS_REPLY_ERROR) {
		/* WRONGTYPE: someone else's data under our prefix. */
		q->rc = CW_EUNAVAIL;
	} else if (neg_ttl != -2) {
		q->negative = 1;
		q->ttl_ms = neg_ttl;
	}
	return q->rc == CW_ENOMEM ? CW_ENOMEM : CW_OK;
}

/* Run an exchange of n replies; a server-wide error reply among them
 * gives the level up. The caller frees the replies on CW_OK. */
static int
exchange_checked(struct cw_l2 *l2, build_fn *build, void *ctx,
    redisReply **r, size_t n, struct cw_err *err)
{
	int rc;

	if ((rc = exchange(l2, build, ctx, r, n, err)) != CW_OK)
		return rc;
	for (size_t i = 0; i < n && !l2->down; i++)
		if (r[i]->type == REDIS_REPLY_ERROR)
			rc = error_reply(l2, r[i], err);
	if (!l2->down)
		return CW_OK;
	for (size_t i = 0; i < n; i++)
		freeReplyObject(r[i]);
	return rc;
}

static void
free_replies(redisReply **r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		freeReplyObject(r[i]);
}

/*
 * A batch is looked up with one MGET per MGET_KEYS keys and a PTTL per
 * key: a third of the commands of a GET, PTTL and "none" PTTL per key,
 * which is what Redis spends its time on. Only the keys that come back
 * without a value are asked, in a second round trip, whether their miss
 * is remembered. A long MGET holds Redis up for its other clients, so
 * it is cut short.
 */
#define MGET_KEYS 256

struct get_ctx {
	struct cw_l2_lookup *q;
	const size_t *which;	/* the keys of the exchange, as indexes in q */
	size_t n;
	struct cw_buf names;	/* one chunk's Redis keys, end to end */
	size_t at[MGET_KEYS];
	const char *argv[MGET_KEYS + 1];
	size_t lens[MGET_KEYS + 1];
};

/* Replies per key of either exchange of a batch besides the MGETs: a
 * PTTL, and with calendar expiry the stamp. */
static size_t
replies_per_key(const struct cw_l2 *l2)
{
	return l2->calendar_expiry ? 2 : 1;
}

/* The first reply of the chunk holding key b of the first exchange:
 * every chunk before it is full. */
static size_t
chunk_reply(const struct cw_l2 *l2, size_t b)
{
	return b / MGET_KEYS + b * replies_per_key(l2);
}

static void
build_values(struct cw_l2 *l2, void *ctx)
{
	struct get_ctx *g = ctx;

	for (size_t b = 0; b < g->n; b += MGET_KEYS) {
		size_t c = g->n - b < MGET_KEYS ? g->n - b : MGET_KEYS;
		const struct cw_l2_lookup *q = g->q;

		g->names.len = 0;
		for (size_t j = 0; j < c; j++) {
			g->at[j] = g->names.len;
			if (name_append(l2, &g->names, q[g->which[b + j]].key,
			    q[g->which[b + j]].klen, "") != CW_OK)
				return;	/* the exchange fails on its replies */
		}
		g->argv[0] = "MGET";
		g->lens[0] = 4;
		for (size_t j = 0; j < c; j++) {
			g->argv[j + 1] = g->names.data + g->at[j];
			g->lens[j + 1] = (j + 1 < c ? g->at[j + 1] :
			    g->names.len) - g->at[j];
		}
		redisAppendCommandArgv(l2->ctx, (int)c + 1, g->argv, g->lens);
		for (size_t j = 0; j < c; j++)
			append(l2, "PTTL", q[g->which[b + j]].key,
			    q[g->which[b + j]].klen, "", 0, NULL, NULL);
		for (size_t j = 0; l2->calendar_expiry && j < c; j++)
			append(l2, "GET", q[g->which[b + j]].key,
			    q[g->which[b + j]].klen, " until", 0, NULL, NULL);
	}
}

static void
build_misses(struct cw_l2 *l2, void *ctx)
{
	struct get_ctx *g = ctx;

	for (size_t i = 0; i < g->n; i++)
		append(l2, "PTTL", g->q[g->which[i]].key,
		    g->q[g->which[i]].klen, " none", 0, NULL, NULL);
	for (size_t i = 0; l2->calendar_expiry && i < g->n; i++)
		append(l2, "GET", g->q[g->which[i]].key,
		    g->q[g->which[i]].klen, " none", 0, NULL, NULL);
}

/*
 * Key i of the first exchange, from its chunk's replies r: its value,
 * CW_EUNAVAIL when the Redis key holds something that is not a string
 * (MGET says nil, PTTL says it exists), or *later when only the second
 * exchange can tell a remembered miss from an absent key.
 */
static int
read_value(const struct cw_l2 *l2, struct cw_l2_lookup *q, redisReply **r,
    size_t j, size_t c, int *later, struct cw_err *err)
{
	const redisReply *mget = r[0], *v;
	int64_t ttl = pttl(r[1 + j]), life = ttl;

	*later = 0;
	q->negative = 0;
	q->ttl_ms = -1;
	q->rc = CW_ENOTFOUND;
	if (mget->type != REDIS_REPLY_ARRAY || mget->elements != c) {
		q->rc = CW_EUNAVAIL;
		return CW_OK;
	}
	v = mget->element[j];
	if (l2->calendar_expiry)
		life = stamped_life(l2, r[1 + c + j], ttl);
	if (v->type == REDIS_REPLY_STRING && life != -2) {
		q->val->len = 0;
		q->rc = cw_buf_append(q->val, v->str, v->len, err);
		q->ttl_ms = life;
		return q->rc == CW_ENOMEM ? CW_ENOMEM : CW_OK;
	}
	if (v->type != REDIS_REPLY_STRING && ttl != -2)
		q->rc = CW_EUNAVAIL;	/* someone else's data under our prefix */
	else
		*later = 1;
	return CW_OK;
}

/* Key i of the second exchange: remembered as missing, or absent. */
static void
read_miss(const struct cw_l2 *l2, struct cw_l2_lookup *q, redisReply **r,
    size_t i, size_t n)
{
	int64_t neg_ttl = pttl(r[i]);

	if (l2->calendar_expiry)
		neg_ttl = stamped_life(l2, r[n + i], neg_ttl);
	if (neg_ttl != -2) {
		q->negative = 1;
		q->ttl_ms = neg_ttl;
	}
}

static int
get_values(struct cw_l2 *l2, struct get_ctx *g, redisReply **r,
    size_t *later, size_t *nlater, struct cw_err *err)
{
	size_t nr = chunk_reply(l2, g->n) + (g->n % MGET_KEYS != 0);
	int rc, wait;

	*nlater = 0;
	if ((rc = exchange_checked(l2, build_values, g, r, nr, err)) != CW_OK)
		return rc;
	for (size_t b = 0; b < g->n && rc == CW_OK; b += MGET_KEYS) {
		size_t c = g->n - b < MGET_KEYS ? g->n - b : MGET_KEYS;

		for (size_t j = 0; j < c && rc == CW_OK; j++) {
			rc = read_value(l2, &g->q[g->which[b + j]],
			    r + chunk_reply(l2, b), j, c, &wait, err);
			if (wait)
				later[(*nlater)++] = g->which[b + j];
		}
	}
	free_replies(r, nr);
	return rc;
}

static int
get_misses(struct cw_l2 *l2, struct get_ctx *g, redisReply **r,
    struct cw_err *err)
{
	size_t nr = g->n * replies_per_key(l2);
	int rc;

	if (g->n == 0)
		return CW_OK;
	if ((rc = exchange_checked(l2, build_misses, g, r, nr, err)) != CW_OK)
		return rc;
	for (size_t i = 0; i < g->n; i++)
		read_miss(l2, &g->q[g->which[i]], r, i, g->n);
	free_replies(r, nr);
	return CW_OK;
}

int
cw_l2_get(struct cw_l2 *l2, struct cw_l2_lookup *q, size_t n,
    struct cw_err *err)
{
	struct get_ctx *g = NULL;
	redisReply **r = NULL;
	size_t *all = NULL, *later = NULL, nlater;
	int rc = CW_ENOMEM;

	if (n == 0)
		return CW_OK;
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (all = malloc(n * sizeof(*all))) == NULL ||
	    (later = malloc(n * sizeof(*later))) == NULL ||
	    (r = calloc(chunk_reply(l2, n) + 1, sizeof(*r))) == NULL) {
		cw_err_set(err, CW_ENOMEM, 0, "l2");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		all[i] = i;
	g->q = q;
	g->which = all;
	g->n = n;
	if ((rc = get_values(l2, g, r, later, &nlater, err)) == CW_OK) {
		g->which = later;
		g->n = nlater;
		rc = get_misses(l2, g, r, err);
	}
out:
	if (g != NULL)
		cw_buf_free(&g->names);
	free(g);
	free(r);
	free(later);
	free(all);
	return rc;
}

/* Delete the lock only if it still holds our token: one that expired
 * and was taken by another process is theirs. */
static const char unlock_script[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end";

static void
append_unlock(struct cw_l2 *l2, const char *key, size_t klen)
{
	const char *argv[] = { "EVAL", unlock_script, "1", NULL, l2->token };
	size_t lens[] = { 4, sizeof(unlock_script) - 1, 1, 0,
		strlen(l2->token) };

	if ((lens[3] = redis_name(l2, key, klen, " lock")) == 0)
		return;
	argv[3] = l2->name.data;
	redisAppendCommandArgv(l2->ctx, 5, argv, lens);
}

struct set_ctx {
	struct cw_l2_write *w;
	size_t n;
	char (*px)[24];
	char (*until)[24];	/* calendar expiry, with calendar_expiry */
};

static void
build_set(struct cw_l2 *l2, void *ctx)
{
	struct set_ctx *s = ctx;

	for (size_t i = 0; i < s->n; i++) {
		const struct cw_l2_write *w = &s->w[i];
		int neg = (w->flags & CW_L2_NEGATIVE) != 0;
		const char *stamp = l2->calendar_expiry ? s->until[i] : "";
		const char *extra[] = { neg ? stamp : w->val, "PX", s->px[i] };
		size_t lens[] = { neg ? strlen(stamp) : w->vlen, 2,
			strlen(s->px[i]) };

		append(l2, "SET", w->key, w->klen, neg ? " none" : "", 3,
		    extra, lens);
		if (l2->calendar_expiry && !neg) {
			extra[0] = stamp;
			lens[0] = strlen(stamp);
			append(l2, "SET", w->key, w->klen, " until", 3, extra,
			    lens);
		}
		if (w->flags & CW_L2_UNLOCK)
			append_unlock(l2, w->key, w->klen);
	}
}

/* A value's lifetime: the configured TTL +-10%, so entries warmed
 * together do not all expire together; at most max_ttl_ms. A remembered
 * miss lives max_ttl_ms exactly. */
static int64_t
ttl_of(struct cw_l2 *l2, const struct cw_l2_write *w)
{
	int64_t ttl = w->max_ttl_ms;

	if (!(w->flags & CW_L2_NEGATIVE)) {
		uint64_t h = cw_hash_seeded(w->key, w->klen,
		    cw_clock_random(&l2->clock, l2->draws++));
		double u = (double)(h >> 11) * 0x1.0p-53;

		ttl = (int64_t)((double)(w->base_ttl_ms > 0 ? w->base_ttl_ms :
		    l2->ttl_ms) * (0.9 + 0.2 * u));
		if (ttl > w->max_ttl_ms)
			ttl = w->max_ttl_ms;
	}
	return ttl < 1 ? 1 : ttl;
}

int
cw_l2_set_many(struct cw_l2 *l2, struct cw_l2_write *w, size_t n,
    struct cw_err *err)
{
	struct set_ctx s = { w, n, NULL, NULL };
	redisReply **r = NULL;
	size_t nr = 0;
	int rc;

	if (n == 0)
		return CW_OK;
	for (size_t i = 0; i < n; i++)
		nr += 1 + ((w[i].flags & CW_L2_UNLOCK) != 0) +
		    (l2->calendar_expiry && !(w[i].flags & CW_L2_NEGATIVE));
	if ((s.px = calloc(n, sizeof(*s.px))) == NULL ||
	    (s.until = calloc(n, sizeof(*s.until))) == NULL ||
	    (r = calloc(nr, sizeof(*r))) == NULL) {
		free(s.px);
		free(s.until);
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	}
	for (size_t i = 0; i < n; i++) {
		w[i].ttl_ms = ttl_of(l2, &w[i]);
		snprintf(s.px[i], sizeof(s.px[i]), "%lld",
		    (long long)w[i].ttl_ms);
		snprintf(s.until[i], sizeof(s.until[i]), "%lld",
		    (long long)(calendar_ms(l2) + w[i].ttl_ms));
	}
	if ((rc = exchange_checked(l2, build_set, &s, r, nr, err)) == CW_OK)
		free_replies(r, nr);
	free(r);
	free(s.px);
	free(s.until);
	return rc;
}

int
cw_l2_set(struct cw_l2 *l2, const char *key, size_t klen, const void *val,
    size_t vlen, int64_t max_ttl_ms, unsigned flags, int64_t *ttl_ms,
    struct cw_err *err)
{
	struct cw_l2_write w = { key, klen, val, vlen, max_ttl_ms, flags, 0,
		0 };
	int rc;

	if ((rc = cw_l2_set_many(l2, &w, 1, err)) == CW_OK && ttl_ms != NULL)
		*ttl_ms = w.ttl_ms;
	return rc;
}

struct lock_ctx {
	struct cw_l2_lookup *q;
	char px[24];
};

static void
build_lock(struct cw_l2 *l2, void *ctx)
{
	struct lock_ctx *lc = ctx;
	const char *extra[] = { l2->token, "NX", "PX", lc->px };
	size_t lens[] = { strlen(l2->token), 2, 2, strlen(lc->px) };

	append(l2, "SET", lc->q->key, lc->q->klen, " lock", 4, extra, lens);
	append(l2, "GET", lc->q->key, lc->q->klen, " lock", 0, NULL, NULL);
	append_look(l2, lc->q->key, lc->q->klen);
}

#define LOCK_REPLIES_MAX 7	/* the lock's two and a look */

int
cw_l2_lock(struct cw_l2 *l2, struct cw_l2_lookup *q, int64_t ttl_ms,
    int *held, struct cw_err *err)
{
	struct lock_ctx lc = { q, { 0 } };
	redisReply *r[LOCK_REPLIES_MAX];
	size_t nr = 2 + look_replies(l2);
	int rc;

	snprintf(lc.px, sizeof(lc.px), "%lld", (long long)ttl_ms);
	if ((rc = exchange_checked(l2, build_lock, &lc, r, nr, err)) != CW_OK)
		return rc;
	/* Ours if the lock now holds our token: a SET NX that is retried
	 * after a lost reply finds it there already. */
	*held = r[1]->type == REDIS_REPLY_STRING &&
	    r[1]->len == strlen(l2->token) &&
	    memcmp(r[1]->str, l2->token, r[1]->len) == 0;
	rc = read_look(l2, q, r + 2, err);
	free_replies(r, nr);
	return rc;
}

static void
build_unlock(struct cw_l2 *l2, void *ctx)
{
	const struct cw_l2_lookup *q = ctx;

	append_unlock(l2, q->key, q->klen);
}

int
cw_l2_unlock(struct cw_l2 *l2, const char *key, size_t klen,
    struct cw_err *err)
{
	struct cw_l2_lookup q = { key, klen, NULL, 0, 0, 0 };
	redisReply *r;
	int rc;

	if ((rc = exchange_checked(l2, build_unlock, &q, &r, 1, err)) !=
	    CW_OK)
		return rc;
	freeReplyObject(r);
	return CW_OK;
}

static void
build_del(struct cw_l2 *l2, void *ctx)
{
	const struct cw_l2_lookup *q = ctx;

	append(l2, "DEL", q->key, q->klen, "", 0, NULL, NULL);
	append(l2, "DEL", q->key, q->klen, " none", 0, NULL, NULL);
	if (l2->calendar_expiry)
		append(l2, "DEL", q->key, q->klen, " until", 0, NULL, NULL);
}

int
cw_l2_del(struct cw_l2 *l2, const char *key, size_t klen, int *existed,
    struct cw_err *err)
{
	struct cw_l2_lookup q = { key, klen, NULL, 0, 0, 0 };
	redisReply *r[3];
	size_t nr = l2->calendar_expiry ? 3 : 2;
	int rc;

	if ((rc = exchange_checked(l2, build_del, &q, r, nr, err)) != CW_OK)
		return rc;
	if (existed != NULL)
		*existed = (r[0]->type == REDIS_REPLY_INTEGER &&
		    r[0]->integer > 0) || (r[1]->type == REDIS_REPLY_INTEGER &&
		    r[1]->integer > 0);
	free_replies(r, nr);
	return CW_OK;
}

/* SCAN's pattern for every key under the prefix: the prefix's glob
 * characters escaped, then "*". */
static int
prefix_pattern(const struct cw_l2 *l2, struct cw_buf *pat, struct cw_err *err)
{
	for (const char *p = l2->prefix; *p != '\0'; p++)
		if ((strchr("*?[]\\", *p) != NULL &&
		    cw_buf_append(pat, "\\", 1, err) != CW_OK) ||
		    cw_buf_append(pat, p, 1, err) != CW_OK)
			return CW_ENOMEM;
	return cw_buf_append(pat, "*", 1, err);
}

int
cw_l2_purge(struct cw_l2 *l2, uint64_t *removed, struct cw_err *err)
{
	struct cw_buf pat = { 0 };
	char cursor[32] = "0";
	int rc;

	*removed = 0;
	if (l2->prefix[0] == '\0')
		return cw_err_set(err, CW_EUSAGE, 0,
		    "l2: no prefix: refusing to remove every key");
	if (l2->down)
		return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: down", l2->url);
	if ((rc = prefix_pattern(l2, &pat, err)) != CW_OK)
		goto out;
	do {
		redisReply *r;
		const char *argv[] = { "SCAN", cursor, "MATCH", pat.data,
			"COUNT", "1000" };
		size_t lens[] = { 4, strlen(cursor), 5, pat.len, 5, 4 };

		if (l2->ctx == NULL && (rc = connect_l2(l2, err)) != CW_OK) {
			disconnect(l2);
			goto out;
		}
		r = redisCommandArgv(l2->ctx, 6, argv, lens);
		if (r == NULL) {
			rc = context_error(l2, l2->ctx, errno, err);
			disconnect(l2);
			goto out;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = cw_err_set(err, CW_EUNAVAIL, 0,
			    "l2 %s: SCAN: unexpected reply", l2->url);
			freeReplyObject(r);
			goto out;
		}
		snprintf(cursor, sizeof(cursor), "%.*s",
		    (int)r->element[0]->len, r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const redisReply *k = r->element[1]->element[i];
			const char *dv[] = { "UNLINK", k->str };
			size_t dl[] = { 6, k->len };

			redisAppendCommandArgv(l2->ctx, 2, dv, dl);
		}
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			redisReply *d;

			if (redisGetReply(l2->ctx, (void **)&d) != REDIS_OK) {
				rc = context_error(l2, l2->ctx, errno, err);
				disconnect(l2);
				freeReplyObject(r);
				goto out;
			}
			if (d->type == REDIS_REPLY_INTEGER)
				*removed += (uint64_t)d->integer;
			freeReplyObject(d);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	rc = CW_OK;
out:
	cw_buf_free(&pat);
	return rc;
}
