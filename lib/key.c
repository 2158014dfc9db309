/*
 * key: the key grammar.
 *
 * Keys reach file paths and, later, query text, so every part of a
 * structured key is checked against a strict pattern here, once, before
 * anything below L1 sees it (a lookup that L1 answers compares the key's
 * bytes with a stored key, which was checked when it was filled; see
 * hier.c's l1_stage). Parts must start with a letter or digit, which
 * rules out ".", ".." and hidden names as path components; quotes,
 * semicolons, slashes and whitespace are never accepted.
 */
#include <stdio.h>
#include <string.h>

#include "cw.h"
#include "key_int.h"

/* What each byte may be, looked up once per byte: a batch checks every
 * key it is given. A colon counts as a part byte for the whole-key test
 * (a structured key is parts and colons), and is told apart by KB_COLON. */
enum {
	KB_PART = 1, KB_ALNUM = 2, KB_SPACE = 4 /* whitespace, control */,
	KB_COLON = 8
};
static const unsigned char key_byte[256] = {
	[0 ... ' '] = KB_SPACE, [0x7f] = KB_SPACE,
	['a' ... 'z'] = KB_PART | KB_ALNUM, ['A' ... 'Z'] = KB_PART | KB_ALNUM,
	['0' ... '9'] = KB_PART | KB_ALNUM,
	['_'] = KB_PART, ['-'] = KB_PART, ['.'] = KB_PART,
	[':'] = KB_PART | KB_COLON,
};

static int
is_part_byte(unsigned char c)
{
	return (key_byte[c] & (KB_PART | KB_COLON)) == KB_PART;
}

static int
is_alnum(unsigned char c)
{
	return key_byte[c] & KB_ALNUM;
}

/* Refuse key[0..klen) for why (a format of name), printed so that no
 * byte of it reaches a terminal as it is. */
static int
refuse(struct cw_err *err, const char *key, size_t klen, const char *why,
    const char *name)
{
	char shown[160], msg[96];

	snprintf(msg, sizeof(msg), why, name);
	return cw_err_set(err, CW_EDATA, 0, "key '%s': %s",
	    cw_err_printable(shown, sizeof(shown), key, klen), msg);
}

/* A checked key: where its colons are (three in a structured key), and
 * its date's fields. */
struct shape {
	size_t colon[4];
	int ncolons;
	int ymd[3];
};

/* Check the part p[0..n) against its pattern; all_part says that every
 * byte of the key is a part byte or a colon, which leaves only the
 * first byte to look at. */
static int
check_part(const char *key, size_t klen, const char *name, const char *p,
    size_t n, int all_part, struct cw_err *err)
{
	if (n == 0)
		return refuse(err, key, klen, "empty %s", name);
	if (!is_alnum((unsigned char)p[0]))
		return refuse(err, key, klen,
		    "%s must start with a letter or digit", name);
	for (size_t i = 0; !all_part && i < n; i++)
		if (!is_part_byte((unsigned char)p[i]))
			return refuse(err, key, klen, "bad character in %s",
			    name);
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
digit(char c)
{
	return (unsigned char)(c - '0') <= 9;
}

static int
digits(const char *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

static int
check_date(const char *key, size_t klen, const char *p, size_t n, int *v,
    struct cw_err *err)
{
	if (n != 10 || p[4] != '-' || p[7] != '-' || !(digit(p[0]) &
	    digit(p[1]) & digit(p[2]) & digit(p[3]) & digit(p[5]) &
	    digit(p[6]) & digit(p[8]) & digit(p[9])))
		return refuse(err, key, klen, "date must be YYYY-MM-DD%s", "");
	v[0] = digits(p, 4);
	v[1] = digits(p + 5, 2);
	v[2] = digits(p + 8, 2);
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > days_in_month(v[0], v[1]))
		return refuse(err, key, klen, "no such date%s", "");
	return CW_OK;
}

#ifdef __SSE2__
#include <emmintrin.h>

/* Keys up to this long are first checked 16 bytes at a time. */
#define FAST_KEY_MAX 48

static __m128i
byte_in(__m128i v, char lo, char hi)
{
	__m128i d = _mm_sub_epi8(v, _mm_set1_epi8(lo));

	return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((char)(hi - lo))),
	    d);
}

/* Bits i of *ok and *colons for the 16 bytes at s, the key's bytes
 * at .. at + 15: part bytes or colons, and colons. */
static void
classify16(const char *s, size_t at, uint64_t *ok, uint64_t *colons)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i colon = _mm_cmpeq_epi8(v, _mm_set1_epi8(':'));
	__m128i good = _mm_or_si128(_mm_or_si128(
	    byte_in(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z'),
	    byte_in(v, '0', '9')), _mm_or_si128(_mm_or_si128(colon,
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))), _mm_or_si128(
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('.')))));

	*ok |= (uint64_t)(unsigned)_mm_movemask_epi8(good) << at;
	*colons |= (uint64_t)(unsigned)_mm_movemask_epi8(colon) << at;
}

/*
 * The common case, without a lookup per byte: a key of part bytes and
 * colons. Bit i of *ok says byte i is one, of *colons that it is a
 * colon; 0 when the key is too long for this path. A key of 16 bytes or
 * more is read in place, its last 16 bytes as the last chunk (the
 * overlap classifies the same bytes twice, alike), so only a shorter
 * one is copied to a padded buffer first.
 */
static int
classify(const char *s, size_t len, uint64_t *ok, uint64_t *colons)
{
	size_t at;

	if (len > FAST_KEY_MAX)
		return 0;
	*ok = *colons = 0;
	if (len < 16) {
		char pad[16] = { 0 };	/* a NUL is neither */

		memcpy(pad, s, len);
		classify16(pad, 0, ok, colons);
		return 1;
	}
	for (at = 0; at + 16 <= len; at += 16)
		classify16(s + at, at, ok, colons);
	if (at < len)
		classify16(s + len - 16, len - 16, ok, colons);
	return 1;
}
#endif

/* The grammar, once for cw_key_check and cw_key_parse: s[0..len) is a
 * key, and sh says where its parts are. */
static int
check(const char *s, size_t len, struct shape *sh, struct cw_err *err)
{
	static const char *const part[] = { "type", "instrument",
	    "granularity" };
	unsigned char any = 0, every = 0xff;
	char shown[160];
	int rc;

	sh->ncolons = 0;
	sh->ymd[0] = sh->ymd[1] = sh->ymd[2] = 0;
	if (len == 0)
		return cw_err_set(err, CW_EDATA, 0, "empty key");
	if (len > CW_KEY_MAX)
		return cw_err_set(err, CW_EDATA, 0,
		    "key '%s': longer than %d bytes", cw_err_printable(shown,
		    48, s, len), CW_KEY_MAX);
#ifdef __SSE2__
	uint64_t ok, colons, all = len >= 64 ? ~0ull : (1ull << len) - 1;

	if (classify(s, len, &ok, &colons) && (ok & all) == all) {
		/* Nothing but part bytes and colons: no whitespace, and
		 * the parts need only their first byte looked at. */
		every = KB_PART;
		while (colons != 0 && sh->ncolons < 4) {
			sh->colon[sh->ncolons++] = (size_t)__builtin_ctzll(colons);
			colons &= colons - 1;
		}
		goto split;
	}
#endif
	/* Every byte's flags ORed and ANDed, without a branch per byte;
	 * the colons found by memchr, which scans many bytes at a time. */
	for (size_t i = 0; i < len; i++) {
		unsigned char b = key_byte[(unsigned char)s[i]];

		any |= b;
		every &= b;
	}
	for (const char *p = s, *end = s + len; sh->ncolons < 4 &&
	    (p = memchr(p, ':', (size_t)(end - p))) != NULL; p++)
		sh->colon[sh->ncolons++] = (size_t)(p - s);
	if (any & KB_SPACE)
		return cw_err_set(err, CW_EDATA, 0,
		    "key '%s': whitespace or control character",
		    cw_err_printable(shown, sizeof(shown), s, len));
#ifdef __SSE2__
split:
#endif
	if (sh->ncolons != 3)
		return CW_OK;	/* opaque */
	for (int f = 0; f < 3; f++) {
		size_t from = f == 0 ? 0 : sh->colon[f - 1] + 1;

		if ((rc = check_part(s, len, part[f], s + from,
		    sh->colon[f] - from, every & KB_PART, err)) != CW_OK)
			return rc;
	}
	return check_date(s, len, s + sh->colon[2] + 1, len - sh->colon[2] - 1,
	    sh->ymd, err);
}

int
cw_key_check(const char *s, size_t len, struct cw_err *err)
{
	struct shape sh;

	return check(s, len, &sh, err);
}

static void
copy_part(char *dst, const char *s, size_t from, size_t to)
{
	memcpy(dst, s + from, to - from);
	dst[to - from] = '\0';
}

int
cw_key_parse(const char *s, size_t len, struct cw_key *out,
    struct cw_err *err)
{
	struct shape sh;
	int rc;

	/* Field by field, not a memset of the whole (about 1 KB). */
	out->len = 0;
	out->structured = 0;
	out->raw[0] = out->type[0] = out->instrument[0] = '\0';
	out->granularity[0] = out->date[0] = '\0';
	out->year = out->month = out->day = 0;
	if ((rc = check(s, len, &sh, err)) != CW_OK)
		return rc;
	memcpy(out->raw, s, len);
	out->raw[len] = '\0';
	out->len = len;
	if (sh.ncolons != 3)
		return CW_OK;
	copy_part(out->type, s, 0, sh.colon[0]);
	copy_part(out->instrument, s, sh.colon[0] + 1, sh.colon[1]);
	copy_part(out->granularity, s, sh.colon[1] + 1, sh.colon[2]);
	copy_part(out->date, s, sh.colon[2] + 1, len);
	out->year = sh.ymd[0];
	out->month = sh.ymd[1];
	out->day = sh.ymd[2];
	out->structured = 1;
	return CW_OK;
}
