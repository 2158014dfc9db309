/*
 * l2_net: the connections behind L2, and which one each command goes to.
 *
 * Three kinds of L2 take the same commands:
 *   - one Redis (redis://, unix://): one connection;
 *   - a Redis Cluster (redis+cluster://): a connection per master, the
 *     slot map learnt with CLUSTER SLOTS from any node the URL names or
 *     the map knows, each command sent to the master of its key's slot;
 *   - Sentinel (redis+sentinel://): the sentinels are asked for the
 *     master's address, and asked again when it stops being the master.
 *
 * Debian 12 packages no cluster client for C (hiredis-cluster does not
 * build against its hiredis 0.14), so the routing is here, and nothing
 * above l2.c knows which kind it talks to.
 *
 * An exchange is the commands of one call of l2.c, encoded once into a
 * buffer (RESP, the same bytes hiredis's formatter writes, without an
 * allocation per command). Every node involved gets its commands in one
 * write, all nodes' writes go out before any reply is read, so a batch
 * costs about one round trip whatever the number of nodes. The replies
 * come back in the order the commands were added. A reply that
 * redirects (MOVED: the slot has moved; ASK: it is moving, ask once
 * after ASKING) sends that command again where it says, and MOVED marks
 * the map for a refresh before the next exchange.
 *
 * When a node fails, or says it cannot serve now (CLUSTERDOWN while a
 * failover is under way, TRYAGAIN, READONLY from a master turned
 * replica, LOADING), the whole exchange is sent again on a refreshed map
 * every RETRY_PAUSE_NS until failover_ms has passed: l2.c's commands are
 * all safe to send twice. One Redis gets one reconnect and retry, as
 * there is nothing to fail over to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cw.h"
#include "hash_int.h"
#include "l2_net_int.h"

#define SEEDS_MAX 16
#define NODES_MAX 64		/* masters; fits the map's uint8_t */
#define NO_NODE 0xffu
#define SLOTS 16384
_Static_assert(CW_L2_NET_ANY_SLOT == SLOTS, "any slot is past the last");
#define REDIRECTS_MAX 5		/* a slot moved more often is an error */
#define RETRY_PAUSE_NS 100000000LL

enum net_kind { NET_ONE, NET_CLUSTER, NET_SENTINEL };

struct net_addr {
	char host[256];		/* or a Unix socket's path */
	int port;		/* 0: a Unix socket */
};

struct net_node {
	struct net_addr addr;
	redisContext *ctx;	/* NULL: not connected */
};

/* One command of the exchange, where its bytes are and where it goes. */
struct net_cmd {
	size_t off, len;	/* in cmds */
	unsigned slot;
	unsigned node;		/* this round's */
	int asking;		/* ASKING first (an ASK redirection) */
	int pending;		/* not yet answered */
};

struct cw_l2_net {
	enum net_kind kind;
	char url[CW_CFG_STR];		/* for messages: no password */
	struct net_addr seed[SEEDS_MAX];/* the URL's nodes or sentinels */
	size_t nseeds;
	char master_name[128];		/* Sentinel's */
	int db;
	char user[128], password[256];
	int64_t connect_timeout_ms, timeout_ms, failover_ms;
	struct cw_clock clock;

	struct net_node node[NODES_MAX];/* one Redis or master: node[0] */
	size_t nnodes;
	uint8_t slot_node[SLOTS];	/* a cluster's map: index in node[] */
	int map_stale;			/* refresh before the next send */
	size_t pinned;			/* 0, or 1 + the master keyless
					   commands go to */

	struct cw_buf cmds;		/* the exchange, encoded */
	struct net_cmd *cmd;
	size_t ncmd, cmd_cap;
	int nomem;			/* an add failed: the run fails */
};

/* ---- the URL ---- */

/* "host[:port]" of len bytes into a, port dflt when none is given. */
static int
parse_addr(const char *url, const char *p, size_t len, int dflt,
    struct net_addr *a, struct cw_err *err)
{
	const char *colon = memchr(p, ':', len);
	size_t hlen = colon != NULL ? (size_t)(colon - p) : len;
	char *end;
	long v;

	a->port = dflt;
	if (colon != NULL) {
		v = strtol(colon + 1, &end, 10);
		if (end != p + len || colon + 1 == end || v < 1 || v > 65535)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "l2.url '%s': bad port", url);
		a->port = (int)v;
	}
	if (hlen == 0 || hlen >= sizeof(a->host))
		return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': no host",
		    url);
	memcpy(a->host, p, hlen);
	a->host[hlen] = '\0';
	return CW_OK;
}

/* "[user[:]@]": a user name, never a password. *p moves past it. */
static int
parse_user(struct cw_l2_net *net, const char **p, const char *end,
    struct cw_err *err)
{
	const char *at = memchr(*p, '@', (size_t)(end - *p)), *colon;

	if (at == NULL)
		return CW_OK;
	colon = memchr(*p, ':', (size_t)(at - *p));
	if (colon != NULL && colon + 1 != at)
		return cw_err_set(err, CW_ECONFIG, 0, "l2.url: no password "
		    "in the URL; use CW_REDIS_PASSWORD or l2.password_file");
	snprintf(net->user, sizeof(net->user), "%.*s",
	    (int)((colon != NULL ? colon : at) - *p), *p);
	*p = at + 1;
	return CW_OK;
}

/* "host:port[,host:port...]" of [p, end). */
static int
parse_seeds(struct cw_l2_net *net, const char *url, const char *p,
    const char *end, int dflt, struct cw_err *err)
{
	int rc;

	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma != NULL ? comma : end;

		if (net->nseeds == SEEDS_MAX)
			return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': "
			    "more than %d hosts", url, SEEDS_MAX);
		if ((rc = parse_addr(url, p, (size_t)(stop - p), dflt,
		    &net->seed[net->nseeds++], err)) != CW_OK)
			return rc;
		if (comma == NULL)
			return CW_OK;
		p = comma + 1;
	}
}

static int
parse_url(struct cw_l2_net *net, const char *url, struct cw_err *err)
{
	static const char cluster[] = "redis+cluster://",
	    sentinel[] = "redis+sentinel://";
	const char *p, *end;
	char *num_end;
	long v;
	int rc;

	snprintf(net->url, sizeof(net->url), "%s", url);
	if (strncmp(url, "unix://", 7) == 0) {
		if (url[7] != '/' ||
		    strlen(url + 7) >= sizeof(net->seed[0].host))
			return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': "
			    "expected unix:///path/to/socket", url);
		strcpy(net->seed[0].host, url + 7);
		net->nseeds = 1;
		return CW_OK;
	}
	if (strncmp(url, cluster, sizeof(cluster) - 1) == 0) {
		net->kind = NET_CLUSTER;
		p = url + sizeof(cluster) - 1;
		end = p + strcspn(p, "/");
		if (*end == '/' && end[1] != '\0')
			return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': a "
			    "cluster has database 0 alone", url);
		if ((rc = parse_user(net, &p, end, err)) != CW_OK)
			return rc;
		return parse_seeds(net, url, p, end, 6379, err);
	}
	if (strncmp(url, sentinel, sizeof(sentinel) - 1) == 0) {
		net->kind = NET_SENTINEL;
		p = url + sizeof(sentinel) - 1;
		end = p + strcspn(p, "/");
		if (*end != '/' || end[1] == '\0' || strlen(end + 1) >=
		    sizeof(net->master_name) || strchr(end + 1, '/') != NULL)
			return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': "
			    "expected redis+sentinel://host:port[,...]/"
			    "mastername", url);
		strcpy(net->master_name, end + 1);
		if ((rc = parse_user(net, &p, end, err)) != CW_OK)
			return rc;
		return parse_seeds(net, url, p, end, 26379, err);
	}
	if (strncmp(url, "redis://", 8) != 0)
		return cw_err_set(err, CW_ECONFIG, 0, "l2.url '%s': expected "
		    "redis://host:port/db, unix:///path, redis+cluster://"
		    "host:port,... or redis+sentinel://host:port,.../name",
		    url);
	p = url + 8;
	end = p + strcspn(p, "/");
	if ((rc = parse_user(net, &p, end, err)) != CW_OK ||
	    (rc = parse_addr(url, p, (size_t)(end - p), 6379, &net->seed[0],
	    err)) != CW_OK)
		return rc;
	net->nseeds = 1;
	if (*end == '/' && end[1] != '\0') {
		v = strtol(end + 1, &num_end, 10);
		if (*num_end != '\0' || v < 0 || v > 1000000)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "l2.url '%s': bad database number", url);
		net->db = (int)v;
	}
	return CW_OK;
}

int
cw_l2_net_check_url(const char *url, struct cw_err *err)
{
	struct cw_l2_net *probe = calloc(1, sizeof(*probe));
	int rc;

	if (probe == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	rc = parse_url(probe, url, err);
	free(probe);
	return rc;
}

/* CW_REDIS_PASSWORD, else the first line of the password file. */
static int
read_password(struct cw_l2_net *net, const char *file, struct cw_err *err)
{
	const char *env = getenv("CW_REDIS_PASSWORD");
	FILE *f;

	if (env != NULL && *env != '\0') {
		if (strlen(env) >= sizeof(net->password))
			return cw_err_set(err, CW_ECONFIG, 0,
			    "CW_REDIS_PASSWORD: too long");
		strcpy(net->password, env);
		return CW_OK;
	}
	if (file == NULL || file[0] == '\0')
		return CW_OK;
	if ((f = fopen(file, "re")) == NULL)
		return cw_err_set(err, CW_ECONFIG, errno,
		    "l2.password_file %s", file);
	if (fgets(net->password, sizeof(net->password), f) == NULL)
		net->password[0] = '\0';
	fclose(f);
	net->password[strcspn(net->password, "\r\n")] = '\0';
	return CW_OK;
}

int
cw_l2_net_open(struct cw_l2_net **out, const struct cw_l2_net_opts *o,
    struct cw_err *err)
{
	struct cw_l2_net *net;
	int rc;

	*out = NULL;
	if ((net = calloc(1, sizeof(*net))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	if ((rc = parse_url(net, o->url, err)) != CW_OK ||
	    (rc = read_password(net, o->password_file, err)) != CW_OK) {
		free(net);
		return rc;
	}
	net->connect_timeout_ms = o->connect_timeout_ms;
	net->timeout_ms = o->timeout_ms;
	net->failover_ms = o->failover_ms;
	net->clock = o->clock;
	net->map_stale = 1;
	*out = net;
	return CW_OK;
}

static void
disconnect(struct net_node *n)
{
	if (n->ctx != NULL)
		redisFree(n->ctx);
	n->ctx = NULL;
}

void
cw_l2_net_close(struct cw_l2_net *net)
{
	if (net == NULL)
		return;
	for (size_t i = 0; i < net->nnodes; i++)
		disconnect(&net->node[i]);
	cw_buf_free(&net->cmds);
	free(net->cmd);
	explicit_bzero(net->password, sizeof(net->password));
	free(net);
}

const char *
cw_l2_net_url(const struct cw_l2_net *net)
{
	return net->url;
}

int
cw_l2_net_is_cluster(const struct cw_l2_net *net)
{
	return net->kind == NET_CLUSTER;
}

/* ---- slots ---- */

/* CRC16-CCITT (XMODEM, polynomial 0x1021), Redis Cluster's key hash, a
 * byte at a time: every command of a batch is routed by it, and the bit
 * at a time form was a third of a batch's instructions. crc16_step[b] is
 * b << 8 shifted through the polynomial eight times. */
static const uint16_t crc16_step[256] = {
	0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
	0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
	0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
	0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
	0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
	0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
	0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
	0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
	0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
	0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
	0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
	0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
	0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
	0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
	0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
	0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
	0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
	0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
	0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
	0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
	0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
	0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
	0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
	0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
	0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
	0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
	0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
	0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
	0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
	0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
	0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
	0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

static unsigned
crc16(const char *p, size_t n)
{
	unsigned crc = 0;

	for (size_t i = 0; i < n; i++)
		crc = ((crc << 8) ^ crc16_step[((crc >> 8) ^
		    (unsigned char)p[i]) & 0xffu]) & 0xffffu;
	return crc;
}

unsigned
cw_l2_net_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	if (open != NULL && (close = memchr(open + 1, '}', len - (size_t)(open +
	    1 - key))) != NULL && close > open + 1)
		return crc16(open + 1, (size_t)(close - open - 1)) % SLOTS;
	return crc16(key, len) % SLOTS;
}

/* ---- connections ---- */

static struct timeval
ms_to_tv(int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000 *
	    1000) };

	return tv;
}

static void
addr_name(const struct net_addr *a, char *out, size_t cap)
{
	if (a->port == 0)
		snprintf(out, cap, "%s", a->host);
	else
		snprintf(out, cap, "%s:%d", a->host, a->port);
}

/* The code and message for a context's failure: a stalled server shows
 * as EAGAIN from the socket timeout. */
static int
context_error(const struct cw_l2_net *net, const struct net_addr *a,
    redisContext *c, int saved_errno, struct cw_err *err)
{
	char where[300] = "";

	/* One Redis is the URL's: naming it again says nothing. */
	if (net->kind != NET_ONE) {
		addr_name(a, where, sizeof(where) - 2);
		strcat(where, ": ");
	}
	if (c != NULL && c->err == REDIS_ERR_IO && (saved_errno == EAGAIN ||
	    saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
	    saved_errno == EINPROGRESS))
		return cw_err_set(err, CW_ETIMEOUT, 0, "l2 %s: %sno answer "
		    "within %lld ms", net->url, where, (long long)(c->flags &
		    REDIS_CONNECTED ? net->timeout_ms :
		    net->connect_timeout_ms));
	return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s%s", net->url,
	    where, c != NULL ? c->errstr : "out of memory");
}

/* One command on a connection of our own; *reply (may be NULL: any but
 * an error will do) gets its answer. */
static int
command(const struct cw_l2_net *net, const struct net_addr *a,
    redisContext *c, int argc, const char **argv, redisReply **reply,
    struct cw_err *err)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	int rc = CW_OK;

	if (r == NULL)
		return context_error(net, a, c, errno, err);
	if (r->type == REDIS_REPLY_ERROR)
		rc = cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s: %s",
		    net->url, argv[0], r->str);
	if (rc == CW_OK && reply != NULL)
		*reply = r;
	else
		freeReplyObject(r);
	return rc;
}

/* Connect to a; with setup, as a client of the data (AUTH, SELECT, and
 * under Sentinel the check that a is still the master). */
static int
connect_to(const struct cw_l2_net *net, const struct net_addr *a, int setup,
    redisContext **out, struct cw_err *err)
{
	struct timeval ctv = ms_to_tv(net->connect_timeout_ms);
	redisContext *c;
	redisReply *role = NULL;
	char db[16];
	int rc = CW_OK;

	*out = NULL;
	c = a->port == 0 ? redisConnectUnixWithTimeout(a->host, ctv) :
	    redisConnectWithTimeout(a->host, a->port, ctv);
	if (c == NULL || c->err != 0 ||
	    redisSetTimeout(c, ms_to_tv(net->timeout_ms)) != REDIS_OK) {
		rc = context_error(net, a, c, errno, err);
		goto fail;
	}
	if (setup && net->password[0] != '\0') {
		const char *auth_user[] = { "AUTH", net->user, net->password };
		const char *auth[] = { "AUTH", net->password };

		if ((rc = net->user[0] != '\0' ?
		    command(net, a, c, 3, auth_user, NULL, err) :
		    command(net, a, c, 2, auth, NULL, err)) != CW_OK)
			goto fail;
	}
	if (setup && net->db != 0) {
		const char *select[] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", net->db);
		if ((rc = command(net, a, c, 2, select, NULL, err)) != CW_OK)
			goto fail;
	}
	if (setup && net->kind == NET_SENTINEL) {
		const char *argv[] = { "ROLE" };

		if ((rc = command(net, a, c, 1, argv, &role, err)) != CW_OK)
			goto fail;
		/* Between a switch and the sentinels' news of it. */
		if (role->type != REDIS_REPLY_ARRAY || role->elements < 1 ||
		    role->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(role->element[0]->str, "master") != 0)
			rc = cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s:%d is "
			    "not the master", net->url, a->host, a->port);
		freeReplyObject(role);
		if (rc != CW_OK)
			goto fail;
	}
	*out = c;
	return CW_OK;
fail:
	if (c != NULL)
		redisFree(c);
	return rc;
}

static int
node_connect(struct cw_l2_net *net, struct net_node *n, struct cw_err *err)
{
	return n->ctx != NULL ? CW_OK : connect_to(net, &n->addr, 1, &n->ctx,
	    err);
}

static int
same_addr(const struct net_addr *a, const struct net_addr *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* ---- the map ---- */

/* Make node[] hold exactly the masters of fresh[0..n), keeping the
 * connections to those it held before. */
static void
set_nodes(struct cw_l2_net *net, const struct net_addr *fresh, size_t n)
{
	struct net_node keep[NODES_MAX];

	for (size_t i = 0; i < n; i++) {
		keep[i].addr = fresh[i];
		keep[i].ctx = NULL;
		for (size_t j = 0; j < net->nnodes; j++)
			if (net->node[j].ctx != NULL &&
			    same_addr(&net->node[j].addr, &fresh[i])) {
				keep[i].ctx = net->node[j].ctx;
				net->node[j].ctx = NULL;
			}
	}
	for (size_t j = 0; j < net->nnodes; j++)
		disconnect(&net->node[j]);
	memcpy(net->node, keep, n * sizeof(keep[0]));
	net->nnodes = n;
}

/* An address from a reply's host and port (a node that leaves its host
 * empty means the one that was asked). */
static int
reply_addr(const redisReply *host, const redisReply *port,
    const struct net_addr *asked, struct net_addr *a)
{
	if (host->type != REDIS_REPLY_STRING || host->len >= sizeof(a->host))
		return 0;
	if (port->type == REDIS_REPLY_INTEGER)
		a->port = (int)port->integer;
	else if (port->type == REDIS_REPLY_STRING)
		a->port = atoi(port->str);
	else
		return 0;
	if (host->len == 0)
		snprintf(a->host, sizeof(a->host), "%s", asked->host);
	else
		snprintf(a->host, sizeof(a->host), "%s", host->str);
	return a->port > 0 && a->port <= 65535;
}

/* CLUSTER SLOTS's answer: [[first, last, [host, port, id], replicas...],
 * ...]. Slots it leaves out have no master (NO_NODE). */
static int
apply_slots(struct cw_l2_net *net, const redisReply *r,
    const struct net_addr *asked)
{
	struct net_addr fresh[NODES_MAX];
	size_t n = 0;

	if (r->type != REDIS_REPLY_ARRAY)
		return 0;
	memset(net->slot_node, NO_NODE, sizeof(net->slot_node));
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		struct net_addr a;
		long long lo, hi;
		size_t k;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER ||
		    e->element[2]->type != REDIS_REPLY_ARRAY ||
		    e->element[2]->elements < 2 ||
		    !reply_addr(e->element[2]->element[0],
		    e->element[2]->element[1], asked, &a))
			return 0;
		lo = e->element[0]->integer;
		hi = e->element[1]->integer;
		if (lo < 0 || hi >= SLOTS || lo > hi)
			return 0;
		for (k = 0; k < n && !same_addr(&fresh[k], &a); k++)
			;
		if (k == n) {
			if (n == NODES_MAX)
				return 0;
			fresh[n++] = a;
		}
		memset(net->slot_node + lo, (int)k, (size_t)(hi - lo + 1));
	}
	set_nodes(net, fresh, n);
	return 1;
}

/* The slot map from the node at a, on a connection of its own (a is
 * copied first: the map it brings rewrites node[]). */
static int
ask_slots(struct cw_l2_net *net, const struct net_addr *a,
    struct cw_err *err)
{
	const char *argv[] = { "CLUSTER", "SLOTS" };
	struct net_addr asked = *a;
	redisContext *c;
	redisReply *r;
	int rc;

	if ((rc = connect_to(net, &asked, 1, &c, err)) != CW_OK)
		return rc;
	rc = command(net, &asked, c, 2, argv, &r, err);
	redisFree(c);
	if (rc != CW_OK)
		return rc;
	if (!apply_slots(net, r, &asked))
		rc = cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: CLUSTER SLOTS: "
		    "an answer that is not a slot map", net->url);
	freeReplyObject(r);
	return rc;
}

/* The map from the first node that answers: a master already known,
 * then the URL's. */
static int
refresh_cluster(struct cw_l2_net *net, struct cw_err *err)
{
	int rc = CW_EUNAVAIL;

	for (size_t i = 0; i < net->nnodes; i++)
		if ((rc = ask_slots(net, &net->node[i].addr, err)) == CW_OK)
			return CW_OK;
	for (size_t i = 0; i < net->nseeds; i++)
		if ((rc = ask_slots(net, &net->seed[i], err)) == CW_OK)
			return CW_OK;
	return rc;
}

/* The master's address from the first sentinel that knows it. */
static int
refresh_sentinel(struct cw_l2_net *net, struct cw_err *err)
{
	const char *argv[] = { "SENTINEL", "get-master-addr-by-name",
		net->master_name };
	int rc = CW_EUNAVAIL;

	for (size_t i = 0; i < net->nseeds; i++) {
		redisContext *c;
		redisReply *r;
		struct net_addr a;
		int ok;

		if ((rc = connect_to(net, &net->seed[i], 0, &c, err)) != CW_OK)
			continue;
		rc = command(net, &net->seed[i], c, 3, argv, &r, err);
		redisFree(c);
		if (rc != CW_OK)
			continue;
		ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    reply_addr(r->element[0], r->element[1], &net->seed[i], &a);
		freeReplyObject(r);
		if (ok) {
			set_nodes(net, &a, 1);
			return CW_OK;
		}
		rc = cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: the sentinels "
		    "know no master '%s'", net->url, net->master_name);
	}
	return rc;
}

static int
refresh(struct cw_l2_net *net, struct cw_err *err)
{
	int rc = CW_OK;

	switch (net->kind) {
	case NET_ONE:
		if (net->nnodes == 0)
			set_nodes(net, &net->seed[0], 1);
		break;
	case NET_CLUSTER:
		rc = refresh_cluster(net, err);
		break;
	case NET_SENTINEL:
		rc = refresh_sentinel(net, err);
		break;
	}
	if (rc == CW_OK)
		net->map_stale = 0;
	return rc;
}

int
cw_l2_net_masters(struct cw_l2_net *net, size_t *n, struct cw_err *err)
{
	int rc;

	*n = 0;
	if (net->map_stale && (rc = refresh(net, err)) != CW_OK)
		return rc;
	*n = net->nnodes;
	return CW_OK;
}

void
cw_l2_net_pin(struct cw_l2_net *net, size_t master)
{
	net->pinned = master + 1;
}

/* ---- the exchange ---- */

void
cw_l2_net_begin(struct cw_l2_net *net)
{
	net->cmds.len = 0;
	net->ncmd = 0;
	net->nomem = 0;
}

size_t
cw_l2_net_count(const struct cw_l2_net *net)
{
	return net->ncmd;
}

/* RESP's length line, "*3\r\n" or "$5\r\n", written at w (by hand:
 * snprintf was a tenth of a batch's instructions); the end of it. */
static char *
put_len(char *w, char mark, size_t n)
{
	char digits[20];
	size_t at = sizeof(digits);

	do
		digits[--at] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	*w++ = mark;
	memcpy(w, digits + at, sizeof(digits) - at);
	w += sizeof(digits) - at;
	*w++ = '\r';
	*w++ = '\n';
	return w;
}

/* A length line's bytes at most: the mark, 20 digits, CR LF. */
#define LEN_LINE 23

void
cw_l2_net_add_slot(struct cw_l2_net *net, int argc, const char **argv,
    const size_t *lens, unsigned slot)
{
	struct net_cmd *c;
	size_t off = net->cmds.len, most = LEN_LINE;
	char *w;

	if (net->nomem)
		return;
	if (net->ncmd == net->cmd_cap) {
		size_t cap = net->cmd_cap ? net->cmd_cap * 2 : 64;
		void *p = realloc(net->cmd, cap * sizeof(*net->cmd));

		if (p == NULL) {
			net->nomem = 1;
			return;
		}
		net->cmd = p;
		net->cmd_cap = cap;
	}
	/* One reservation for the whole command, then written in place. */
	for (int i = 0; i < argc; i++)
		most += LEN_LINE + lens[i] + 2;
	if (cw_buf_reserve(&net->cmds, off + most, NULL) != CW_OK) {
		net->nomem = 1;
		return;
	}
	w = put_len(net->cmds.data + off, '*', (size_t)argc);
	for (int i = 0; i < argc; i++) {
		w = put_len(w, '$', lens[i]);
		memcpy(w, argv[i], lens[i]);
		w += lens[i];
		*w++ = '\r';
		*w++ = '\n';
	}
	net->cmds.len = (size_t)(w - net->cmds.data);
	c = &net->cmd[net->ncmd++];
	c->off = off;
	c->len = net->cmds.len - off;
	c->slot = net->kind == NET_CLUSTER && slot < SLOTS ? slot : SLOTS;
}

void
cw_l2_net_add(struct cw_l2_net *net, int argc, const char **argv,
    const size_t *lens, int key_arg)
{
	cw_l2_net_add_slot(net, argc, argv, lens, key_arg >= 0 &&
	    net->kind == NET_CLUSTER ? cw_l2_net_slot(argv[key_arg],
	    lens[key_arg]) : SLOTS);
}

/* The node a command goes to in its first round. */
static unsigned
route(const struct cw_l2_net *net, const struct net_cmd *c)
{
	if (c->slot < SLOTS)
		return net->slot_node[c->slot];
	if (net->pinned > 0 && net->pinned <= net->nnodes)
		return (unsigned)(net->pinned - 1);
	return 0;
}

/* Hand node i's pending commands to its connection and write them all
 * out; runs of commands that sit end to end in cmds go as one. */
static int
send_node(struct cw_l2_net *net, unsigned i, struct cw_err *err)
{
	struct net_node *n = &net->node[i];
	int rc, done = 0;

	if ((rc = node_connect(net, n, err)) != CW_OK)
		return rc;
	for (size_t k = 0; k < net->ncmd; k++) {
		const struct net_cmd *c = &net->cmd[k];
		size_t len;

		if (!c->pending || c->node != i)
			continue;
		if (c->asking && redisAppendCommand(n->ctx, "ASKING") !=
		    REDIS_OK)
			return cw_err_set(err, CW_ENOMEM, 0, "l2");
		len = c->len;
		while (k + 1 < net->ncmd && net->cmd[k + 1].pending &&
		    net->cmd[k + 1].node == i && !net->cmd[k + 1].asking &&
		    net->cmd[k + 1].off == c->off + len)
			len += net->cmd[++k].len;
		if (redisAppendFormattedCommand(n->ctx, net->cmds.data + c->off,
		    len) != REDIS_OK)
			return cw_err_set(err, CW_ENOMEM, 0, "l2");
	}
	while (!done)
		if (redisBufferWrite(n->ctx, &done) != REDIS_OK)
			return context_error(net, &n->addr, n->ctx, errno,
			    err);
	return CW_OK;
}

static int
read_node(struct cw_l2_net *net, unsigned i, redisReply **replies,
    struct cw_err *err)
{
	struct net_node *n = &net->node[i];

	for (size_t k = 0; k < net->ncmd; k++) {
		struct net_cmd *c = &net->cmd[k];
		redisReply *asking;

		if (!c->pending || c->node != i)
			continue;
		if (c->asking) {
			if (redisGetReply(n->ctx, (void **)&asking) != REDIS_OK)
				return context_error(net, &n->addr, n->ctx,
				    errno, err);
			freeReplyObject(asking);
		}
		if (redisGetReply(n->ctx, (void **)&replies[k]) != REDIS_OK)
			return context_error(net, &n->addr, n->ctx, errno, err);
	}
	return CW_OK;
}

static int
starts(const redisReply *r, const char *word)
{
	size_t n = strlen(word);

	return r->len >= n && memcmp(r->str, word, n) == 0 &&
	    (r->len == n || r->str[n] == ' ');
}

/* The node of "MOVED|ASK slot host:port", added to node[] when new (a
 * slot being moved to a master the map has not seen). */
static int
redirect_node(struct cw_l2_net *net, const redisReply *r, unsigned *out)
{
	const char *sp = memchr(r->str, ' ', r->len), *target;
	struct net_addr a;
	size_t i;

	if (sp == NULL || (sp = memchr(sp + 1, ' ', r->len - (size_t)(sp + 1 -
	    r->str))) == NULL)
		return 0;
	target = sp + 1;
	if (parse_addr(net->url, target, r->len - (size_t)(target - r->str),
	    6379, &a, NULL) != CW_OK)
		return 0;
	for (i = 0; i < net->nnodes && !same_addr(&net->node[i].addr, &a); i++)
		;
	if (i == net->nnodes) {
		if (i == NODES_MAX)
			return 0;
		net->node[i].addr = a;
		net->node[i].ctx = NULL;
		net->nnodes++;
	}
	*out = (unsigned)i;
	return 1;
}

/*
 * Look at this round's replies: a redirection is freed and its command
 * stays pending for its new node; any other reply ends the command. *more
 * says whether any is left. CW_EUNAVAIL, and the words in err, when a
 * reply says the cluster or the master cannot serve now.
 */
static int
settle(struct cw_l2_net *net, redisReply **replies, int *more,
    struct cw_err *err)
{
	static const char *const not_now[] = { "CLUSTERDOWN", "TRYAGAIN",
		"READONLY", "LOADING", "MASTERDOWN" };

	*more = 0;
	for (size_t k = 0; k < net->ncmd; k++) {
		struct net_cmd *c = &net->cmd[k];
		redisReply *r = replies[k];
		int moved, ask;
		unsigned to;

		if (!c->pending)
			continue;
		c->pending = 0;
		c->asking = 0;
		if (r->type != REDIS_REPLY_ERROR || net->kind == NET_ONE)
			continue;
		for (size_t w = 0; w < sizeof(not_now) / sizeof(*not_now); w++)
			if (starts(r, not_now[w]))
				return cw_err_set(err, CW_EUNAVAIL, 0,
				    "l2 %s: %s", net->url, r->str);
		moved = starts(r, "MOVED");
		ask = starts(r, "ASK");
		if (!moved && !ask)
			continue;
		if (!redirect_node(net, r, &to))
			return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: %s",
			    net->url, r->str);
		if (moved) {
			net->slot_node[c->slot] = (uint8_t)to;
			net->map_stale = 1;
		}
		freeReplyObject(r);
		replies[k] = NULL;
		c->node = to;
		c->asking = ask;
		c->pending = 1;
		*more = 1;
	}
	return CW_OK;
}

static void
drop_replies(struct cw_l2_net *net, redisReply **replies)
{
	for (size_t k = 0; k < net->ncmd; k++) {
		if (replies[k] != NULL)
			freeReplyObject(replies[k]);
		replies[k] = NULL;
	}
}

/* One try: every node's commands out, every reply in, redirections
 * followed. On failure the connections of the round are dropped (their
 * replies are out of step with their commands now). */
static int
run_once(struct cw_l2_net *net, redisReply **replies, struct cw_err *err)
{
	uint8_t used[NODES_MAX];
	int rc = CW_OK, more = 1;

	if (net->map_stale && (rc = refresh(net, err)) != CW_OK)
		return rc;
	for (size_t k = 0; k < net->ncmd; k++) {
		net->cmd[k].node = route(net, &net->cmd[k]);
		net->cmd[k].asking = 0;
		net->cmd[k].pending = 1;
		if (net->cmd[k].node >= net->nnodes)
			return cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: slot %u "
			    "has no master", net->url, net->cmd[k].slot);
	}
	for (int round = 0; more && rc == CW_OK; round++) {
		if (round == REDIRECTS_MAX) {
			rc = cw_err_set(err, CW_EUNAVAIL, 0, "l2 %s: "
			    "redirected %d times", net->url, REDIRECTS_MAX);
			break;
		}
		memset(used, 0, sizeof(used));
		for (size_t k = 0; k < net->ncmd; k++)
			if (net->cmd[k].pending)
				used[net->cmd[k].node] = 1;
		for (unsigned i = 0; i < net->nnodes && rc == CW_OK; i++)
			if (used[i])
				rc = send_node(net, i, err);
		for (unsigned i = 0; i < net->nnodes && rc == CW_OK; i++)
			if (used[i])
				rc = read_node(net, i, replies, err);
		if (rc != CW_OK) {
			for (unsigned i = 0; i < net->nnodes; i++)
				if (used[i])
					disconnect(&net->node[i]);
			break;
		}
		rc = settle(net, replies, &more, err);
	}
	if (rc != CW_OK)
		drop_replies(net, replies);
	return rc;
}

int
cw_l2_net_run(struct cw_l2_net *net, redisReply **replies,
    struct cw_err *err)
{
	int64_t deadline;
	int rc;

	if (net->nomem) {
		net->pinned = 0;
		return cw_err_set(err, CW_ENOMEM, 0, "l2");
	}
	memset(replies, 0, net->ncmd * sizeof(*replies));
	deadline = cw_clock_elapsed_ns(&net->clock) + net->failover_ms *
	    1000000;
	for (int attempt = 0;; attempt++) {
		int64_t left;

		rc = run_once(net, replies, err);
		if (rc == CW_OK || rc == CW_ENOMEM)
			break;
		if (net->kind == NET_ONE) {
			if (attempt >= 1)
				break;
			continue;
		}
		net->map_stale = 1;
		left = deadline - cw_clock_elapsed_ns(&net->clock);
		if (left <= 0)
			break;
		cw_clock_sleep_ns(&net->clock, left < RETRY_PAUSE_NS ? left :
		    RETRY_PAUSE_NS);
	}
	net->pinned = 0;
	return rc;
}
