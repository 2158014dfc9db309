/*
 * hier: lookups through the levels.
 *
 * L1 first; on a miss the source, whose answer fills L1 on the way back.
 * Every outcome is counted per level in the L1 header and, if asked,
 * appended to the access log. The source is opened at the first miss, so
 * a run that L1 answers never touches anything below it.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"

struct cw_hier {
	char *source;		/* the source URL, opened at first need */
	struct cw_clock clock;
	int no_fill;
	int64_t ttl_ms;
	struct cw_l1 *l1;
	struct cw_src *src;	/* NULL until the first miss */
	struct cw_alog *log;	/* NULL when not logging */
	struct cw_key key;	/* scratch: the parsed key */
};

int
cw_hier_open(struct cw_hier **out, const struct cw_hier_opts *o,
    struct cw_err *err)
{
	struct cw_l1_opts lo = { 0 };
	struct cw_hier *h;
	int rc;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "hierarchy");
	/* Only what lookups need is kept, not the whole configuration. */
	if ((h->source = strdup(o->cfg->source)) == NULL) {
		free(h);
		return cw_err_set(err, CW_ENOMEM, 0, "hierarchy");
	}
	h->clock = o->clock;
	h->no_fill = o->no_fill;
	h->ttl_ms = o->ttl_ms > 0 ? o->ttl_ms : o->cfg->l1_ttl_ms;
	/* L1 never outlives the level below it. */
	if (h->ttl_ms > o->cfg->source_ttl_ms)
		h->ttl_ms = o->cfg->source_ttl_ms;
	lo.path = o->cfg->l1_file;
	lo.max_entries = o->cfg->l1_max_entries;
	lo.max_bytes = o->cfg->l1_max_bytes;
	lo.mode = o->cfg->l1_mode;
	lo.clock = o->clock;
	if ((rc = cw_l1_open(&h->l1, &lo, err)) != CW_OK)
		goto fail;
	if (o->log_access && o->cfg->log_file[0] != '\0' &&
	    (rc = cw_alog_open(&h->log, o->cfg->log_file,
	    o->cfg->log_max_bytes, o->cfg->log_keep, err)) != CW_OK)
		goto fail;
	*out = h;
	return CW_OK;
fail:
	cw_hier_close(h);
	return rc;
}

/* Ask the source; fill L1 with what it says. */
static int
from_source(struct cw_hier *h, struct cw_buf *val, struct cw_err *err)
{
	int64_t t0;
	int rc;

	if (h->src == NULL &&
	    (rc = cw_src_open(&h->src, h->source, err)) != CW_OK)
		return rc;
	t0 = cw_clock_mono_ns(&h->clock);
	rc = cw_src_get(h->src, &h->key, val, err);
	cw_l1_record(h->l1, CW_LEVEL_L3, rc == CW_OK ? CW_RESULT_HIT :
	    rc == CW_ENOTFOUND ? CW_RESULT_MISS : rc == CW_ETIMEOUT ?
	    CW_RESULT_TIMEOUT : CW_RESULT_ERROR,
	    cw_clock_mono_ns(&h->clock) - t0);
	if (rc == CW_OK && !h->no_fill)
		/* Served either way; a value too big for L1 is counted
		 * there, and a failed fill only costs the next lookup. */
		(void)cw_l1_set(h->l1, h->key.raw, h->key.len, val->data,
		    val->len, h->ttl_ms, 0, NULL);
	return rc;
}

int
cw_hier_get(struct cw_hier *h, const char *key, size_t klen,
    struct cw_buf *val, struct cw_hier_result *res, struct cw_err *err)
{
	enum cw_level level = CW_LEVEL_NONE;
	int64_t t0 = cw_clock_mono_ns(&h->clock), t1, total;
	int rc;

	if ((rc = cw_key_parse(key, klen, &h->key, err)) != CW_OK)
		return rc;
	rc = cw_l1_get(h->l1, key, klen, val, NULL, err);
	t1 = cw_clock_mono_ns(&h->clock);
	cw_l1_record(h->l1, CW_LEVEL_L1, rc == CW_OK ? CW_RESULT_HIT :
	    rc == CW_ENOTFOUND ? CW_RESULT_MISS : CW_RESULT_ERROR, t1 - t0);
	if (rc == CW_OK) {
		level = CW_LEVEL_L1;
	} else if (rc == CW_ENOTFOUND) {
		rc = from_source(h, val, err);
		if (rc == CW_OK)
			level = CW_LEVEL_L3;
	}
	total = cw_clock_mono_ns(&h->clock) - t0;
	cw_l1_record_lookup(h->l1, total);
	if (h->log != NULL)
		/* The log is a hint for the predictor: losing a line must
		 * not fail the lookup it describes. */
		(void)cw_alog_append(h->log, cw_clock_wall_ns(&h->clock), key,
		    klen, level, total, NULL);
	if (res != NULL) {
		res->level = level;
		res->latency_ns = total;
	}
	if (rc == CW_ENOTFOUND)
		cw_err_set(err, CW_ENOTFOUND, 0, "%.*s: not found", (int)klen,
		    key);
	return rc;
}

void
cw_hier_close(struct cw_hier *h)
{
	if (h == NULL)
		return;
	cw_alog_close(h->log);
	cw_src_close(h->src);
	cw_l1_close(h->l1);
	free(h->source);
	free(h);
}
