/*
 * alog: the access log cw-predict learns from.
 *
 * CSV lines "ts,key,level,latency_us[,count]", ts in Unix seconds with
 * milliseconds. The lookups of one key at one level within one second of
 * one process are one line: its first lookup's time, the mean latency,
 * and the count when above 1 (a batch of a million lookups of a few
 * thousand keys writes a few thousand lines, not 60 MB, and the line of a
 * lone lookup is the one readers have always read). The predictor needs
 * no more: it counts reads per hour. Lines are gathered in a buffer and
 * written whole with one
 * write(2) to an O_APPEND descriptor: the kernel appends each write
 * atomically, so the lines of many processes never interleave, and a
 * batch of a million lookups costs a few dozen system calls, not a
 * million. Past max_bytes the writer that notices rotates under flock, so
 * two processes never rotate the same file twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cw.h"
#include "fs_int.h"
#include "hash_int.h"
#include "num_int.h"
#include "alog_int.h"

#define FLUSH_AT 32768
/* Distinct (key, level) pairs gathered within a second before they are
 * written out anyway: a power of two, at most half of it used. */
#define AGG_SLOTS 8192

/* The lookups of one key at one level in the current second. */
struct agg {
	uint64_t hash;		/* 0: empty slot */
	uint32_t key_at;	/* in keys */
	uint16_t klen;
	uint8_t level;
	uint32_t count;
	uint64_t latency_us;	/* summed */
	int64_t first_ms;
};

struct cw_alog {
	int fd;
	unsigned mode;
	uint64_t max_bytes;
	unsigned keep;
	struct cw_buf pending;
	char *path;
	/* The current second's lookups, in the order first seen. */
	int64_t agg_second;
	struct agg *slots;		/* AGG_SLOTS, made at first use */
	uint32_t order[AGG_SLOTS / 2];	/* slot of each, first seen first */
	uint32_t nagg;
	struct cw_buf keys;
};

static int
open_fd(const char *path, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, mode);

	/* Made now: its mode exactly, whatever the umask (a group's log
	 * must be the group's to append to). */
	if (fd >= 0)
		(void)fchmod(fd, mode);
	else if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	return cw_fs_fd_above_std(fd);
}

int
cw_alog_open(struct cw_alog **out, const char *path, uint64_t max_bytes,
    unsigned keep, unsigned mode, struct cw_err *err)
{
	struct cw_alog *log;
	int rc;

	*out = NULL;
	if (strlen(path) >= CW_PATH_MAX)
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", path);
	if ((log = calloc(1, sizeof(*log))) == NULL ||
	    (log->path = strdup(path)) == NULL) {
		free(log);
		return cw_err_set(err, CW_ENOMEM, 0, "access log");
	}
	log->mode = mode;
	/* Directories are made only when missing: most runs open at once. */
	if ((log->fd = open_fd(path, mode)) < 0 && errno == ENOENT &&
	    cw_fs_make_parents(path, NULL) == CW_OK)
		log->fd = open_fd(path, mode);
	if (log->fd < 0) {
		rc = cw_err_set(err, CW_EIO, errno, "open %s", path);
		free(log->path);
		free(log);
		return rc;
	}
	log->max_bytes = max_bytes;
	log->keep = keep > 0 ? keep : 1;
	*out = log;
	return CW_OK;
}

/* One line of a gathered entry into the pending buffer. */
static int
put_line(struct cw_alog *log, const struct agg *a, struct cw_err *err)
{
	struct cw_buf *b = &log->pending;
	const char *key = log->keys.data + a->key_at;
	size_t klen = a->klen;
	int quote = memchr(key, ',', klen) != NULL ||
	    memchr(key, '"', klen) != NULL;
	uint64_t ms = a->first_ms > 0 ? (uint64_t)a->first_ms : 0;
	const char *lv = cw_level_name((enum cw_level)a->level);
	char *p;
	int rc;

	if ((rc = cw_buf_reserve(b, b->len + 2 * klen + 80, err)) != CW_OK)
		return rc;
	p = b->data + b->len;
	p += cw_num_put_u64(p, ms / 1000);
	*p++ = '.';
	*p++ = (char)('0' + ms % 1000 / 100);
	*p++ = (char)('0' + ms % 100 / 10);
	*p++ = (char)('0' + ms % 10);
	*p++ = ',';
	if (quote)
		*p++ = '"';
	for (size_t i = 0; i < klen; i++) {
		if (key[i] == '"')
			*p++ = '"';	/* CSV doubles quotes */
		*p++ = key[i];
	}
	if (quote)
		*p++ = '"';
	*p++ = ',';
	memcpy(p, lv, strlen(lv));
	p += strlen(lv);
	*p++ = ',';
	p += cw_num_put_u64(p, a->latency_us / a->count);
	if (a->count > 1) {
		*p++ = ',';
		p += cw_num_put_u64(p, a->count);
	}
	*p++ = '\n';
	b->len = (size_t)(p - b->data);
	return CW_OK;
}

/* Turn the gathered entries into lines, first seen first. */
static int
drain(struct cw_alog *log, struct cw_err *err)
{
	int rc = CW_OK;

	for (uint32_t i = 0; i < log->nagg; i++) {
		struct agg *a = &log->slots[log->order[i]];

		if (rc == CW_OK)
			rc = put_line(log, a, err);
		a->hash = 0;
	}
	log->nagg = 0;
	log->keys.len = 0;
	return rc;
}

int
cw_alog_append(struct cw_alog *log, int64_t wall_ns, const char *key,
    size_t klen, enum cw_level level, int64_t latency_ns,
    struct cw_err *err)
{
	return cw_alog_append_hashed(log, wall_ns, key, klen,
	    cw_hash(key, klen), level, latency_ns, err);
}

int
cw_alog_append_hashed(struct cw_alog *log, int64_t wall_ns,
    const char *key, size_t klen, uint64_t key_hash, enum cw_level level,
    int64_t latency_ns, struct cw_err *err)
{
	int64_t ms = wall_ns > 0 ? wall_ns / 1000000 : 0;
	uint64_t h = (key_hash ^ (uint64_t)level) | 1;
	uint32_t at;
	struct agg *a;
	int rc;

	if (klen > UINT16_MAX)
		return cw_err_set(err, CW_EDATA, 0, "key too long to log");
	if (log->slots == NULL && (log->slots = calloc(AGG_SLOTS,
	    sizeof(*log->slots))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "access log");
	if (log->nagg > 0 && (ms / 1000 != log->agg_second ||
	    log->nagg == AGG_SLOTS / 2)) {
		if ((rc = drain(log, err)) != CW_OK)
			return rc;
		if (log->pending.len >= FLUSH_AT &&
		    (rc = cw_alog_flush(log, err)) != CW_OK)
			return rc;
	}
	log->agg_second = ms / 1000;
	for (at = (uint32_t)h & (AGG_SLOTS - 1);; at = (at + 1) &
	    (AGG_SLOTS - 1)) {
		a = &log->slots[at];
		if (a->hash == 0)
			break;
		if (a->hash == h && a->level == (uint8_t)level &&
		    a->klen == klen && memcmp(log->keys.data + a->key_at, key,
		    klen) == 0) {
			if (a->count < CW_ALOG_MAX_COUNT) {
				a->count++;
				a->latency_us += latency_ns > 0 ?
				    (uint64_t)latency_ns / 1000 : 0;
				return CW_OK;
			}
			/* A line stands for CW_ALOG_MAX_COUNT lookups at
			 * most: write this one out, start the next. */
			if ((rc = drain(log, err)) != CW_OK)
				return rc;
			at = (uint32_t)h & (AGG_SLOTS - 1);
			a = &log->slots[at];
			break;
		}
	}
	*a = (struct agg){ .hash = h, .key_at = (uint32_t)log->keys.len,
		.klen = (uint16_t)klen, .level = (uint8_t)level, .count = 1,
		.latency_us = latency_ns > 0 ? (uint64_t)latency_ns / 1000 : 0,
		.first_ms = ms };
	if ((rc = cw_buf_append(&log->keys, key, klen, err)) != CW_OK) {
		a->hash = 0;
		return rc;
	}
	log->order[log->nagg++] = at;
	return CW_OK;
}

/* Rename path -> path.1 -> ... -> path.keep and start a new file. */
static void
rotate(struct cw_alog *log)
{
	char from[CW_PATH_MAX + 16], to[CW_PATH_MAX + 16];
	struct stat at_path, ours;
	int fd;

	if (flock(log->fd, LOCK_EX | LOCK_NB) != 0)
		return;	/* another process is rotating it */
	/* Rotated already by someone else? Then just follow. */
	if (stat(log->path, &at_path) == 0 && fstat(log->fd, &ours) == 0 &&
	    at_path.st_ino == ours.st_ino && at_path.st_dev == ours.st_dev) {
		for (unsigned k = log->keep; k > 1; k--) {
			snprintf(from, sizeof(from), "%s.%u", log->path, k - 1);
			snprintf(to, sizeof(to), "%s.%u", log->path, k);
			rename(from, to);
		}
		snprintf(to, sizeof(to), "%s.1", log->path);
		rename(log->path, to);
	}
	if ((fd = open_fd(log->path, log->mode)) >= 0) {
		flock(log->fd, LOCK_UN);
		close(log->fd);
		log->fd = fd;
	} else {
		flock(log->fd, LOCK_UN);
	}
}

int
cw_alog_flush(struct cw_alog *log, struct cw_err *err)
{
	struct cw_buf *b = &log->pending;
	struct stat st;
	ssize_t n;
	int rc;

	if (log->nagg > 0 && (rc = drain(log, err)) != CW_OK)
		return rc;
	if (b->len == 0)
		return CW_OK;
	do
		n = write(log->fd, b->data, b->len);
	while (n < 0 && errno == EINTR);
	/* A short write to a regular file means a full disk: the lines are
	 * dropped rather than split, so the log stays parseable. */
	b->len = 0;
	if (n < 0)
		return cw_err_set(err, CW_EIO, errno, "write %s", log->path);
	if (fstat(log->fd, &st) == 0 && (uint64_t)st.st_size > log->max_bytes)
		rotate(log);
	return CW_OK;
}

void
cw_alog_close(struct cw_alog *log)
{
	if (log == NULL)
		return;
	cw_alog_flush(log, NULL);
	close(log->fd);
	cw_buf_free(&log->pending);
	cw_buf_free(&log->keys);
	free(log->slots);
	free(log->path);
	free(log);
}
