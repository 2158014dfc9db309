/*
 * l2_int.h: L2 as the fill machine uses it (no program talks to Redis
 * but through the levels): lookups, stores, the single-flight lock.
 */
#ifndef CW_L2_INT_H
#define CW_L2_INT_H

#include "cw.h"

struct cw_l2;

/* L2's own settings; the strings are read during open only. */
struct cw_l2_opts {
	const char *url;		/* cw_l2_open's */
	const char *password_file;	/* "" or NULL: none */
	const char *prefix;		/* of every Redis key, "cw:" */
	int64_t ttl_ms;			/* of a value, before jitter */
	int64_t connect_timeout_ms, timeout_ms;
	/* A cluster's or Sentinel's: how long a call keeps trying while a
	 * master is down, for its replica to be promoted. */
	int64_t failover_ms;
	/* A cluster's: one instrument's keys in one slot (a session's
	 * warm-up on few nodes) rather than spread by the whole key. */
	int by_instrument;
	struct cw_clock clock;
	/* Keep each entry's expiry in calendar time beside it ("KEY until",
	 * the remembered miss's value) and judge its life by that: for a
	 * replay, whose calendar runs far ahead of Redis's own clock. */
	int calendar_expiry;
};

/*
 * Prepare L2 from opts->url: one Redis, "redis://[user@]host[:port][/db]"
 * or "unix:///path"; a cluster, "redis+cluster://[user@]host:port[,...]";
 * or the master Sentinel names, "redis+sentinel://host:port[,...]/name".
 * The password comes from $CW_REDIS_PASSWORD or opts->password_file (one
 * in the URL is refused). Nothing connects until the first call that
 * needs Redis. A failed call is retried once on a new connection (a
 * cluster's or Sentinel's, for up to failover_ms on a refreshed map); if
 * that fails too, L2 is down for the rest of the process and every later
 * call fails at once. CW_ECONFIG, CW_ENOMEM.
 */
int cw_l2_open(struct cw_l2 **out, const struct cw_l2_opts *opts,
    struct cw_err *err);
/* Is url one cw_l2_open takes? CW_ECONFIG why not. No I/O. */
int cw_l2_check_url(const char *url, struct cw_err *err);
void cw_l2_close(struct cw_l2 *l2);
/* Nonzero once the level has been given up on. */
int cw_l2_down(const struct cw_l2 *l2);

/* One key of a batch lookup. */
struct cw_l2_lookup {
	const char *key;	/* in */
	size_t klen;
	struct cw_buf *val;	/* in: receives the value */
	int rc;			/* CW_OK, CW_ENOTFOUND, CW_EUNAVAIL (the
				   Redis key holds something else) */
	int negative;		/* not found, and remembered so */
	int64_t ttl_ms;		/* life left of the value or of the
				   negative; -1 when it has no expiry */
};

/* Look n keys up: one round trip when all have a value, a second for
 * those without, to find their remembered misses. The return is the
 * exchanges'; the keys' own outcomes are in q[i].rc. */
int cw_l2_get(struct cw_l2 *l2, struct cw_l2_lookup *q, size_t n,
    unsigned flags, struct cw_err *err);
/* cw_l2_get flags. */
#define CW_L2_VALUES_ONLY 0x1u	/* a value's life left is not asked (its
				   ttl_ms is -1): a reader that fills no
				   level sends one command a key, not two */
#define CW_L2_LIVES_ONLY 0x2u	/* the values are not asked (val is not
				   touched and may be NULL): rc CW_OK and
				   ttl_ms say a key is there and for how
				   long, whatever it holds. A warmer's fresh
				   check, which moved every value over the
				   wire to read its PTTL */
/* cw_l2_set flags. */
#define CW_L2_NEGATIVE 0x1u	/* remember "not found" for max_ttl_ms */
#define CW_L2_UNLOCK 0x2u	/* we hold the fetch lock: store only if no
				   one took it since, and release it, in
				   the same round trip */

/* Store a value for the configured TTL, +-10% jitter, at most
 * max_ttl_ms (or with CW_L2_NEGATIVE remember that the source has none,
 * for max_ttl_ms; val is ignored). *ttl_ms (may be NULL) gets the TTL. */
int cw_l2_set(struct cw_l2 *l2, const char *key, size_t klen,
    const void *val, size_t vlen, int64_t max_ttl_ms, unsigned flags,
    int64_t *ttl_ms, struct cw_err *err);
/*
 * Single flight: take q->key's fetch lock for ttl_ms if it is free, and
 * look the key up in the same round trip (q as for cw_l2_get). *held is
 * 1 when this process holds the lock, 0 when another does.
 */
int cw_l2_lock(struct cw_l2 *l2, struct cw_l2_lookup *q, int64_t ttl_ms,
    int *held, struct cw_err *err);
/* Release the lock if it is still ours. */
int cw_l2_unlock(struct cw_l2 *l2, const char *key, size_t klen,
    struct cw_err *err);
/* Forget key's value and its remembered miss, in one round trip;
 * *existed (may be NULL) says whether there was either. */
int cw_l2_del(struct cw_l2 *l2, const char *key, size_t klen, int *existed,
    struct cw_err *err);


/* One store of a batch, as cw_l2_set takes it; ttl_ms is set. */
struct cw_l2_write {
	const char *key;
	size_t klen;
	const void *val;	/* ignored with CW_L2_NEGATIVE */
	size_t vlen;
	int64_t max_ttl_ms;
	unsigned flags;
	int64_t base_ttl_ms;	/* before jitter; 0: the configured one */
	int64_t ttl_ms;		/* out: the TTL given */
	int refused;		/* out, with CW_L2_UNLOCK: not stored, as
				   another process took the lock since (our
				   answer is the older) */
};

/* cw_l2_set for n keys in one round trip (pipelined): a warmer's answers
 * go to Redis together. */
int cw_l2_set_many(struct cw_l2 *l2, struct cw_l2_write *w, size_t n,
    struct cw_err *err);

/* Remove every Redis key under the prefix (SCAN and UNLINK), a replay's
 * when it ends; *removed gets how many. CW_EUSAGE without a prefix. */
int cw_l2_purge(struct cw_l2 *l2, uint64_t *removed, struct cw_err *err);

#endif /* CW_L2_INT_H */
