/*
 * tmpl_int.h: SQL query templates, for the configuration that checks
 * them and the ClickHouse source that expands them. A key never becomes
 * SQL by concatenation alone: every part goes through cw_sql_quote.
 */
#ifndef CW_TMPL_INT_H
#define CW_TMPL_INT_H

#include "cw.h"
#include "key_int.h"

/*
 * A template is SQL with references to key parts: {type}, {instrument},
 * {granularity}, {date}, {key}. Each becomes a quoted, escaped string
 * literal; {date} becomes toDate('YYYY-MM-DD'). A brace not followed by a
 * name and '}' is plain SQL.
 */
/* CW_ECONFIG when a reference names no known part. */
int cw_tmpl_check(const char *tmpl, struct cw_err *err);
/* Append tmpl expanded for key; CW_ENOTFOUND when it needs the parts of
 * a structured key and key is opaque. */
int cw_tmpl_expand(struct cw_buf *dst, const char *tmpl,
    const struct cw_key *key, struct cw_err *err);
/* Append s[0..n) as a SQL string literal: quotes, backslashes escaped,
 * control bytes as \xHH. */
int cw_sql_quote(struct cw_buf *dst, const char *s, size_t n,
    struct cw_err *err);

#endif /* CW_TMPL_INT_H */
