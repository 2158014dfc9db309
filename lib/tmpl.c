/*
 * tmpl: SQL query templates, with key parts as quoted literals.
 *
 * ClickHouse 18.16 has no server-side query parameters, so this is the
 * line between a key and SQL text. Two walls stand on it: the key grammar
 * (cw_key_parse) admits only letters, digits, '_', '-' and '.' in a part,
 * and every part is still written as a fully escaped string literal here,
 * so that a grammar widened one day cannot open an injection.
 */
#include <stdio.h>
#include <string.h>

#include "cw.h"
#include "key_int.h"
#include "tmpl_int.h"

enum part { PART_TYPE, PART_INSTRUMENT, PART_GRANULARITY, PART_DATE,
	PART_KEY, PART_UNKNOWN };

static const char *const part_names[] = {
	"type", "instrument", "granularity", "date", "key",
};

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* At p, "{name}"? Returns the length of the reference (0: plain text)
 * and the part it names. A brace not followed by a name and '}' is SQL,
 * not a reference. */
static size_t
reference_at(const char *p, enum part *part, size_t *name_len)
{
	size_t n = 1;

	if (p[0] != '{')
		return 0;
	while (is_name_char(p[n]))
		n++;
	if (n == 1 || p[n] != '}')
		return 0;
	*name_len = n - 1;
	*part = PART_UNKNOWN;
	for (int i = 0; i < PART_UNKNOWN; i++)
		if (strlen(part_names[i]) == n - 1 &&
		    memcmp(part_names[i], p + 1, n - 1) == 0)
			*part = (enum part)i;
	return n + 1;
}

int
cw_tmpl_check(const char *tmpl, struct cw_err *err)
{
	size_t ref, name_len;
	enum part part;

	for (const char *p = tmpl; *p != '\0'; p++) {
		if ((ref = reference_at(p, &part, &name_len)) == 0)
			continue;
		if (part == PART_UNKNOWN)
			return cw_err_set(err, CW_ECONFIG, 0,
			    "template names unknown part {%.*s} (known: {type} "
			    "{instrument} {granularity} {date} {key})",
			    (int)name_len, p + 1);
		p += ref - 1;
	}
	return CW_OK;
}

int
cw_sql_quote(struct cw_buf *dst, const char *s, size_t n, struct cw_err *err)
{
	static const char hex[] = "0123456789abcdef";
	int rc;

	if ((rc = cw_buf_reserve(dst, dst->len + 4 * n + 2, err)) != CW_OK)
		return rc;
	dst->data[dst->len++] = '\'';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\'' || c == '\\') {
			dst->data[dst->len++] = '\\';
			dst->data[dst->len++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			/* Control bytes as \xHH: nothing in the literal can
			 * end it, and the query stays one printable line. */
			dst->data[dst->len++] = '\\';
			dst->data[dst->len++] = 'x';
			dst->data[dst->len++] = hex[c >> 4];
			dst->data[dst->len++] = hex[c & 15];
		} else {
			dst->data[dst->len++] = (char)c;
		}
	}
	dst->data[dst->len++] = '\'';
	return CW_OK;
}

int
cw_tmpl_expand(struct cw_buf *dst, const char *tmpl,
    const struct cw_key *key, struct cw_err *err)
{
	const char *p = tmpl, *text = tmpl;
	size_t ref, name_len;
	enum part part;
	int rc = CW_OK;

	for (; *p != '\0'; p++) {
		if ((ref = reference_at(p, &part, &name_len)) == 0)
			continue;
		if ((rc = cw_buf_append(dst, text, (size_t)(p - text),
		    err)) != CW_OK)
			return rc;
		if (part != PART_KEY && !key->structured)
			return cw_err_set(err, CW_ENOTFOUND, 0,
			    "%s: not a structured key", key->raw);
		switch (part) {
		case PART_TYPE:
			rc = cw_sql_quote(dst, key->type, strlen(key->type),
			    err);
			break;
		case PART_INSTRUMENT:
			rc = cw_sql_quote(dst, key->instrument,
			    strlen(key->instrument), err);
			break;
		case PART_GRANULARITY:
			rc = cw_sql_quote(dst, key->granularity,
			    strlen(key->granularity), err);
			break;
		case PART_DATE:
			/* Typed, so it compares as a Date, not as text. */
			if ((rc = cw_buf_append(dst, "toDate(", 7, err)) ==
			    CW_OK && (rc = cw_sql_quote(dst, key->date,
			    strlen(key->date), err)) == CW_OK)
				rc = cw_buf_append(dst, ")", 1, err);
			break;
		case PART_KEY:
			rc = cw_sql_quote(dst, key->raw, key->len, err);
			break;
		case PART_UNKNOWN:
			return cw_err_set(err, CW_ECONFIG, 0,
			    "template names unknown part {%.*s}",
			    (int)name_len, p + 1);
		}
		if (rc != CW_OK)
			return rc;
		p += ref - 1;
		text = p + 1;
	}
	return cw_buf_append(dst, text, (size_t)(p - text), err);
}
