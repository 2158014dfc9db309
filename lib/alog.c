/*
 * alog: the access log cw-predict learns from.
 *
 * CSV lines "ts,key,level,latency_us", ts in Unix seconds with
 * milliseconds. Lines are gathered in a buffer and written whole with one
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

#define FLUSH_AT 32768

struct cw_alog {
	int fd;
	unsigned mode;
	uint64_t max_bytes;
	unsigned keep;
	struct cw_buf pending;
	char *path;
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

/* Write n in decimal at p; returns the length. */
static size_t
put_u64(char *p, uint64_t n)
{
	char tmp[20];
	size_t len = 0;

	do {
		tmp[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	for (size_t i = 0; i < len; i++)
		p[i] = tmp[len - 1 - i];
	return len;
}

int
cw_alog_append(struct cw_alog *log, int64_t wall_ns, const char *key,
    size_t klen, enum cw_level level, int64_t latency_ns,
    struct cw_err *err)
{
	struct cw_buf *b = &log->pending;
	int quote = memchr(key, ',', klen) != NULL ||
	    memchr(key, '"', klen) != NULL;
	uint64_t ms = wall_ns > 0 ? (uint64_t)wall_ns / 1000000 : 0;
	const char *lv = cw_level_name(level);
	char *p;
	int rc;

	if ((rc = cw_buf_reserve(b, b->len + 2 * klen + 64, err)) != CW_OK)
		return rc;
	p = b->data + b->len;
	p += put_u64(p, ms / 1000);
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
	p += put_u64(p, latency_ns > 0 ? (uint64_t)latency_ns / 1000 : 0);
	*p++ = '\n';
	b->len = (size_t)(p - b->data);
	return b->len >= FLUSH_AT ? cw_alog_flush(log, err) : CW_OK;
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
	free(log->path);
	free(log);
}
