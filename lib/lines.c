/*
 * lines: lines from a file descriptor, in batches of what has arrived.
 *
 * A program reading keys from a pipe wants two things at once: big
 * batches when the keys come fast (one L2 round trip for many), and an
 * answer to every key as soon as it arrives when they come slowly (a
 * co-process, or a person typing). So a batch is every complete line that
 * one read(2) has brought in, and nothing ever waits for more input while
 * a line is on hand.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"

#define LINES_CHUNK 65536

int
cw_lines_next(struct cw_lines *r, const char **line, size_t *len)
{
	char *nl;

	if (r->start == r->end)
		return 0;
	nl = memchr(r->buf + r->start, '\n', r->end - r->start);
	if (nl == NULL && !r->eof)
		return 0;	/* a partial line: wait for its end */
	*line = r->buf + r->start;
	*len = nl != NULL ? (size_t)(nl - *line) : r->end - r->start;
	r->start = nl != NULL ? (size_t)(nl + 1 - r->buf) : r->end;
	return 1;
}

int
cw_lines_fill(struct cw_lines *r, struct cw_err *err)
{
	ssize_t n;

	if (r->eof)
		return CW_ENOTFOUND;
	/* Lines handed out before are done with: keep only the partial
	 * one, at the front. */
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < LINES_CHUNK / 2) {
		size_t cap = r->cap < LINES_CHUNK ? LINES_CHUNK : 2 * r->cap;
		char *buf = realloc(r->buf, cap);

		if (buf == NULL)
			return cw_err_set(err, CW_ENOMEM, 0, "reading lines");
		r->buf = buf;
		r->cap = cap;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cw_err_set(err, CW_EIO, errno, "read");
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return CW_OK;
}

void
cw_lines_free(struct cw_lines *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->start = r->end = 0;
}
