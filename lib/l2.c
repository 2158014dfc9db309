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
 * Under the prefix, a key KEY has up to four Redis keys: "KEY" holds the
 * value's raw bytes, "KEY none" remembers that the source had nothing,
 * "KEY lock" is the single-flight lock of whoever is fetching it, and
 * "KEY fence" the token of whoever took it last, while a fetch is on
 * (below). The
 * space cannot occur in a key, so these never collide with another key.
 * With calendar expiry (a replay's), "KEY until" holds the value's
 * expiry in calendar milliseconds and "KEY none" the miss's: Redis
 * expires by its own clock, which a simulated month does not move.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cw.h"
#include "hash_int.h"
#include "l2_int.h"
#include "l2_net_int.h"

struct cw_l2 {
	struct cw_l2_net *net;		/* the connections, the routing */
	char prefix[64];
	size_t prefix_len;
	int64_t ttl_ms;
	struct cw_clock clock;
	uint64_t draws;			/* of the clock's random numbers */
	char token[64];			/* ours in a lock: "pid:ns" */
	int down;
	int calendar_expiry;
	int tagged;			/* a cluster's: names carry tags */
	int by_instrument;		/* the tag is the key's instrument */
	struct cw_buf name;		/* scratch: prefix + key + suffix */
};

int
cw_l2_check_url(const char *url, struct cw_err *err)
{
	return cw_l2_net_check_url(url, err);
}

int
cw_l2_open(struct cw_l2 **out, const struct cw_l2_opts *o,
    struct cw_err *err)
{
	struct cw_l2_net_opts no = { o->url, o->password_file,
		o->connect_timeout_ms, o->timeout_ms, o->failover_ms,
		o->clock };
	struct cw_l2 *l2;
	int rc;

	*out = NULL;
	if ((l2 = calloc(1, sizeof(*l2))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	if ((rc = cw_l2_net_open(&l2->net, &no, err)) != CW_OK) {
		free(l2);
		return rc;
	}
	snprintf(l2->prefix, sizeof(l2->prefix), "%s", o->prefix != NULL ?
	    o->prefix : "");
	l2->prefix_len = strlen(l2->prefix);
	l2->ttl_ms = o->ttl_ms;
	l2->clock = o->clock;
	l2->calendar_expiry = o->calendar_expiry;
	l2->tagged = cw_l2_net_is_cluster(l2->net);
	l2->by_instrument = o->by_instrument;
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
	cw_l2_net_close(l2->net);
	cw_buf_free(&l2->name);
	free(l2);
}

int
cw_l2_down(const struct cw_l2 *l2)
{
	return l2->down;
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
	return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s",
	    cw_l2_net_url(l2->net), r->str);
}

/* Commands of one exchange: added by a builder, answered in order. */
typedef void build_fn(struct cw_l2 *l2, void *ctx);

/*
 * One exchange of n commands (cw_l2_net_run: a round trip per node, a
 * failed one sent again). When it fails, L2 is down for the rest of the
 * process: a dead Redis costs one timeout, not one per key.
 */
static int
exchange(struct cw_l2 *l2, build_fn *build, void *ctx, redisReply **replies,
    size_t n, struct cw_err *err)
{
	int rc;

	if (l2->down)
		return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: down",
		    cw_l2_net_url(l2->net));
	cw_l2_net_begin(l2->net);
	build(l2, ctx);
	if (cw_l2_net_count(l2->net) != n)	/* a name out of memory */
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	if ((rc = cw_l2_net_run(l2->net, replies, err)) != CW_OK &&
	    rc != CW_ENOMEM)
		l2->down = 1;
	return rc;
}

/*
 * The Redis key, appended to to: prefix + key + suffix. In a cluster a
 * key's value, remembered miss, lock and stamp must sit in one slot (a
 * script and a lookup touch them together), so the name carries a hash
 * tag: the key itself, "prefix{KEY}suffix", or with by_instrument the
 * instrument of a structured key, "prefix{INSTRUMENT}KEY suffix", so
 * that one instrument's keys share a node. A tag with a brace of its own
 * is replaced by its hash: its braces would end the tag early. CW_ENOMEM
 * when out of memory.
 */
static int
name_append(const struct cw_l2 *l2, struct cw_buf *to, const char *key,
    size_t klen, const char *suffix)
{
	const char *tag = key, *c1, *c2;
	size_t tlen = klen, slen = strlen(suffix), need;
	char hex[20], *w;

	if (l2->tagged) {
		if (l2->by_instrument && (c1 = memchr(key, ':', klen)) !=
		    NULL && (c2 = memchr(c1 + 1, ':', klen - (size_t)(c1 + 1 -
		    key))) != NULL && c2 > c1 + 1) {
			tag = c1 + 1;
			tlen = (size_t)(c2 - tag);
		}
		if (memchr(tag, '{', tlen) != NULL ||
		    memchr(tag, '}', tlen) != NULL) {
			tlen = (size_t)snprintf(hex, sizeof(hex), "#%016llx",
			    (unsigned long long)cw_hash(tag, tlen));
			tag = hex;
		}
	}
	/* One reservation, then the parts copied in: a batch names every
	 * key two or three times. */
	need = l2->prefix_len + slen + (l2->tagged ? tlen + 2 : 0) +
	    (tag != key || !l2->tagged ? klen : 0);
	if (cw_buf_reserve(to, to->len + need, NULL) != CW_OK)
		return CW_ENOMEM;
	w = to->data + to->len;
	memcpy(w, l2->prefix, l2->prefix_len);
	w += l2->prefix_len;
	if (l2->tagged) {
		*w++ = '{';
		memcpy(w, tag, tlen);
		w += tlen;
		*w++ = '}';
	}
	if (tag != key || !l2->tagged) {
		memcpy(w, key, klen);
		w += klen;
	}
	memcpy(w, suffix, slen);
	to->len += need;
	return CW_OK;
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

/* Add one command: verb, the Redis key, then extra arguments, the
 * key's cluster slot known (CW_L2_NET_ANY_SLOT: not, hash the name).
 * Out of memory, nothing is added and the exchange comes up short. */
static void
append_in(struct cw_l2 *l2, unsigned slot, const char *verb,
    const char *key, size_t klen, const char *suffix, int nextra,
    const char **extra, const size_t *extra_len)
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
	if (slot == CW_L2_NET_ANY_SLOT && l2->tagged)
		slot = cw_l2_net_slot(argv[1], lens[1]);
	cw_l2_net_add_slot(l2->net, argc, argv, lens, slot);
}

static void
append(struct cw_l2 *l2, const char *verb, const char *key, size_t klen,
    const char *suffix, int nextra, const char **extra,
    const size_t *extra_len)
{
	append_in(l2, CW_L2_NET_ANY_SLOT, verb, key, klen, suffix, nextra,
	    extra, extra_len);
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
 * which is what Redis spends its time on. In a cluster an MGET takes
 * the keys of one slot only, so with keys spread over the slots most go
 * alone, as a GET. Only the keys that come back
 * without a value are asked, in a second round trip, whether their miss
 * is remembered. A long MGET holds Redis up for its other clients, so
 * it is cut short.
 */
#define MGET_KEYS 256

struct get_ctx {
	struct cw_l2_lookup *q;
	const size_t *which;	/* the keys of the exchange, as indexes in q */
	size_t n;
	size_t *cut;		/* chunk k is keys [cut[k], cut[k + 1]) */
	unsigned *slot;		/* of each key in a cluster, hashed once */
	int lives;		/* ask the values' life left (PTTL) */
	int values;		/* ask the values (GET, MGET) */
	size_t nchunks;
	struct cw_buf names;	/* one chunk's Redis keys, end to end */
	size_t at[MGET_KEYS];
	const char *argv[MGET_KEYS + 1];
	size_t lens[MGET_KEYS + 1];
};

/* Replies per key of the second exchange: the remembered miss's PTTL,
 * and with calendar expiry its stamp. */
static size_t
replies_per_key(const struct cw_l2 *l2)
{
	return l2->calendar_expiry ? 2 : 1;
}

/* Replies per key of the first exchange besides its GET or MGET: the
 * value's PTTL unless only values are asked for, and with calendar
 * expiry its stamp (which says whether it is still a value at all). */
static size_t
value_replies_per_key(const struct cw_l2 *l2, const struct get_ctx *g)
{
	return (g->lives ? 1 : 0) + (l2->calendar_expiry ? 1 : 0);
}

/* The first reply of chunk k: a GET or MGET (unless only lives are
 * asked) and a key's replies for each chunk before it. */
static size_t
chunk_reply(const struct cw_l2 *l2, const struct get_ctx *g, size_t k)
{
	return (g->values ? k : 0) + g->cut[k] * value_replies_per_key(l2, g);
}

/* The slot of key i's value in a cluster. */
static unsigned
slot_of(struct cw_l2 *l2, const struct cw_l2_lookup *q)
{
	size_t len = redis_name(l2, q->key, q->klen, "");

	return len == 0 ? 0 : cw_l2_net_slot(l2->name.data, len);
}

/* Cut the first exchange's keys into MGETs: MGET_KEYS at most, and in a
 * cluster only keys of one slot together (a node refuses any other
 * MGET), which with by_instrument are runs of one instrument's keys. */
static void
plan_chunks(struct cw_l2 *l2, struct get_ctx *g)
{
	unsigned slot = 0;

	g->nchunks = 0;
	for (size_t i = 0; i < g->n; i++) {
		unsigned s = l2->tagged ? slot_of(l2, &g->q[g->which[i]]) :
		    CW_L2_NET_ANY_SLOT;

		g->slot[i] = s;

		if (i == 0 || i - g->cut[g->nchunks - 1] == MGET_KEYS ||
		    s != slot)
			g->cut[g->nchunks++] = i;
		slot = s;
	}
	g->cut[g->nchunks] = g->n;
}

static void
build_values(struct cw_l2 *l2, void *ctx)
{
	struct get_ctx *g = ctx;
	const struct cw_l2_lookup *q = g->q;

	for (size_t k = 0; k < g->nchunks; k++) {
		size_t b = g->cut[k], c = g->cut[k + 1] - b;

		/* A key alone in its chunk (every key of a cluster's spread
		 * layout) is a GET: Redis answers it without an array. With
		 * lives only, the chunk is its PTTLs alone. */
		if (g->values && c == 1)
			append_in(l2, g->slot[b], "GET", q[g->which[b]].key,
			    q[g->which[b]].klen, "", 0, NULL, NULL);
		else if (g->values) {
			g->names.len = 0;
			for (size_t j = 0; j < c; j++) {
				g->at[j] = g->names.len;
				if (name_append(l2, &g->names,
				    q[g->which[b + j]].key,
				    q[g->which[b + j]].klen, "") != CW_OK)
					return;	/* the exchange comes up short */
			}
			g->argv[0] = "MGET";
			g->lens[0] = 4;
			for (size_t j = 0; j < c; j++) {
				g->argv[j + 1] = g->names.data + g->at[j];
				g->lens[j + 1] = (j + 1 < c ? g->at[j + 1] :
				    g->names.len) - g->at[j];
			}
			cw_l2_net_add_slot(l2->net, (int)c + 1, g->argv,
			    g->lens, g->slot[b]);
		}
		for (size_t j = 0; g->lives && j < c; j++)
			append_in(l2, g->slot[b + j], "PTTL",
			    q[g->which[b + j]].key, q[g->which[b + j]].klen,
			    "", 0, NULL, NULL);
		for (size_t j = 0; l2->calendar_expiry && j < c; j++)
			append_in(l2, g->slot[b + j], "GET",
			    q[g->which[b + j]].key, q[g->which[b + j]].klen,
			    " until", 0, NULL, NULL);
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
 * (MGET says nil, GET WRONGTYPE, and PTTL says it exists), or *later when only the second
 * exchange can tell a remembered miss from an absent key.
 */
static int
read_value(const struct cw_l2 *l2, const struct get_ctx *g,
    struct cw_l2_lookup *q, redisReply **r, size_t j, size_t c, int *later,
    struct cw_err *err)
{
	size_t first = g->values ? 1 : 0;
	const redisReply *mget = r[0], *v = mget;
	/* Not asked, the life left is unknown, as a value without one. */
	int64_t ttl = g->lives ? pttl(r[first + j]) : -1, life = ttl;
	size_t stamps = first + (g->lives ? c : 0);

	*later = 0;
	q->negative = 0;
	q->ttl_ms = -1;
	q->rc = CW_ENOTFOUND;
	if (!g->values) {
		/* Lives only: the key is there, whatever it holds. */
		if (l2->calendar_expiry)
			life = stamped_life(l2, r[stamps + j], ttl);
		if (ttl != -2 && life != -2) {
			q->rc = CW_OK;
			q->ttl_ms = life;
		} else
			*later = 1;
		return CW_OK;
	}
	if (c > 1 && (mget->type != REDIS_REPLY_ARRAY ||
	    mget->elements != c)) {
		q->rc = CW_EUNAVAIL;
		return CW_OK;
	}
	if (c > 1)
		v = mget->element[j];
	if (l2->calendar_expiry)
		life = stamped_life(l2, r[stamps + j], ttl);
	if (v->type == REDIS_REPLY_STRING && life != -2) {
		q->val->len = 0;
		q->rc = cw_buf_append(q->val, v->str, v->len, err);
		q->ttl_ms = life;
		return q->rc == CW_ENOMEM ? CW_ENOMEM : CW_OK;
	}
	/* Someone else's data under our prefix: GET's WRONGTYPE says so,
	 * MGET's nil only with a PTTL that finds the key. */
	if (v->type != REDIS_REPLY_STRING && (v->type == REDIS_REPLY_ERROR ||
	    (g->lives && ttl != -2)))
		q->rc = CW_EUNAVAIL;
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
	size_t nr;
	int rc, wait;

	*nlater = 0;
	plan_chunks(l2, g);
	nr = chunk_reply(l2, g, g->nchunks);
	if ((rc = exchange_checked(l2, build_values, g, r, nr, err)) != CW_OK)
		return rc;
	for (size_t k = 0; k < g->nchunks && rc == CW_OK; k++) {
		size_t b = g->cut[k], c = g->cut[k + 1] - b;

		for (size_t j = 0; j < c && rc == CW_OK; j++) {
			rc = read_value(l2, g, &g->q[g->which[b + j]],
			    r + chunk_reply(l2, g, k), j, c, &wait, err);
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
    unsigned flags, struct cw_err *err)
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
	    (g->cut = malloc((n + 1) * sizeof(*g->cut))) == NULL ||
	    (g->slot = malloc(n * sizeof(*g->slot))) == NULL ||
	    (r = calloc(n * (1 + replies_per_key(l2)), sizeof(*r))) == NULL) {
		cw_err_set(err, CW_ENOMEM, 0, "l2");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		all[i] = i;
	g->q = q;
	g->which = all;
	g->n = n;
	g->values = !(flags & CW_L2_LIVES_ONLY);
	g->lives = !(flags & CW_L2_VALUES_ONLY) || !g->values;
	if ((rc = get_values(l2, g, r, later, &nlater, err)) == CW_OK) {
		g->which = later;
		g->n = nlater;
		rc = get_misses(l2, g, r, err);
	}
out:
	if (g != NULL) {
		cw_buf_free(&g->names);
		free(g->cut);
		free(g->slot);
	}
	free(g);
	free(r);
	free(later);
	free(all);
	return rc;
}

/* KEYS: lock, fence. ARGV: token. Delete each only if it still holds
 * our token: one that expired and was taken by another process is
 * theirs. */
static const char unlock_script[] =
    "for i = 1, 2 do if redis.call('get', KEYS[i]) == ARGV[1] then "
    "redis.call('del', KEYS[i]) end end return 1";

/*
 * The fence. Whoever takes a key's lock also writes its token to
 * "KEY fence", which outlives the lock (FENCE_LEASES leases), and a
 * holder's store goes through only while the fence still holds its
 * token. A holder that stalls past its lease (a paused process) and
 * wakes after another took the lock finds the other's token there, or
 * none once the other is done: either way its older answer is refused,
 * never stored over the newer one. So a holder deletes its fence with
 * its lock, and a fill leaves no key behind but its entry. The check
 * and the store are one script, so nothing comes between them; no lock
 * on several nodes is needed.
 */
#define FENCE_LEASES 2

/* KEYS: lock, fence. ARGV: token, lease, fence life. The lock's holder
 * after the try. */
static const char lock_script[] =
    "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
    "redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[3]) end "
    "return redis.call('get', KEYS[1])";

/* KEYS: the entry ("KEY" or "KEY none"), lock, fence, and with calendar
 * expiry "KEY until". ARGV: token, the entry's bytes, its PX, the
 * stamp. 1 stored (and our lock released), 0 refused. */
static const char store_script[] =
    "if redis.call('get', KEYS[3]) ~= ARGV[1] then return 0 end "
    "redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) "
    "if KEYS[4] then redis.call('set', KEYS[4], ARGV[4], 'PX', ARGV[3]) "
    "end "
    "if redis.call('get', KEYS[2]) == ARGV[1] then "
    "redis.call('del', KEYS[2]) end "
    "redis.call('del', KEYS[3]) "
    "return 1";

#define SCRIPT_KEYS_MAX 4

/* The Redis names of key with each suffix, end to end in the scratch
 * buffer, into names[] and lens[]; 0 when out of memory. */
static int
names_of(struct cw_l2 *l2, const char *key, size_t klen,
    const char *const *suffix, size_t n, const char **names, size_t *lens)
{
	size_t at[SCRIPT_KEYS_MAX];

	l2->name.len = 0;
	for (size_t i = 0; i < n; i++) {
		at[i] = l2->name.len;
		if (name_append(l2, &l2->name, key, klen, suffix[i]) != CW_OK)
			return 0;
		lens[i] = l2->name.len - at[i];
	}
	for (size_t i = 0; i < n; i++)
		names[i] = l2->name.data + at[i];
	return 1;
}

/* EVAL script with the names of key's suffixes as KEYS and argv as
 * ARGV. */
static void
add_script(struct cw_l2 *l2, const char *script, const char *key,
    size_t klen, const char *const *suffix, size_t nkeys,
    const char *const *arg, const size_t *arg_len, size_t nargs)
{
	const char *argv[3 + SCRIPT_KEYS_MAX + 4];
	size_t lens[3 + SCRIPT_KEYS_MAX + 4];
	char count[4];

	snprintf(count, sizeof(count), "%zu", nkeys);
	argv[0] = "EVAL";
	lens[0] = 4;
	argv[1] = script;
	lens[1] = strlen(script);
	argv[2] = count;
	lens[2] = strlen(count);
	if (!names_of(l2, key, klen, suffix, nkeys, argv + 3, lens + 3))
		return;
	for (size_t i = 0; i < nargs; i++) {
		argv[3 + nkeys + i] = arg[i];
		lens[3 + nkeys + i] = arg_len[i];
	}
	cw_l2_net_add(l2->net, (int)(3 + nkeys + nargs), argv, lens, 3);
}

static void
append_unlock(struct cw_l2 *l2, const char *key, size_t klen)
{
	static const char *const suffix[] = { " lock", " fence" };
	const char *arg[] = { l2->token };
	size_t arg_len[] = { strlen(l2->token) };

	add_script(l2, unlock_script, key, klen, suffix, 2, arg, arg_len, 1);
}

struct set_ctx {
	struct cw_l2_write *w;
	size_t n;
	char (*px)[24];
	char (*until)[24];	/* calendar expiry, with calendar_expiry */
};

/* A lock holder's store: fenced, and releasing the lock. */
static void
append_fenced(struct cw_l2 *l2, const struct cw_l2_write *w,
    const char *px, const char *stamp)
{
	static const char *const value[] = { "", " lock", " fence", " until" },
	    *const negative[] = { " none", " lock", " fence" };
	int neg = (w->flags & CW_L2_NEGATIVE) != 0;
	const char *arg[] = { l2->token, neg ? stamp : w->val, px, stamp };
	size_t arg_len[] = { strlen(l2->token), neg ? strlen(stamp) : w->vlen,
		strlen(px), strlen(stamp) };

	if (neg)
		add_script(l2, store_script, w->key, w->klen, negative, 3, arg,
		    arg_len, 3);
	else
		add_script(l2, store_script, w->key, w->klen, value,
		    l2->calendar_expiry ? 4 : 3, arg, arg_len, 4);
}

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

		if (w->flags & CW_L2_UNLOCK) {
			append_fenced(l2, w, s->px[i], stamp);
			continue;
		}
		append(l2, "SET", w->key, w->klen, neg ? " none" : "", 3,
		    extra, lens);
		if (l2->calendar_expiry && !neg) {
			extra[0] = stamp;
			lens[0] = strlen(stamp);
			append(l2, "SET", w->key, w->klen, " until", 3, extra,
			    lens);
		}
	}
}

/* Replies of store w: the fenced script's one, or a SET and the stamp's. */
static size_t
set_replies(const struct cw_l2 *l2, const struct cw_l2_write *w)
{
	return (w->flags & CW_L2_UNLOCK) ? 1 : 1 + (l2->calendar_expiry &&
	    !(w->flags & CW_L2_NEGATIVE));
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
		nr += set_replies(l2, &w[i]);
	if ((s.px = calloc(n, sizeof(*s.px))) == NULL ||
	    (s.until = calloc(n, sizeof(*s.until))) == NULL ||
	    (r = calloc(nr, sizeof(*r))) == NULL) {
		free(s.px);
		free(s.until);
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	}
	for (size_t i = 0; i < n; i++) {
		w[i].ttl_ms = ttl_of(l2, &w[i]);
		w[i].refused = 0;
		snprintf(s.px[i], sizeof(s.px[i]), "%lld",
		    (long long)w[i].ttl_ms);
		snprintf(s.until[i], sizeof(s.until[i]), "%lld",
		    (long long)(calendar_ms(l2) + w[i].ttl_ms));
	}
	if ((rc = exchange_checked(l2, build_set, &s, r, nr, err)) == CW_OK) {
		size_t at = 0;

		for (size_t i = 0; i < n; i++) {
			if (w[i].flags & CW_L2_UNLOCK)
				w[i].refused = r[at]->type ==
				    REDIS_REPLY_INTEGER && r[at]->integer == 0;
			at += set_replies(l2, &w[i]);
		}
		free_replies(r, nr);
	}
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
		0, 0 };
	int rc;

	if ((rc = cw_l2_set_many(l2, &w, 1, err)) == CW_OK && ttl_ms != NULL)
		*ttl_ms = w.ttl_ms;
	return rc;
}

struct lock_ctx {
	struct cw_l2_lookup *q;
	char px[24], fence_px[24];
};

static void
build_lock(struct cw_l2 *l2, void *ctx)
{
	static const char *const suffix[] = { " lock", " fence" };
	struct lock_ctx *lc = ctx;
	const char *arg[] = { l2->token, lc->px, lc->fence_px };
	size_t arg_len[] = { strlen(l2->token), strlen(lc->px),
		strlen(lc->fence_px) };

	add_script(l2, lock_script, lc->q->key, lc->q->klen, suffix, 2, arg,
	    arg_len, 3);
	append_look(l2, lc->q->key, lc->q->klen);
}

#define LOCK_REPLIES_MAX 6	/* the lock's and a look */

int
cw_l2_lock(struct cw_l2 *l2, struct cw_l2_lookup *q, int64_t ttl_ms,
    int *held, struct cw_err *err)
{
	struct lock_ctx lc = { q, { 0 }, { 0 } };
	redisReply *r[LOCK_REPLIES_MAX];
	size_t nr = 1 + look_replies(l2);
	int rc;

	snprintf(lc.px, sizeof(lc.px), "%lld", (long long)ttl_ms);
	snprintf(lc.fence_px, sizeof(lc.fence_px), "%lld",
	    (long long)ttl_ms * FENCE_LEASES);
	if ((rc = exchange_checked(l2, build_lock, &lc, r, nr, err)) != CW_OK)
		return rc;
	/* Ours if the lock now holds our token: a try that is sent again
	 * after a lost reply finds it there already. */
	*held = r[0]->type == REDIS_REPLY_STRING &&
	    r[0]->len == strlen(l2->token) &&
	    memcmp(r[0]->str, l2->token, r[0]->len) == 0;
	rc = read_look(l2, q, r + 1, err);
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

struct scan_ctx {
	const char *cursor;
	const struct cw_buf *pattern;
	const redisReply *keys;		/* SCAN's, to unlink */
};

static void
build_scan(struct cw_l2 *l2, void *ctx)
{
	const struct scan_ctx *sc = ctx;
	const char *argv[] = { "SCAN", sc->cursor, "MATCH", sc->pattern->data,
		"COUNT", "1000" };
	size_t lens[] = { 4, strlen(sc->cursor), 5, sc->pattern->len, 5, 4 };

	cw_l2_net_add(l2->net, 6, argv, lens, -1);
}

static void
build_unlink(struct cw_l2 *l2, void *ctx)
{
	const struct scan_ctx *sc = ctx;

	for (size_t i = 0; i < sc->keys->elements; i++) {
		const redisReply *k = sc->keys->element[i];
		const char *argv[] = { "UNLINK", k->str };
		size_t lens[] = { 6, k->len };

		cw_l2_net_add(l2->net, 2, argv, lens, 1);
	}
}

/* One master's keys under the prefix, SCAN by SCAN. */
static int
purge_master(struct cw_l2 *l2, size_t master, const struct cw_buf *pat,
    uint64_t *removed, struct cw_err *err)
{
	char cursor[32] = "0";
	struct scan_ctx sc = { cursor, pat, NULL };
	redisReply *r, **d = NULL;
	int rc;

	do {
		cw_l2_net_pin(l2->net, master);
		if ((rc = exchange_checked(l2, build_scan, &sc, &r, 1, err)) !=
		    CW_OK)
			break;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: SCAN: "
			    "unexpected reply", cw_l2_net_url(l2->net));
			freeReplyObject(r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%.*s",
		    (int)r->element[0]->len, r->element[0]->str);
		sc.keys = r->element[1];
		if (sc.keys->elements > 0 && ((d = calloc(sc.keys->elements,
		    sizeof(*d))) == NULL ? (rc = cw_err_set(err, CW_ENOMEM, 0,
		    "l2")) : (rc = exchange_checked(l2, build_unlink, &sc, d,
		    sc.keys->elements, err))) == CW_OK) {
			for (size_t i = 0; i < sc.keys->elements; i++)
				if (d[i]->type == REDIS_REPLY_INTEGER)
					*removed += (uint64_t)d[i]->integer;
			free_replies(d, sc.keys->elements);
		}
		free(d);
		d = NULL;
		freeReplyObject(r);
	} while (rc == CW_OK && strcmp(cursor, "0") != 0);
	return rc;
}

int
cw_l2_purge(struct cw_l2 *l2, uint64_t *removed, struct cw_err *err)
{
	struct cw_buf pat = { 0 };
	size_t masters = 0;
	int rc;

	*removed = 0;
	if (l2->prefix[0] == '\0')
		return cw_err_set(err, CW_EUSAGE, 0,
		    "l2: no prefix: refusing to remove every key");
	if (l2->down)
		return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: down",
		    cw_l2_net_url(l2->net));
	if ((rc = prefix_pattern(l2, &pat, err)) == CW_OK &&
	    (rc = cw_l2_net_masters(l2->net, &masters, err)) == CW_OK)
		for (size_t i = 0; i < masters && rc == CW_OK; i++)
			rc = purge_master(l2, i, &pat, removed, err);
	cw_buf_free(&pat);
	return rc;
}
