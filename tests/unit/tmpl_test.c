#include "helpers.h"
#include "key_int.h"
#include "tmpl_int.h"

TestSuite(tmpl);

static const char *
expand(const char *tmpl, const char *key, struct cw_buf *b)
{
	struct cw_key k;
	struct cw_err e;

	cr_assert_eq(cw_key_parse(key, strlen(key), &k, &e), CW_OK, "%s",
	    e.msg);
	b->len = 0;
	cr_assert_eq(cw_tmpl_expand(b, tmpl, &k, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(cw_buf_append(b, "", 1, NULL), CW_OK);
	return b->data;
}

Test(tmpl, parts_become_typed_quoted_literals)
{
	struct cw_buf b = { 0 };

	cr_assert_str_eq(expand("SELECT * FROM {type} WHERE i = {instrument} "
	    "AND g = {granularity} AND toDate(ts) = {date} FORMAT CSV",
	    "labels:EUR_USD:H4:2024-01-02", &b),
	    "SELECT * FROM 'labels' WHERE i = 'EUR_USD' AND g = 'H4' AND "
	    "toDate(ts) = toDate('2024-01-02') FORMAT CSV");
	cr_assert_str_eq(expand("SELECT {key}", "a:b:c:2024-01-01", &b),
	    "SELECT 'a:b:c:2024-01-01'");
	/* Braces that are not a reference are SQL. */
	cr_assert_str_eq(expand("SELECT '{', '{}', '{ x}' {date}",
	    "a:b:c:2024-01-01", &b),
	    "SELECT '{', '{}', '{ x}' toDate('2024-01-01')");
	cw_buf_free(&b);
}

Test(tmpl, unknown_part_is_a_config_error)
{
	struct cw_err e;

	cr_assert_eq(cw_tmpl_check("SELECT {instrument} {date}", &e), CW_OK);
	cr_assert_eq(cw_tmpl_check("SELECT {instrumnet}", &e), CW_ECONFIG);
	cr_assert(strstr(e.msg, "{instrumnet}") != NULL, "%s", e.msg);
	cr_assert_eq(cw_tmpl_check("SELECT {Date}", &e), CW_ECONFIG);
}

Test(tmpl, opaque_keys_have_only_key)
{
	struct cw_buf b = { 0 };
	struct cw_key k;

	cr_assert_eq(cw_key_parse("plain", 5, &k, NULL), CW_OK);
	cr_assert_eq(cw_tmpl_expand(&b, "SELECT {key}", &k, NULL), CW_OK);
	b.len = 0;
	cr_assert_eq(cw_tmpl_expand(&b, "SELECT {date}", &k, NULL),
	    CW_ENOTFOUND);
	cw_buf_free(&b);
}

/* Hostile text cannot end the literal: every quote and backslash is
 * escaped, control bytes are \xHH. (The key grammar refuses all of
 * these before a template sees them; this is the second wall.) */
Test(tmpl, quoting_hostile_text)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "x' OR 1=1 --", "'x\\' OR 1=1 --'" },
		{ "\\'; DROP TABLE labels; --", "'\\\\\\'; DROP TABLE labels; --'" },
		{ "a\nb\tc\rd", "'a\\x0ab\\x09c\\x0dd'" },
		{ "trail\\", "'trail\\\\'" },
		{ "", "''" },
	};
	struct cw_buf b = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b.len = 0;
		cr_assert_eq(cw_sql_quote(&b, cases[i].in,
		    strlen(cases[i].in), NULL), CW_OK);
		cr_assert_eq(b.len, strlen(cases[i].out), "case %zu", i);
		cr_assert_arr_eq(b.data, cases[i].out, b.len, "case %zu", i);
	}
	b.len = 0;
	cr_assert_eq(cw_sql_quote(&b, "n\0l", 3, NULL), CW_OK);
	cr_assert_arr_eq(b.data, "'n\\x00l'", 8);
	/* Every control byte, and DEL, as \xHH; the byte after them not. */
	for (int c = 0; c <= 0x80; c++) {
		char in = (char)c, want[8];

		if (c > 0x1f && c != 0x7f && c != 0x80)
			continue;
		b.len = 0;
		cr_assert_eq(cw_sql_quote(&b, &in, 1, NULL), CW_OK);
		if (c == 0x80)
			snprintf(want, sizeof(want), "'%c'", c);
		else
			snprintf(want, sizeof(want), "'\\x%02x'", c);
		cr_assert_eq(b.len, strlen(want), "byte %#x", c);
		cr_assert_arr_eq(b.data, want, b.len, "byte %#x", c);
	}
	cw_buf_free(&b);
}
