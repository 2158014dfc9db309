/*
 * src_int.h: the source (L3) interface every source implements.
 *
 * A source is a small vtable: ClickHouse and exec sources drop in beside
 * the CSV one without the hierarchy knowing which it talks to.
 */
#ifndef CW_SRC_INT_H
#define CW_SRC_INT_H

#include "cw.h"

struct cw_src_ops {
	const char *scheme;	/* "csv" in "csv:DIR" */
	/* Prepare from the rest of the URL; connect nothing yet. */
	int (*open)(void **self, const char *rest,
	    const struct cw_src_opts *opts, struct cw_err *err);
	int (*get)(void *self, const struct cw_key *key, struct cw_buf *out,
	    struct cw_err *err);
	void (*close)(void *self);
};

struct cw_src {
	const struct cw_src_ops *ops;
	void *self;
};

extern const struct cw_src_ops cw_src_csv_ops;
extern const struct cw_src_ops cw_src_clickhouse_ops;
extern const struct cw_src_ops cw_src_clickhouses_ops;
extern const struct cw_src_ops cw_src_exec_ops;

#endif /* CW_SRC_INT_H */
