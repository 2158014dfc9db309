/*
 * l2_net_int.h: the connections behind L2 and which one each command
 * goes to, for l2.c alone. One Redis, a Redis Cluster, or the master a
 * Sentinel names: l2.c writes the same commands to all three.
 */
#ifndef CW_L2_NET_INT_H
#define CW_L2_NET_INT_H

#include <hiredis/hiredis.h>

#include "cw.h"

struct cw_l2_net;

struct cw_l2_net_opts {
	/* redis://[user@]host[:port][/db], unix:///path,
	 * redis+cluster://[user@]host:port[,host:port...],
	 * redis+sentinel://[user@]host:port[,host:port...]/mastername */
	const char *url;
	const char *password_file;	/* "" or NULL: none */
	int64_t connect_timeout_ms, timeout_ms;
	/* A cluster or a Sentinel's master: how long an exchange keeps
	 * trying (the map refreshed, the master asked for again) while a
	 * node is down, for its replica to be promoted. */
	int64_t failover_ms;
	struct cw_clock clock;		/* the waits between tries */
};

/*
 * Read the URL and the password ($CW_REDIS_PASSWORD, else the first line
 * of password_file; one in the URL is refused). Nothing connects until
 * the first exchange. CW_ECONFIG for a URL that cannot work, CW_ENOMEM.
 */
int cw_l2_net_open(struct cw_l2_net **out, const struct cw_l2_net_opts *o,
    struct cw_err *err);
/* Is url one cw_l2_net_open takes? CW_ECONFIG why not. No I/O. */
int cw_l2_net_check_url(const char *url, struct cw_err *err);
void cw_l2_net_close(struct cw_l2_net *net);
/* The URL, for messages (it holds no password). */
const char *cw_l2_net_url(const struct cw_l2_net *net);
/* A cluster: keys that must share a node need one hash tag. */
int cw_l2_net_is_cluster(const struct cw_l2_net *net);

/*
 * An exchange: cw_l2_net_begin, cw_l2_net_add for each command, then
 * cw_l2_net_run, which sends every node its own commands in one write
 * and returns the replies in the order the commands were added. The
 * commands must be safe to send twice: a failed exchange is sent again.
 */
void cw_l2_net_begin(struct cw_l2_net *net);
/* Add a command; argv[key_arg] is the key that chooses the node (-1:
 * any node, or the master cw_l2_net_pin chose). Out of memory, the run
 * fails with CW_ENOMEM. */
void cw_l2_net_add(struct cw_l2_net *net, int argc, const char **argv,
    const size_t *lens, int key_arg);
/* The same, the key's slot (cw_l2_net_slot) known to the caller: a
 * batch hashes each key once for all its commands. CW_L2_NET_ANY_SLOT:
 * any node. Outside a cluster the slot is not used. */
#define CW_L2_NET_ANY_SLOT 16384u
void cw_l2_net_add_slot(struct cw_l2_net *net, int argc, const char **argv,
    const size_t *lens, unsigned slot);
/* Commands added since cw_l2_net_begin. */
size_t cw_l2_net_count(const struct cw_l2_net *net);
/*
 * Send, and fill replies[0..count) (the caller frees each with
 * freeReplyObject on CW_OK; on failure none is left). Redirections
 * (MOVED, ASK) are followed; a node that fails, or a cluster or master
 * that says it cannot serve now (CLUSTERDOWN, TRYAGAIN, READONLY,
 * LOADING), is retried on a refreshed map until failover_ms has passed;
 * one Redis gets one reconnect and retry. CW_ETIMEOUT, CW_EUNAVAIL,
 * CW_ENOMEM. Other error replies are the caller's to read.
 */
int cw_l2_net_run(struct cw_l2_net *net, redisReply **replies,
    struct cw_err *err);

/*
 * Every master in turn (a SCAN must visit each): *n gets how many there
 * are, 1 unless a cluster; cw_l2_net_pin(net, i) sends the keyless
 * commands of the next cw_l2_net_run to master i.
 * CW_EUNAVAIL, CW_ETIMEOUT.
 */
int cw_l2_net_masters(struct cw_l2_net *net, size_t *n, struct cw_err *err);
void cw_l2_net_pin(struct cw_l2_net *net, size_t master);

/* The cluster's slot of a Redis key: CRC16 of the key, or of its hash
 * tag (the first "{...}" with something inside), modulo 16384. */
unsigned cw_l2_net_slot(const char *key, size_t len);

#endif /* CW_L2_NET_INT_H */
