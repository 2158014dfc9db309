/*
 * src: choose a source by the scheme of its URL and forward to it; one
 * serial get over submit and poll for the callers that want one answer.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "src_int.h"
#include "key_int.h"

static const struct cw_src_ops *const sources[] = {
	&cw_src_csv_ops,
	&cw_src_clickhouse_ops,
	&cw_src_clickhouses_ops,
	&cw_src_exec_ops,
	&cw_src_synthetic_ops,
};

int
cw_src_open(struct cw_src **out, const struct cw_src_opts *o,
    struct cw_err *err)
{
	const char *url = o->url;
	const char *colon = strchr(url, ':');
	struct cw_src *src;
	int rc;

	*out = NULL;
	for (size_t i = 0; colon != NULL &&
	    i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (strlen(sources[i]->scheme) != (size_t)(colon - url) ||
		    strncmp(url, sources[i]->scheme, (size_t)(colon - url)) != 0)
			continue;
		if ((src = calloc(1, sizeof(*src))) == NULL)
			return cw_err_set(err, CW_ENOMEM, 0, "source %s", url);
		src->ops = sources[i];
		if ((rc = src->ops->open(&src->self, colon + 1, o, err)) != CW_OK) {
			free(src);
			return rc;
		}
		*out = src;
		return CW_OK;
	}
	return cw_err_set(err, CW_ECONFIG, 0,
	    "source '%s': unknown kind (expected csv:DIR, "
	    "clickhouse://HOST:PORT/DB, exec:/PATH or synthetic:LATENCY)", url);
}

int
cw_src_submit(struct cw_src *src, const struct cw_key *key,
    struct cw_buf *out, void *tag, struct cw_err *err)
{
	out->len = 0;
	return src->ops->submit(src->self, key, out, tag, err);
}

size_t
cw_src_poll(struct cw_src *src, int64_t wait_ns, struct cw_src_done *done,
    size_t cap)
{
	return cap == 0 ? 0 : src->ops->poll(src->self, wait_ns, done, cap);
}

size_t
cw_src_pending(const struct cw_src *src)
{
	return src->ops->pending(src->self);
}

/* One fetch, submitted and waited for: what a serial caller wants. */
int
cw_src_get(struct cw_src *src, const struct cw_key *key, struct cw_buf *out,
    struct cw_err *err)
{
	struct cw_src_done d;
	int rc, mine;

	if (cw_src_pending(src) != 0)
		return cw_err_set(err, CW_EUSAGE, 0,
		    "source: a get while fetches are in flight");
	if ((rc = cw_src_submit(src, key, out, &mine, err)) != CW_OK)
		return rc;
	while (cw_src_poll(src, -1, &d, 1) == 0)
		;
	if (err != NULL && d.rc != CW_OK)
		*err = d.err;
	return d.rc;
}

int
cw_src_ready_reserve(struct cw_src_ready *r, size_t more)
{
	struct cw_src_done *d;
	size_t cap = r->cap ? r->cap : 16;

	if (r->cap - r->n >= more)
		return CW_OK;
	while (cap - r->n < more)
		cap *= 2;
	if ((d = realloc(r->q, cap * sizeof(*d))) == NULL)
		return CW_ENOMEM;
	r->q = d;
	r->cap = cap;
	return CW_OK;
}

int
cw_src_ready_push(struct cw_src_ready *r, void *tag, int rc,
    const struct cw_err *err)
{
	struct cw_src_done *d;

	if (cw_src_ready_reserve(r, 1) != CW_OK)
		return CW_ENOMEM;
	d = &r->q[r->n++];
	d->tag = tag;
	d->rc = rc;
	if (err != NULL && rc != CW_OK)
		d->err = *err;
	else
		memset(&d->err, 0, sizeof(d->err));
	return CW_OK;
}

size_t
cw_src_ready_pop(struct cw_src_ready *r, struct cw_src_done *done, size_t cap)
{
	size_t n = r->n < cap ? r->n : cap;

	if (n == 0)
		return 0;	/* r->q may be NULL */
	memcpy(done, r->q, n * sizeof(*done));
	memmove(r->q, r->q + n, (r->n - n) * sizeof(*r->q));
	r->n -= n;
	return n;
}

void
cw_src_ready_free(struct cw_src_ready *r)
{
	free(r->q);
	memset(r, 0, sizeof(*r));
}

void
cw_src_close(struct cw_src *src)
{
	if (src == NULL)
		return;
	src->ops->close(src->self);
	free(src);
}
