/*
 * fill_int.h: the fill module, for the library's modules that fill
 * (hier, warm, replay, quick) and its tests: no program fills but
 * through cw_hier or cw_warm. Its API first, then what the hierarchy's
 * batch stages use of it: the levels it owns, and the one rule for an
 * answer from L2.
 */
#ifndef CW_FILL_INT_H
#define CW_FILL_INT_H

#include "cw.h"
#include "l2_int.h"

/*
 * Every fill of every program goes through here, so the rules exist
 * once: an entry never lives longer above than below (L2's TTL capped by
 * the source's, L1's by what L2 gave or has left); "not found" is
 * remembered in both levels for negative_ttl; a key missing everywhere
 * is fetched by one process of all hosts (single flight: the one that
 * takes its lock in Redis, with a look at L2 in the same round trip; the
 * others wait for its answer in L1 or L2, at most as long as the holder
 * may take); the lock goes in the round trip that fills L2; an error
 * fills nothing, so what is cached stays.
 *
 * The fill of a key is a step machine, so one caller may have many in
 * flight (a warmer), and another drive one at a time (cw_fill_run).
 * The handle owns the levels: the L1 file from the start, L2 and the
 * source from their first need. Not for use by two threads at once.
 */
struct cw_fill;

struct cw_fill_opts {
	const struct cw_cfg *cfg;	/* read during open only */
	struct cw_clock clock;
	int no_fill;		/* look, fetch, but fill no level */
	int64_t ttl_ms;		/* L1 lifetime of fills; 0: the config's */
	unsigned l1_flags;	/* added to every L1 fill (CW_L1_WARM) */
	enum cw_role role;	/* whose lookups they are, in the counts */
	/* Called once when a level fails and is bypassed from then on,
	 * with a one-line reason. May be NULL. */
	void (*on_degraded)(void *ctx, const char *msg);
	void *on_degraded_ctx;
};

/*
 * Open the levels from the configuration (copied). An L1 file that
 * cannot be used (a full disk, no permission, a file that is not ours,
 * refused untouched) is reported through on_degraded and the fills go
 * on without it: cw_fill_l1_status says so. Only CW_ENOMEM fails.
 */
int cw_fill_open(struct cw_fill **out, const struct cw_fill_opts *opts,
    struct cw_err *err);
/* CW_OK while L1 is in use, else the code (and in err, may be NULL, the
 * reason) that kept it out. */
int cw_fill_l1_status(const struct cw_fill *f, struct cw_err *err);
/* Stop every fetch in flight and close the levels; accepts NULL. */
void cw_fill_close(struct cw_fill *f);

enum cw_fill_state {
	CW_FILL_LOCK,		/* next: try the lock, looking at L2 */
	CW_FILL_WAITING,	/* another process fetches: step at wake_ns */
	CW_FILL_FETCHING,	/* the source has it: cw_fill_poll reports */
	CW_FILL_DONE,		/* rc, level and err say how it ended */
};

/* cw_fill_key flags. */
#define CW_FILL_REFRESH 0x1u	/* the source's answer, whatever L1 and
				   L2 hold: overwrite both */

/* cw_fill_key filled bits. */
#define CW_FILL_L1 0x1u
#define CW_FILL_L2 0x2u

/* One key's fill. The caller sets key, klen, val (and flags), keeps the
 * struct and val in place until it is done, and reads the outcome. */
struct cw_fill_key {
	const char *key;	/* in: valid until done */
	size_t klen;
	struct cw_buf *val;	/* in: receives the value */
	unsigned flags;
	void *ctx;		/* the caller's, untouched */
	enum cw_fill_state state;
	int rc;			/* when done: CW_OK, CW_ENOTFOUND, a code */
	enum cw_level level;	/* who answered with a value, or NONE */
	struct cw_err err;	/* when rc is neither CW_OK nor NOTFOUND */
	int64_t wake_ns;	/* WAITING: elapsed time to step again */
	unsigned l1_flags;	/* in: added to this key's L1 fill */
	unsigned filled;	/* out: CW_FILL_L1, CW_FILL_L2 written */
	/* The machine's own. */
	int held;		/* this process holds the key's lock */
	int via_l2;		/* the lock was tried: fill L2 too */
	int64_t deadline_ns, pause_ns, fetch_ns;
};

/* Start k's fill: the caller has looked in L1 (and may have in L2) and
 * found nothing it wants. A malformed key is done at once (CW_EDATA). */
void cw_fill_begin(struct cw_fill *f, struct cw_fill_key *k);
/* Take k as far as it goes without waiting; returns its state. */
enum cw_fill_state cw_fill_step(struct cw_fill *f, struct cw_fill_key *k);
/*
 * Wait up to wait_ns of elapsed time (negative: until one is done) for
 * fetches in flight, finish the fills of those that answered (the rules
 * above) and put up to cap of them, now done, into done[]. Returns how
 * many.
 */
size_t cw_fill_poll(struct cw_fill *f, int64_t wait_ns,
    struct cw_fill_key **done, size_t cap);
size_t cw_fill_in_flight(const struct cw_fill *f);	/* fetches */
/* Begin k and drive it to the end, waiting as it must: for a caller
 * with nothing else in flight. */
void cw_fill_run(struct cw_fill *f, struct cw_fill_key *k);

/* How much life each level has left for a key: a share of the level's
 * own TTL (0..1; over 1 when set for longer), -1 when absent. A
 * remembered miss counts as present. */
struct cw_fill_fresh {
	const char *key;	/* in */
	size_t klen;
	double l1_left, l2_left;	/* out; l2 -1 also without an L2 */
	int has_l2;		/* out: an L2 is in use */
};

/* Look n keys up in L1 and, in one round trip, L2. */
void cw_fill_freshness(struct cw_fill *f, struct cw_fill_fresh *q, size_t n);
/* Remove key (and its remembered miss) from L1 and L2. *existed says
 * whether either level had something. CW_EUNAVAIL when L2 failed. */
int cw_fill_drop(struct cw_fill *f, const char *key, size_t klen,
    int *existed, struct cw_err *err);

/* ---- what the hierarchy's batch stages use ---- */

/* The L1 file, or NULL when it could not be used. */
struct cw_l1 *cw_fill_int_l1(struct cw_fill *f);
/* L2, opened at first need; NULL when there is none or it is down. */
struct cw_l2 *cw_fill_int_l2(struct cw_fill *f);
/* The cw_l2_get flags of a batch's L2 stage. */
unsigned cw_fill_int_l2_flags(const struct cw_fill *f);
/* An L2 exchange failed: said once, when it takes the level down. */
void cw_fill_int_l2_failed(struct cw_fill *f, const struct cw_err *e);
/* Stop every fetch in flight, forgetting their keys (the run that
 * started them ends at its deadline); their locks lapse by their TTL. */
void cw_fill_int_abandon(struct cw_fill *f);
/* How long a copy of key fetched now from the source lives at the
 * lowest level it fills (L2 when configured, else L1): its lifetimes,
 * closed days' included, capped by the source's. */
int64_t cw_fill_int_copy_life_ms(const struct cw_fill *f, const char *key,
    size_t klen);
/* How a level's code counts in the stats: hit, miss, error, timeout. */
enum cw_result cw_fill_int_result_of(int rc);
/* Count an outcome in L1's shared counters, when there is an L1. */
void cw_fill_int_record(struct cw_fill *f, enum cw_level level,
    enum cw_result result, int64_t latency_ns);
/*
 * L2's answers q[0..n) (a value in *q->val, or a remembered miss): fill
 * L1 from them in one batch, each capped by what L2 has left of it,
 * with flags[i] (NULL: none; CW_L1_NO_EVICT for a background warm).
 * settled[i] is 0 when L2 had nothing for q[i]; else rc[i] is CW_OK or
 * CW_ENOTFOUND, and filled[i] (filled may be NULL) CW_FILL_L1 when L1
 * was written.
 */
void cw_fill_int_from_l2_many(struct cw_fill *f,
    const struct cw_l2_lookup *q, size_t n, const unsigned *flags,
    int *settled, int *rc, unsigned *filled);

#endif /* CW_FILL_INT_H */
