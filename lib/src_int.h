/*
 * src_int.h: the source (L3) interface every source implements.
 *
 * A source is a small vtable: ClickHouse and exec sources drop in beside
 * the CSV one without the hierarchy knowing which it talks to.
 */
#ifndef CW_SRC_INT_H
#define CW_SRC_INT_H

#include "cw.h"
#include "key_int.h"

struct cw_src;

/* The source's own settings; everything is copied during open. */
struct cw_src_opts {
	const char *url;		/* csv:, clickhouse://, exec: */
	int64_t connect_timeout_ms, timeout_ms;
	uint64_t max_value_bytes;	/* a larger answer fails (CW_ETOOBIG) */
	/* Query templates by key type, packed "type\0template\0" pairs
	 * (struct cw_cfg's form), for ClickHouse. */
	const char *templates;
	size_t templates_len;
	/* ClickHouse with several endpoints: start at one chosen at
	 * random (from the clock's), not the first. */
	int random_endpoint;
	struct cw_clock clock;
};

/*
 * Open the source by its URL: "csv:DIR" (one CSV file per
 * type, instrument and granularity, DIR/TYPE/INSTRUMENT/GRANULARITY.csv),
 * "clickhouse://host:port[,host:port...]/db" or "clickhouses://..." (a
 * query template per key type; several endpoints fail over), "exec:/path/to/command" (key as the argument, value on
 * stdout, exit 1 for not found). Opening checks the URL and makes no
 * connection; the first get does.
 */
int cw_src_open(struct cw_src **out, const struct cw_src_opts *opts,
    struct cw_err *err);
/* The value of a key into out (replacing its contents); CW_ENOTFOUND
 * when the source has nothing for it (opaque keys included, except for
 * exec). CW_EUNAVAIL when it failed, CW_ETIMEOUT when it was too slow,
 * CW_ETOOBIG past max_value_bytes. Only with nothing else in flight
 * (CW_EUSAGE otherwise). */
int cw_src_get(struct cw_src *src, const struct cw_key *key,
    struct cw_buf *out, struct cw_err *err);

void cw_src_close(struct cw_src *src);


/*
 * Many fetches in flight: ClickHouse queries on one libcurl multi handle,
 * exec commands as concurrent children, CSV answered at once. submit
 * starts one (each with its own timeout from now); poll reports the
 * finished ones, each with the tag it was submitted with and the code
 * cw_src_get would have returned.
 */
struct cw_src_done {
	void *tag;
	int rc;
	struct cw_err err;	/* when rc is not CW_OK or CW_ENOTFOUND */
};

/* Start fetching key into out (emptied). key may go once this returns;
 * out must stay until poll reports tag. Not CW_OK: nothing in flight. */
int cw_src_submit(struct cw_src *src, const struct cw_key *key,
    struct cw_buf *out, void *tag, struct cw_err *err);
/* Report up to cap finished fetches into done; when none has finished
 * yet, wait up to wait_ns (negative: until one does, if any is in
 * flight). Returns how many were reported. */
size_t cw_src_poll(struct cw_src *src, int64_t wait_ns,
    struct cw_src_done *done, size_t cap);
/* Fetches submitted and not yet reported. */
size_t cw_src_pending(const struct cw_src *src);

struct cw_src_ops {
	const char *scheme;	/* "csv" in "csv:DIR" */
	/* Prepare from the rest of the URL; connect nothing yet. */
	int (*open)(void **self, const char *rest,
	    const struct cw_src_opts *opts, struct cw_err *err);
	/* Start fetching key into out (empty); key is the source's to copy,
	 * out stays the caller's until the fetch is reported by poll with
	 * tag. A source that answers at once (CSV) queues its answer. A
	 * code other than CW_OK: nothing is in flight. */
	int (*submit)(void *self, const struct cw_key *key, struct cw_buf *out,
	    void *tag, struct cw_err *err);
	/* Report up to cap finished fetches into done; when none has
	 * finished, wait up to wait_ns of elapsed time (negative: as long
	 * as one is in flight) for the first. */
	size_t (*poll)(void *self, int64_t wait_ns, struct cw_src_done *done,
	    size_t cap);
	/* Fetches submitted and not yet reported. */
	size_t (*pending)(const void *self);
	void (*close)(void *self);
};

struct cw_src {
	const struct cw_src_ops *ops;
	void *self;
};

/* A queue of answers known before poll is called (a source that answers
 * in submit, an immediate "not found"), for the sources to share. */
struct cw_src_ready {
	struct cw_src_done *q;
	size_t n, cap;
};

/* Make room for more answers, so that pushing them cannot fail: a
 * source with fetches in flight reserves at each submit a place for
 * every answer it owes (an answer lost would leave its caller waiting
 * for it forever). CW_ENOMEM. */
int cw_src_ready_reserve(struct cw_src_ready *r, size_t more);
/* Queue one answer; CW_ENOMEM when no room was reserved and none can
 * be made. */
int cw_src_ready_push(struct cw_src_ready *r, void *tag, int rc,
    const struct cw_err *err);
/* Move up to cap queued answers, oldest first, into done. */
size_t cw_src_ready_pop(struct cw_src_ready *r, struct cw_src_done *done,
    size_t cap);
void cw_src_ready_free(struct cw_src_ready *r);

extern const struct cw_src_ops cw_src_csv_ops;
extern const struct cw_src_ops cw_src_clickhouse_ops;
extern const struct cw_src_ops cw_src_clickhouses_ops;
extern const struct cw_src_ops cw_src_exec_ops;
extern const struct cw_src_ops cw_src_synthetic_ops;

#endif /* CW_SRC_INT_H */
