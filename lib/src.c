/*
 * src: choose a source by the scheme of its URL and forward to it.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "src_int.h"

static const struct cw_src_ops *const sources[] = {
	&cw_src_csv_ops,
	&cw_src_clickhouse_ops,
	&cw_src_clickhouses_ops,
	&cw_src_exec_ops,
};

int
cw_src_open(struct cw_src **out, const struct cw_src_opts *o,
    struct cw_err *err)
{
	const char *url = o->cfg->source;
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
	    "clickhouse://HOST:PORT/DB or exec:/PATH)", url);
}

int
cw_src_get(struct cw_src *src, const struct cw_key *key, struct cw_buf *out,
    struct cw_err *err)
{
	out->len = 0;
	return src->ops->get(src->self, key, out, err);
}

void
cw_src_close(struct cw_src *src)
{
	if (src == NULL)
		return;
	src->ops->close(src->self);
	free(src);
}
