/*
 * sched_int.h: the warming engine's scheduler (sched.c), a pure module:
 * private to lib/warm.c and its tests.
 */
#ifndef CW_SCHED_INT_H
#define CW_SCHED_INT_H

#include "cw.h"

struct cw_sched_opts {
	unsigned slots;			/* tasks running at once */
	int64_t deadline_ns;		/* nothing starts at or after it */
	int64_t retry_first_ns;		/* a critical task's first back-off */
	int64_t retry_max_ns;		/* doubling up to this */
};

/*
 * The order tasks start in: higher class first, then the earliest
 * deadline, then the order they were added; at most `slots` at once. A
 * critical task that failed is tried again after a back-off while the
 * run's deadline allows. Pure: no I/O, every time is handed in (elapsed
 * nanoseconds), tasks are numbers 0, 1, 2, ... in the order added.
 */
struct cw_sched;

int cw_sched_new(struct cw_sched **out, const struct cw_sched_opts *opts,
    struct cw_err *err);
void cw_sched_free(struct cw_sched *s);
/* Queue a task of class prio that should be done by deadline_ns (the
 * run's when later); *id gets its number. CW_ENOMEM. */
int cw_sched_add(struct cw_sched *s, int prio, int64_t deadline_ns,
    size_t *id, struct cw_err *err);
/* 1 with *id set when a task may start now (a slot free, the deadline
 * not passed, one ready), else 0. */
int cw_sched_next(struct cw_sched *s, int64_t now_ns, size_t *id);
/* A started task ended; failed says whether it may be worth a retry.
 * Returns 1 when it will be retried (it frees its slot meanwhile). */
int cw_sched_done(struct cw_sched *s, size_t id, int failed, int64_t now_ns);
/* How often a task was started. */
unsigned cw_sched_tries(const struct cw_sched *s, size_t id);
/* When the next back-off ends, or the deadline if sooner. */
int64_t cw_sched_wake_ns(const struct cw_sched *s);
/* Tasks not yet done: queued, waiting to retry, or running. */
size_t cw_sched_left(const struct cw_sched *s);
/* Take up to cap tasks that never got to finish (queued or waiting to
 * retry) out, in the order they would have run: the expired ones. */
size_t cw_sched_expire(struct cw_sched *s, size_t *ids, size_t cap);

/* ---- a priority class by name ---- */

int cw_prio_parse(const char *s, size_t len, int *prio);

#endif /* CW_SCHED_INT_H */
