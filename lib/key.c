/*
 * key: the key grammar.
 *
 * Keys reach file paths and, later, query text, so every part of a
 * structured key is checked against a strict pattern here, once, before
 * anything else sees it. Parts must start with a letter or digit, which
 * rules out ".", ".." and hidden names as path components; quotes,
 * semicolons, slashes and whitespace are never accepted.
 */
#include <stdio.h>
#include <string.h>

#include "cw.h"

/* What each byte may be, looked up once per byte: a batch checks every
 * key it is given. */
enum { KB_PART = 1, KB_ALNUM = 2, KB_SPACE = 4 /* whitespace, control */ };
static const unsigned char key_byte[256] = {
	[0 ... ' '] = KB_SPACE, [0x7f] = KB_SPACE,
	['a' ... 'z'] = KB_PART | KB_ALNUM, ['A' ... 'Z'] = KB_PART | KB_ALNUM,
	['0' ... '9'] = KB_PART | KB_ALNUM,
	['_'] = KB_PART, ['-'] = KB_PART, ['.'] = KB_PART,
};

static int
is_part_byte(unsigned char c)
{
	return key_byte[c] & KB_PART;
}

static int
is_alnum(unsigned char c)
{
	return key_byte[c] & KB_ALNUM;
}

/* Refuse key (NUL-terminated) for why (a format of name), printed so
 * that no byte of it reaches a terminal as it is. */
static int
refuse(struct cw_err *err, const char *key, const char *why,
    const char *name)
{
	char shown[160], msg[96];

	snprintf(msg, sizeof(msg), why, name);
	return cw_err_set(err, CW_EDATA, 0, "key '%s': %s",
	    cw_err_printable(shown, sizeof(shown), key, strlen(key)), msg);
}

/* Copy the part p[0..n) into dst after checking its pattern. */
static int
take_part(const char *key, const char *name, const char *p, size_t n,
    char *dst, struct cw_err *err)
{
	if (n == 0)
		return refuse(err, key, "empty %s", name);
	if (!is_alnum((unsigned char)p[0]))
		return refuse(err, key, "%s must start with a letter or digit",
		    name);
	for (size_t i = 0; i < n; i++)
		if (!is_part_byte((unsigned char)p[i]))
			return refuse(err, key, "bad character in %s", name);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return CW_OK;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static int
take_date(const char *key, const char *p, size_t n, struct cw_key *k,
    struct cw_err *err)
{
	int v[3] = { 0, 0, 0 };
	static const int width[3] = { 4, 2, 2 };
	size_t i = 0;

	if (n != 10 || p[4] != '-' || p[7] != '-')
		return refuse(err, key, "date must be YYYY-MM-DD%s", "");
	for (int f = 0; f < 3; f++, i++)
		for (int w = 0; w < width[f]; w++, i++) {
			if (p[i] < '0' || p[i] > '9')
				return refuse(err, key,
				    "date must be YYYY-MM-DD%s", "");
			v[f] = v[f] * 10 + (p[i] - '0');
		}
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > days_in_month(v[0], v[1]))
		return refuse(err, key, "no such date%s", "");
	memcpy(k->date, p, 10);
	k->date[10] = '\0';
	k->year = v[0];
	k->month = v[1];
	k->day = v[2];
	return CW_OK;
}

int
cw_key_parse(const char *s, size_t len, struct cw_key *out,
    struct cw_err *err)
{
	const char *colon[3];
	char shown[160];
	unsigned char seen = 0;
	int ncolons = 0;
	int rc;

	/* Field by field, not a memset of the whole (about 1 KB): a batch
	 * parses every key it looks up. */
	out->len = 0;
	out->structured = 0;
	out->raw[0] = out->type[0] = out->instrument[0] = '\0';
	out->granularity[0] = out->date[0] = '\0';
	out->year = out->month = out->day = 0;
	if (len == 0)
		return cw_err_set(err, CW_EDATA, 0, "empty key");
	if (len > CW_KEY_MAX)
		return cw_err_set(err, CW_EDATA, 0,
		    "key '%s': longer than %d bytes", cw_err_printable(shown,
		    48, s, len), CW_KEY_MAX);
	/* The flags of every byte ORed, without a branch per byte; the
	 * colons found by memchr, which scans many bytes at a time. */
	for (size_t i = 0; i < len; i++)
		seen |= key_byte[(unsigned char)s[i]];
	if (seen & KB_SPACE)
		return cw_err_set(err, CW_EDATA, 0,
		    "key '%s': whitespace or control character",
		    cw_err_printable(shown, sizeof(shown), s, len));
	for (const char *p = s, *end = s + len; ncolons < 4 &&
	    (p = memchr(p, ':', (size_t)(end - p))) != NULL; p++)
		if (ncolons++ < 3)
			colon[ncolons - 1] = p;
	memcpy(out->raw, s, len);
	out->raw[len] = '\0';
	out->len = len;
	if (ncolons != 3)
		return CW_OK;	/* opaque */

	if ((rc = take_part(out->raw, "type", s, (size_t)(colon[0] - s),
	    out->type, err)) != CW_OK ||
	    (rc = take_part(out->raw, "instrument", colon[0] + 1,
	    (size_t)(colon[1] - colon[0] - 1), out->instrument, err)) != CW_OK ||
	    (rc = take_part(out->raw, "granularity", colon[1] + 1,
	    (size_t)(colon[2] - colon[1] - 1), out->granularity, err)) != CW_OK ||
	    (rc = take_date(out->raw, colon[2] + 1,
	    (size_t)(s + len - colon[2] - 1), out, err)) != CW_OK)
		return rc;
	out->structured = 1;
	return CW_OK;
}
