/*
 * out: how values travel in TSV and JSON.
 *
 * Values are opaque bytes that may hold tabs, newlines and NULs. TSV
 * escapes exactly the five bytes that would break a record, and decodes
 * them alike on input. JSON carries UTF-8 values as strings and any other
 * value as base64 under a different field name, decided here once, so no
 * byte is silently replaced.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cw.h"
#include "out_int.h"

int
cw_out_parse_format(const char *s, enum cw_format *out, struct cw_err *err)
{
	if (strcmp(s, "tsv") == 0)
		*out = CW_FORMAT_TSV;
	else if (strcmp(s, "json") == 0)
		*out = CW_FORMAT_JSON;
	else if (strcmp(s, "raw") == 0)
		*out = CW_FORMAT_RAW;
	else
		return cw_err_set(err, CW_EUSAGE, 0,
		    "unknown output format '%s' (use tsv or json)", s);
	return CW_OK;
}

/* The TSV escape of byte c, or 0 when it is copied as it is: a table,
 * one load where a switch costs a few compares a byte. */
static const char tsv_escape[256] = {
	['\\'] = '\\',
	['\t'] = 't',
	['\n'] = 'n',
	['\r'] = 'r',
	['\0'] = '0',
};

static char
tsv_escape_of(unsigned char c)
{
	return tsv_escape[c];
}

/* The escape of p[0..n) at o, a byte at a time; the end written. */
static unsigned char *
escape_bytes(unsigned char *o, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char e = tsv_escape_of(p[i]);

		if (e != 0) {
			*o++ = '\\';
			*o++ = (unsigned char)e;
		} else {
			*o++ = p[i];
		}
	}
	return o;
}

/*
 * Write the TSV escape of p[0..n) at o, which has room for 2 n + 16
 * bytes; the end of what was written.
 */
#ifdef __SSE2__
/*
 * Values are CSV, where the five bytes are rare, so the scan is what a
 * record costs: with SSE2 (every x86-64) 16 bytes are copied with one
 * store and checked with a few instructions, flagging every byte <= '\r'
 * and every backslash. A flagged byte that needs no escape (a control
 * byte other than the four) is rare too, and is stepped over. The copy
 * runs up to 16 bytes past the output's end, into the room given.
 *
 * The last bytes, fewer than 16, are not read past the input's end: the
 * 16 bytes that end with them are loaded again and only their new bytes
 * blended into the output already written (the 16 - rest bytes before
 * them are there: the input's bytes so far gave at least as many), so a
 * tail without an escape costs one more chunk, not a copy to a padded
 * buffer. A tail with an escape (a value's last newline), or a field
 * under 16 bytes, goes a byte at a time.
 */
static unsigned
escape_flags(__m128i v)
{
	const __m128i cr = _mm_set1_epi8('\r'), bs = _mm_set1_epi8('\\');

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(
	    _mm_min_epu8(v, cr), v), _mm_cmpeq_epi8(v, bs)));
}

/* The flagged bytes of at[0..16) that need an escape. */
static unsigned
escapes_of(const unsigned char *at, unsigned bits)
{
	unsigned need = 0;

	for (; bits != 0; bits &= bits - 1)
		if (tsv_escape_of(at[__builtin_ctz(bits)]) != 0)
			need |= bits & -bits;
	return need;
}

static unsigned char *
escape_into(unsigned char *o, const unsigned char *p, size_t n)
{
	/* 16 bytes of 0x00, then 16 of 0xff: loaded at rest, the last rest
	 * bytes of a chunk are selected. */
	static const unsigned char select[32] = {
		[16 ... 31] = 0xff,
	};
	const unsigned char *end = p + n;
	size_t rest;

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned need;

		_mm_storeu_si128((__m128i *)(void *)o, v);
		if ((need = escape_flags(v)) != 0 &&
		    (need = escapes_of(p, need)) != 0) {
			unsigned at = (unsigned)__builtin_ctz(need);

			o += at;
			p += at;
			*o++ = '\\';
			*o++ = (unsigned char)tsv_escape_of(*p++);
		} else {
			o += 16;
			p += 16;
		}
	}
	if ((rest = (size_t)(end - p)) == 0)
		return o;
	if (n >= 16) {
		const unsigned char *last = end - 16;
		unsigned skip = (unsigned)(16 - rest);
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)last);

		if (escapes_of(last, escape_flags(v) >> skip << skip) == 0) {
			__m128i m = _mm_loadu_si128((const __m128i *)(const void *)
			    (select + rest));
			unsigned char *at = o - skip;
			__m128i before = _mm_loadu_si128((const __m128i *)
			    (const void *)at);

			_mm_storeu_si128((__m128i *)(void *)at, _mm_or_si128(
			    _mm_and_si128(m, v), _mm_andnot_si128(m, before)));
			return o + rest;
		}
	}
	/* A short field, or a tail with an escape: a byte at a time. */
	return escape_bytes(o, p, rest);
}
#else
static unsigned char *
escape_into(unsigned char *o, const unsigned char *p, size_t n)
{
	return escape_bytes(o, p, n);
}
#endif

/* Room for the escape of n bytes after dst's end: the worst case
 * doubles, and the copy may run 16 bytes over. */
static size_t
escape_room(size_t n)
{
	return 2 * n + 16;
}

int
cw_out_tsv_escape(struct cw_buf *dst, const void *src, size_t n,
    struct cw_err *err)
{
	unsigned char *o;
	int rc;

	if ((rc = cw_buf_reserve(dst, dst->len + escape_room(n), err)) !=
	    CW_OK)
		return rc;
	o = escape_into((unsigned char *)dst->data + dst->len, src, n);
	dst->len = (size_t)(o - (unsigned char *)dst->data);
	return CW_OK;
}

int
cw_out_tsv_unescape(struct cw_buf *dst, const char *src, size_t n,
    struct cw_err *err)
{
	int rc;

	if ((rc = cw_buf_reserve(dst, dst->len + n, err)) != CW_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];

		if (c == '\\') {
			if (++i == n)
				return cw_err_set(err, CW_EDATA, 0,
				    "TSV field ends in a lone backslash");
			switch (src[i]) {
			case '\\': c = '\\'; break;
			case 't': c = '\t'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case '0': c = '\0'; break;
			default:
				return cw_err_set(err, CW_EDATA, 0,
				    "TSV field has unknown escape '\\%c'",
				    src[i]);
			}
		}
		dst->data[dst->len++] = c;
	}
	return CW_OK;
}

int
cw_out_is_utf8(const void *src, size_t n)
{
	const unsigned char *p = src;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t more;
		uint32_t cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= more)
			return 0;
		for (size_t k = 1; k <= more; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += more + 1;
	}
	return 1;
}

int
cw_out_json_string(struct cw_buf *dst, const void *src, size_t n,
    struct cw_err *err)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = src;
	int rc;

	/* \u00XX is the longest escape: six bytes per input byte. */
	if ((rc = cw_buf_reserve(dst, dst->len + 6 * n + 2, err)) != CW_OK)
		return rc;
	dst->data[dst->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			dst->data[dst->len++] = '\\';
			dst->data[dst->len++] = (char)c;
		} else if (c == '\n') {
			memcpy(dst->data + dst->len, "\\n", 2);
			dst->len += 2;
		} else if (c == '\t') {
			memcpy(dst->data + dst->len, "\\t", 2);
			dst->len += 2;
		} else if (c == '\r') {
			memcpy(dst->data + dst->len, "\\r", 2);
			dst->len += 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(dst->data + dst->len, "\\u00", 4);
			dst->data[dst->len + 4] = hex[c >> 4];
			dst->data[dst->len + 5] = hex[c & 15];
			dst->len += 6;
		} else {
			dst->data[dst->len++] = (char)c;
		}
	}
	dst->data[dst->len++] = '"';
	return CW_OK;
}

static int
base64(struct cw_buf *dst, const unsigned char *p, size_t n,
    struct cw_err *err)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int rc;

	if ((rc = cw_buf_reserve(dst, dst->len + (n + 2) / 3 * 4 + 2,
	    err)) != CW_OK)
		return rc;
	dst->data[dst->len++] = '"';
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		dst->data[dst->len++] = tab[v >> 18 & 63];
		dst->data[dst->len++] = tab[v >> 12 & 63];
		dst->data[dst->len++] = left > 1 ? tab[v >> 6 & 63] : '=';
		dst->data[dst->len++] = left > 2 ? tab[v & 63] : '=';
	}
	dst->data[dst->len++] = '"';
	return CW_OK;
}

int
cw_out_json_field(struct cw_buf *dst, const char *name, const void *src,
    size_t n, struct cw_err *err)
{
	int text = cw_out_is_utf8(src, n), rc;

	if ((rc = cw_buf_appendf(dst, err, "\"%s%s\":", name, text ? "" :
	    "_base64")) != CW_OK)
		return rc;
	return text ? cw_out_json_string(dst, src, n, err) :
	    base64(dst, src, n, err);
}

int
cw_out_record(struct cw_buf *dst, enum cw_format fmt, const char *key,
    size_t klen, const void *val, size_t vlen, struct cw_err *err)
{
	unsigned char *o;
	int rc;

	if (fmt == CW_FORMAT_JSON) {
		if ((rc = cw_buf_append(dst, "{", 1, err)) != CW_OK ||
		    (rc = cw_out_json_field(dst, "key", key, klen, err)) !=
		    CW_OK || (rc = cw_buf_append(dst, ",", 1, err)) != CW_OK ||
		    (rc = cw_out_json_field(dst, "value", val, vlen, err)) !=
		    CW_OK)
			return rc;
		return cw_buf_append(dst, "}\n", 2, err);
	}
	/* Reserved once for the whole line: the key, a tab, the value and
	 * the newline. */
	if ((rc = cw_buf_reserve(dst, dst->len + escape_room(klen) +
	    escape_room(vlen) + 2, err)) != CW_OK)
		return rc;
	o = escape_into((unsigned char *)dst->data + dst->len,
	    (const unsigned char *)key, klen);
	*o++ = '\t';
	o = escape_into(o, val, vlen);
	*o++ = '\n';
	dst->len = (size_t)(o - (unsigned char *)dst->data);
	return CW_OK;
}

/* ---- figures for people ---- */

const char *
cw_out_human_ns(char *buf, size_t n, double ns)
{
	if (ns < 1e3)
		snprintf(buf, n, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, n, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, n, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
	return buf;
}

const char *
cw_out_human_bytes(char *buf, size_t n, uint64_t v)
{
	static const char units[] = "BKMGT";
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, n, u == 0 ? "%.0f%c" : "%.1f%c", d, units[u]);
	return buf;
}

const char *
cw_out_pct(char *buf, size_t n, double rate)
{
	if (isnan(rate))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f%%", 100 * rate);
	return buf;
}
