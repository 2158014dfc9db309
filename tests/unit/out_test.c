#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cw.h"
#include "out_int.h"

Test(out, tsv_escape_round_trips_every_byte)
{
	char all[256];
	struct cw_buf esc = { 0 }, back = { 0 };

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	cr_assert_eq(cw_out_tsv_escape(&esc, all, sizeof(all), NULL), CW_OK);
	cr_assert_null(memchr(esc.data, '\t', esc.len));
	cr_assert_null(memchr(esc.data, '\n', esc.len));
	cr_assert_null(memchr(esc.data, '\0', esc.len));
	cr_assert_eq(cw_out_tsv_unescape(&back, esc.data, esc.len, NULL),
	    CW_OK);
	cr_assert_eq(back.len, sizeof(all));
	cr_assert_arr_eq(back.data, all, sizeof(all));
	cw_buf_free(&esc);
	cw_buf_free(&back);
}

Test(out, tsv_escapes_are_the_documented_ones)
{
	struct cw_buf b = { 0 };

	cr_assert_eq(cw_out_tsv_escape(&b, "a\tb\nc\\d\re\0f", 11, NULL),
	    CW_OK);
	cr_assert_eq(b.len, 16);
	cr_assert_arr_eq(b.data, "a\\tb\\nc\\\\d\\re\\0f", 16);
	b.len = 0;
	cr_assert_eq(cw_out_tsv_unescape(&b, "x\\q", 3, NULL), CW_EDATA);
	cr_assert_eq(cw_out_tsv_unescape(&b, "x\\", 2, NULL), CW_EDATA);
	cw_buf_free(&b);
}

/* The escape scans many bytes at a time: every byte value, at every
 * position of a 16-byte block and across the blocks' seams, in values of
 * every length up to three blocks, must come out as the byte-at-a-time
 * rule writes it. */
Test(out, tsv_escape_is_the_byte_rule_at_every_position)
{
	static const char names[256] = { ['\\'] = '\\', ['\t'] = 't',
		['\n'] = 'n', ['\r'] = 'r', ['\0'] = '0' };
	struct cw_buf got = { 0 };
	char val[48], want[96];

	for (size_t len = 1; len <= sizeof(val); len++)
		for (size_t at = 0; at < len; at++)
			for (int c = 0; c < 256; c++) {
				size_t n = 0;

				memset(val, 'x', len);
				val[at] = (char)c;
				val[len - 1] = len > 1 && at != len - 1 ? '\t' :
				    val[len - 1];
				for (size_t i = 0; i < len; i++) {
					unsigned char b = (unsigned char)val[i];

					if (names[b] != 0) {
						want[n++] = '\\';
						want[n++] = names[b];
					} else {
						want[n++] = val[i];
					}
				}
				got.len = 0;
				cr_assert_eq(cw_out_tsv_escape(&got, val, len,
				    NULL), CW_OK);
				cr_assert_eq(got.len, n, "len %zu at %zu byte %d",
				    len, at, c);
				cr_assert_arr_eq(got.data, want, n,
				    "len %zu at %zu byte %d", len, at, c);
			}
	cw_buf_free(&got);
}

Test(out, json_keeps_utf8_and_base64s_the_rest)
{
	struct cw_buf b = { 0 };

	cr_assert_eq(cw_out_record(&b, CW_FORMAT_JSON, "k", 1, "é\"\n", 4,
	    NULL), CW_OK);
	cr_assert_eq(b.len, strlen("{\"key\":\"k\",\"value\":\"é\\\"\\n\"}\n"));
	cr_assert_arr_eq(b.data, "{\"key\":\"k\",\"value\":\"é\\\"\\n\"}\n", b.len);
	b.len = 0;
	cr_assert_eq(cw_out_record(&b, CW_FORMAT_JSON, "k", 1, "\xff\x00z", 3,
	    NULL), CW_OK);
	cr_assert_arr_eq(b.data, "{\"key\":\"k\",\"value_base64\":\"/wB6\"}\n",
	    b.len);
	/* A key of bytes that are not UTF-8 is written as a value is. */
	b.len = 0;
	cr_assert_eq(cw_out_record(&b, CW_FORMAT_JSON, "\xff\x00z", 3, "v", 1,
	    NULL), CW_OK);
	cr_assert_eq(b.len, strlen("{\"key_base64\":\"/wB6\",\"value\":\"v\"}\n"));
	cr_assert_arr_eq(b.data, "{\"key_base64\":\"/wB6\",\"value\":\"v\"}\n",
	    b.len);
	cw_buf_free(&b);
}

Test(out, utf8_validation)
{
	cr_assert(cw_out_is_utf8("plain", 5));
	cr_assert(cw_out_is_utf8("\xe2\x82\xac", 3));
	cr_assert_not(cw_out_is_utf8("\xc0\xaf", 2));	/* overlong */
	cr_assert_not(cw_out_is_utf8("\xed\xa0\x80", 3));	/* surrogate */
	cr_assert_not(cw_out_is_utf8("\xe2\x82", 2));	/* truncated */
	cr_assert_not(cw_out_is_utf8("a\0b", 3));
}

Test(out, tsv_record_is_key_tab_value_newline)
{
	struct cw_buf b = { 0 };

	cr_assert_eq(cw_out_record(&b, CW_FORMAT_TSV, "k", 1, "v\tw", 3, NULL),
	    CW_OK);
	cr_assert_eq(b.len, 7);
	cr_assert_arr_eq(b.data, "k\tv\\tw\n", 7);
	cw_buf_free(&b);
}

/* Records follow one another in one buffer, as cw-get gathers a batch:
 * each is its key, a tab, its value escaped byte by byte, a newline,
 * whatever the lengths and wherever the bytes to escape fall. */
Test(out, tsv_records_append_to_what_the_buffer_holds)
{
	static const char odd[] = "\\\t\n\r";
	struct cw_buf b = { 0 }, want = { 0 };
	char val[200], key[16];

	for (size_t n = 0; n < sizeof(val); n++) {
		size_t klen = (size_t)snprintf(key, sizeof(key), "k%zu", n);

		for (size_t i = 0; i < n; i++)
			val[i] = i % 7 == n % 5 ? odd[(i + n) % 5] :
			    (char)('a' + i % 26);
		cr_assert_eq(cw_out_record(&b, CW_FORMAT_TSV, key, klen, val,
		    n, NULL), CW_OK);
		cw_buf_append(&want, key, klen, NULL);
		cw_buf_append(&want, "\t", 1, NULL);
		for (size_t i = 0; i < n; i++) {
			const char *e = val[i] == '\\' ? "\\\\" :
			    val[i] == '\t' ? "\\t" : val[i] == '\n' ? "\\n" :
			    val[i] == '\r' ? "\\r" : val[i] == '\0' ? "\\0" :
			    NULL;

			if (e != NULL)
				cw_buf_append(&want, e, 2, NULL);
			else
				cw_buf_append(&want, &val[i], 1, NULL);
		}
		cw_buf_append(&want, "\n", 1, NULL);
	}
	cr_assert_eq(b.len, want.len);
	cr_assert_arr_eq(b.data, want.data, want.len);
	cw_buf_free(&b);
	cw_buf_free(&want);
}

/* A key is escaped as a value is, in TSV and in JSON. */
Test(out, keys_with_odd_bytes_are_escaped_in_both_formats)
{
	struct cw_buf b = { 0 };

	cr_assert_eq(cw_out_record(&b, CW_FORMAT_TSV, "a\\b\tc\nd", 7, "v", 1,
	    NULL), CW_OK);
	cr_assert_eq(b.len, strlen("a\\\\b\\tc\\nd\tv\n"));
	cr_assert_arr_eq(b.data, "a\\\\b\\tc\\nd\tv\n", b.len);
	b.len = 0;
	cr_assert_eq(cw_out_record(&b, CW_FORMAT_JSON, "a\\\"\x01", 4, "v", 1,
	    NULL), CW_OK);
	cr_assert_eq(b.len, strlen("{\"key\":\"a\\\\\\\"\\u0001\",\"value\":\"v\"}\n"));
	cr_assert_arr_eq(b.data, "{\"key\":\"a\\\\\\\"\\u0001\",\"value\":\"v\"}\n",
	    b.len);
	cw_buf_free(&b);
}

/* Base64 of one, two and three byte tails: padded to whole quads. */
Test(out, base64_tails_are_padded)
{
	static const struct { const char *in; size_t n; const char *b64; } c[] = {
		{ "\xff", 1, "/w==" },
		{ "\xff\x00", 2, "/wA=" },
		{ "\xff\x00z", 3, "/wB6" },
		{ "\xff\x00z\xfe", 4, "/wB6/g==" },
	};
	struct cw_buf b = { 0 };
	char want[64];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		b.len = 0;
		cr_assert_eq(cw_out_record(&b, CW_FORMAT_JSON, "k", 1, c[i].in,
		    c[i].n, NULL), CW_OK);
		snprintf(want, sizeof(want),
		    "{\"key\":\"k\",\"value_base64\":\"%s\"}\n", c[i].b64);
		cr_assert_eq(b.len, strlen(want), "tail of %zu", c[i].n);
		cr_assert_arr_eq(b.data, want, b.len, "tail of %zu", c[i].n);
	}
	cw_buf_free(&b);
}

/* UTF-8 at its edges: the longest form, the end of the code points,
 * every kind of overlong, bytes that never start a character. */
Test(out, utf8_at_its_edges)
{
	static const struct {
		const char *s;
		size_t n;
		int utf8;
	} cases[] = {
		{ "\xf0\x9f\x98\x80", 4, 1 },	/* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4, 1 },	/* U+10FFFF, the last */
		{ "\xdf\xbf", 2, 1 },		/* U+07FF */
		{ "\xf4\x90\x80\x80", 4, 0 },	/* past U+10FFFF */
		{ "\xe0\x80\x80", 3, 0 },	/* overlong, three bytes */
		{ "\xf0\x80\x80\x80", 4, 0 },	/* overlong, four */
		{ "\xf5\x80\x80\x80", 4, 0 },	/* never a first byte */
		{ "\xc0\x80", 2, 0 },		/* ditto */
		{ "\xc3\x28", 2, 0 },		/* not a continuation */
		{ "\xf0\x9f\x98", 3, 0 },	/* cut short */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(cw_out_is_utf8(cases[i].s, cases[i].n) != 0,
		    cases[i].utf8, "case %zu", i);
}

/* Every escape of a JSON string: quote, backslash, newline, tab, CR,
 * the other control bytes and DEL. */
Test(out, a_json_string_escapes_every_control_byte)
{
	struct cw_buf b = { 0 };
	static const char in[] = "q\"b\\n\nt\tr\rc\x01" "d\x7f" "e\x1f";
	static const char want[] =
	    "\"value\":\"q\\\"b\\\\n\\nt\\tr\\rc\\u0001d\\u007fe\\u001f\"";

	cr_assert_eq(cw_out_json_field(&b, "value", in, sizeof(in) - 1,
	    NULL), CW_OK);
	cr_assert_eq(b.len, sizeof(want) - 1, "%.*s", (int)b.len, b.data);
	cr_assert_arr_eq(b.data, want, b.len);
	cw_buf_free(&b);
}
