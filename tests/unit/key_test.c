#include <criterion/criterion.h>
#include <string.h>

#include "cw.h"
#include "key_int.h"

static int
parse(const char *s, struct cw_key *k)
{
	struct cw_err e;

	return cw_key_parse(s, strlen(s), k, &e);
}

Test(key, structured_key_splits_into_parts)
{
	struct cw_key k;

	cr_assert_eq(parse("labels:EUR_USD:H4:2024-01-01", &k), CW_OK);
	cr_assert(k.structured);
	cr_assert_str_eq(k.type, "labels");
	cr_assert_str_eq(k.instrument, "EUR_USD");
	cr_assert_str_eq(k.granularity, "H4");
	cr_assert_str_eq(k.date, "2024-01-01");
	cr_assert_eq(k.year, 2024);
	cr_assert_eq(k.month, 1);
	cr_assert_eq(k.day, 1);
}

Test(key, opaque_keys_are_accepted_but_not_structured)
{
	struct cw_key k;

	cr_assert_eq(parse("session:london", &k), CW_OK);
	cr_assert_not(k.structured);
	cr_assert_eq(parse("a:b:c:d:e", &k), CW_OK);
	cr_assert_not(k.structured);
}

Test(key, calendar_dates_are_checked)
{
	struct cw_key k;

	cr_assert_eq(parse("labels:EUR_USD:H4:2024-02-29", &k), CW_OK);
	cr_assert_eq(parse("labels:EUR_USD:H4:2023-02-29", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:2024-04-31", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:2024-13-01", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:2024-1-01", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:24-01-01x", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:1900-01-01", &k), CW_EDATA);
	/* Day or month 00, and the century rules of the leap year. */
	cr_assert_eq(parse("labels:EUR_USD:H4:2024-03-00", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:2024-00-10", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:2024-01-31", &k), CW_OK);
	cr_assert_eq(parse("labels:EUR_USD:H4:2024-01-32", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:2100-02-29", &k), CW_EDATA);
	cr_assert_eq(parse("labels:EUR_USD:H4:2000-02-29", &k), CW_OK);
	cr_assert_eq(k.year * 10000 + k.month * 100 + k.day, 20000229);
}

Test(key, injection_attempts_are_refused)
{
	static const char *bad[] = {
		"labels:EUR'USD:H4:2024-01-01",
		"labels:EUR_USD\":H4:2024-01-01",
		"labels:EUR_USD;DROP:H4:2024-01-01",
		"labels:../../etc:H4:2024-01-01",
		"labels:..:H4:2024-01-01",
		"labels:.hidden:H4:2024-01-01",
		"../x:EUR_USD:H4:2024-01-01",
		"labels:EUR/USD:H4:2024-01-01",
		"labels:EUR_USD:H4:2024-01-01'--",
		"labels:EUR_USD::2024-01-01",
		"labels:EUR_USD:H4\\:2024-01-01",
		"labels:EUR_USD:H4:2024-01-01;",
	};
	struct cw_key k;
	struct cw_err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(cw_key_parse(bad[i], strlen(bad[i]), &k, &e),
		    CW_EDATA, "accepted %s", bad[i]);
		cr_assert_eq(e.code, CW_EDATA);
		cr_assert_neq(e.msg[0], '\0');
	}
}

Test(key, whitespace_control_and_length_are_refused)
{
	char long_key[300];
	struct cw_key k;
	struct cw_err e;

	cr_assert_eq(parse("", &k), CW_EDATA);
	cr_assert_eq(parse("a b", &k), CW_EDATA);
	cr_assert_eq(parse("a\tb", &k), CW_EDATA);
	cr_assert_eq(cw_key_parse("a\0b", 3, &k, &e), CW_EDATA);
	cr_assert_eq(parse("a\x7f", &k), CW_EDATA);
	memset(long_key, 'k', sizeof(long_key));
	cr_assert_eq(cw_key_parse(long_key, CW_KEY_MAX, &k, &e), CW_OK);
	cr_assert_eq(cw_key_parse(long_key, CW_KEY_MAX + 1, &k, &e), CW_EDATA);
}

Test(key, refusals_never_print_control_bytes)
{
	struct cw_key k;
	struct cw_err e;
	char buf[16];

	cr_assert_eq(cw_key_parse("a\033[2Jb c", 8, &k, &e), CW_EDATA);
	cr_assert_str_eq(e.msg, "key 'a\\x1b[2Jb c': whitespace or control "
	    "character");
	cr_assert_eq(cw_key_parse("t:I\xc2\x9b:G:2024-01-01", 18, &k, &e),
	    CW_EDATA);
	cr_assert_str_eq(e.msg, "key 't:I\\xc2\\x9b:G:2024-01-01': bad "
	    "character in instrument");
	cr_assert_str_eq(cw_err_printable(buf, sizeof(buf), "\x7f\x01z", 3),
	    "\\x7f\\x01z");
	cr_assert_str_eq(cw_err_printable(buf, sizeof(buf),
	    "0123456789abcdef", 16), "0123456789ab...");
}

/* A lookup checks keys without splitting them: the same verdict and the
 * same reason as the parse, for keys a byte away from good ones. */
Test(key, the_check_agrees_with_the_parse_byte_by_byte)
{
	static const char *const good[] = { "labels:EUR_USD:H4:2024-01-01",
	    "a:b:c:2024-02-29", "x", "session:london", "A.1:b-2:c_3:1970-01-01",
	    /* 42 bytes: three chunks of the fast check, the last overlapping;
	     * 52: past it, the table's check */
	    "labels_extended:EUR_USD.x-1:M15:2024-01-01",
	    "labels_extended_further:EUR_USD.x-1:M15.b:2024-01-01" };
	static const char subst[] = { 0, ' ', ':', '-', '.', '_', '/', '\'',
	    'a', 'Z', '9', 0x7f, (char)0xff, '\t', '\n' };
	struct cw_key k;
	int refused = 0;

	for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		size_t len = strlen(good[g]);

		for (size_t at = 0; at < len; at++)
			for (size_t c = 0; c < sizeof(subst); c++) {
				char s[64];
				struct cw_err ep = { 0 }, ec = { 0 };
				int rp, rc;

				memcpy(s, good[g], len);
				s[at] = subst[c];
				rp = cw_key_parse(s, len, &k, &ep);
				rc = cw_key_check(s, len, &ec);
				cr_assert_eq(rp, rc, "%s at %zu", good[g], at);
				cr_assert_str_eq(ep.msg, ec.msg);
				refused += rp != CW_OK;
			}
	}
	cr_assert_gt(refused, 100, "the mutations reach the refusals");
}
