/*
 * alog_int.h: the access log's writer, used by the hierarchy for every
 * lookup. Its lines are read back by cw_predict_parse_line (predict_int.h),
 * the one reader of the format.
 */
#ifndef CW_ALOG_INT_H
#define CW_ALOG_INT_H

#include "cw.h"

/* The most lookups one line of the log stands for (its count field):
 * the writer starts a new line at that many, and every reader refuses
 * a larger count as malformed (CW_EDATA), so a short line cannot make a
 * reader expand gigabytes of reads. */
#define CW_ALOG_MAX_COUNT 1000000u

struct cw_alog;

/* Open (create, mode: 0600, or 0660 for a log a group shares) path for
 * appending, rotating to path.1 .. path.KEEP when it grows past
 * max_bytes. Lines are buffered and written whole with O_APPEND, so many
 * processes may share one log. CW_EIO, CW_ENOMEM. */
int cw_alog_open(struct cw_alog **out, const char *path, uint64_t max_bytes,
    unsigned keep, unsigned mode, struct cw_err *err);
/* Append "ts,key,level,latency_us". */
int cw_alog_append(struct cw_alog *log, int64_t wall_ns, const char *key,
    size_t klen, enum cw_level level, int64_t latency_ns,
    struct cw_err *err);
/* The same, the key's cw_hash known (a lookup of L1 computed it). */
int cw_alog_append_hashed(struct cw_alog *log, int64_t wall_ns,
    const char *key, size_t klen, uint64_t key_hash, enum cw_level level,
    int64_t latency_ns, struct cw_err *err);
/* Write out what is buffered. */
int cw_alog_flush(struct cw_alog *log, struct cw_err *err);
/* Flush and close; accepts NULL. */
void cw_alog_close(struct cw_alog *log);

#endif /* CW_ALOG_INT_H */
