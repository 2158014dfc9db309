/*
 * buf: the growable byte buffer values are copied into.
 *
 * Values never leave the library as pointers into the shared map (another
 * process may rewrite the entry the next instant); they are copied into a
 * buffer the caller owns and reuses, which grows geometrically.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"

int
cw_buf_reserve(struct cw_buf *b, size_t cap, struct cw_err *err)
{
	size_t ncap;
	char *p;

	if (cap <= b->cap)
		return CW_OK;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < cap) {
		if (ncap > SIZE_MAX / 2) {
			ncap = cap;
			break;
		}
		ncap *= 2;
	}
	p = realloc(b->data, ncap);
	if (p == NULL)
		return cw_err_set(err, CW_ENOMEM, 0,
		    "allocate %zu bytes", ncap);
	b->data = p;
	b->cap = ncap;
	return CW_OK;
}

int
cw_buf_append(struct cw_buf *b, const void *p, size_t n, struct cw_err *err)
{
	int rc;

	if (n > SIZE_MAX - b->len)
		return cw_err_set(err, CW_ENOMEM, 0, "buffer size overflow");
	if ((rc = cw_buf_reserve(b, b->len + n, err)) != CW_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return CW_OK;
}

void
cw_buf_free(struct cw_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
cw_buf_appendf(struct cw_buf *b, struct cw_err *err, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap - b->len;
	int n, rc;

	/* Most text fits what is already allocated: one pass. Otherwise
	 * the first pass measured it, and the second writes it. */
	for (int pass = 0; pass < 2; pass++) {
		va_start(ap, fmt);
		n = vsnprintf(room > 0 ? b->data + b->len : NULL, room, fmt,
		    ap);
		va_end(ap);
		if (n < 0)
			return cw_err_set(err, CW_EDATA, 0, "format %s", fmt);
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return CW_OK;
		}
		if ((rc = cw_buf_reserve(b, b->len + (size_t)n + 1, err)) !=
		    CW_OK)
			return rc;
		room = b->cap - b->len;
	}
	return cw_err_set(err, CW_EDATA, 0, "format %s", fmt);
}

int
cw_buf_read_fd(struct cw_buf *b, int fd, const char *what,
    struct cw_err *err)
{
	for (;;) {
		ssize_t r;
		int rc;

		if (b->cap - b->len < 4096 &&
		    (rc = cw_buf_reserve(b, b->len + 65536, err)) != CW_OK)
			return rc;
		r = read(fd, b->data + b->len, b->cap - b->len);
		if (r == 0)
			return CW_OK;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cw_err_set(err, CW_EIO, errno, "%s: %s", what,
			    strerror(errno));
		b->len += (size_t)r;
	}
}
