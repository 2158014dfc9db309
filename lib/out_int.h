/*
 * out_int.h: figures for people, shared by the table of cw-stats and the
 * live view's screen.
 */
#ifndef CW_OUT_INT_H
#define CW_OUT_INT_H

#include "cw.h"

/* Figures for people, into buf (returned): a duration ("812 ns",
 * "3.1 us", "4.20 ms", "1.50 s"), a size ("812B", "3.1K", "4.2M"), a
 * rate as a percentage ("97.1%", "-" for NAN). */
const char *cw_out_human_ns(char *buf, size_t n, double ns);
const char *cw_out_human_bytes(char *buf, size_t n, uint64_t v);
const char *cw_out_pct(char *buf, size_t n, double rate);

/* ---- escapes and JSON pieces the library's writers share ---- */

/* Append the decoding of an escaped field; a bad escape is CW_EDATA. */
int cw_out_tsv_unescape(struct cw_buf *dst, const char *src, size_t n,
    struct cw_err *err);
/* Append a JSON string literal (quotes included) of UTF-8 text. */
int cw_out_json_string(struct cw_buf *dst, const void *src, size_t n,
    struct cw_err *err);
/* Nonzero when the bytes are valid UTF-8 without NUL. */
int cw_out_is_utf8(const void *src, size_t n);

#endif /* CW_OUT_INT_H */
