/*
 * warm_int.h: the pieces of warming that the planner, the replay and
 * the journal share: reading input lines, merging a key's tasks, the
 * keys the access log shows read lately. Programs plan with
 * cw_warm_plan_* and run with cw_warm_run (cw.h).
 */
#ifndef CW_WARM_INT_H
#define CW_WARM_INT_H

#include "cw.h"

const char *cw_warm_result_name(int result);	/* "pending" if none */

/* One input line: a key, or cw-predict's TSV (key, expected reads,
 * probability, priority, ...): its priority column when it names a
 * class, else above 0.7 probability high and medium below, else
 * default_prio. CW_EDATA for a malformed key. Sets key, klen and prio;
 * zeroes the rest. */
int cw_warm_parse_line(const char *line, size_t len, int default_prio,
    struct cw_warm_task *t, struct cw_err *err);
/* Merge tasks for the same key into the first, with the most urgent
 * class, the earliest deadline and every flag; keeps seq order (the
 * caller numbers seq). Returns the new count. */
size_t cw_warm_dedup(struct cw_warm_task *tasks, size_t n);

/*
 * The keys the access log at path shows read at least min_reads times
 * since since_s (Unix seconds), answered at level (its name in the log,
 * "l2": read often, yet missing from L1; NULL: any level). Appended to
 * keys one a line, most read first. The rotated log.1 is read too.
 * CW_ENOTFOUND when there is no log.
 */
int cw_warm_read_lately(const char *path, int64_t since_s, unsigned min_reads,
    const char *level, struct cw_buf *keys, size_t *n, struct cw_err *err);

/* A forecast's keys, of class prio (negative: each forecast's own). */
int cw_warm_plan_forecast(struct cw_warm_plan *p,
    const struct cw_forecast *list, size_t n, int prio, struct cw_err *err);

#endif /* CW_WARM_INT_H */
