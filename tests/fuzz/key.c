/* The key parser, and SQL quoting of what a key is made of: any bytes
 * quote into one literal that decodes back to exactly those bytes. */
#include "fuzz.h"
#include "cal_int.h"
#include "key_int.h"
#include "tmpl_int.h"

/* Decode a literal as ClickHouse would; -1 when it is not one literal. */
static long
unquote(const char *q, size_t n, char *out)
{
	size_t i = 1, o = 0;

	if (n < 2 || q[0] != '\'' || q[n - 1] != '\'')
		return -1;
	while (i < n - 1) {
		unsigned char c = (unsigned char)q[i];

		if (c < 0x20 || c == 0x7f || c == '\'')
			return -1;	/* raw control byte, or an early end */
		if (c != '\\') {
			out[o++] = (char)c;
			i++;
		} else if (i + 1 < n - 1 && (q[i + 1] == '\\' ||
		    q[i + 1] == '\'')) {
			out[o++] = q[i + 1];
			i += 2;
		} else if (i + 3 < n - 1 && q[i + 1] == 'x') {
			out[o++] = (char)strtol((char[]){ q[i + 2], q[i + 3],
			    0 }, NULL, 16);
			i += 4;
		} else {
			return -1;
		}
	}
	return (long)o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_buf q = { 0 }, sql = { 0 };
	struct cw_key k;
	struct cw_err e;
	char *back = malloc(size + 1);
	long n;

	FUZZ_ASSERT(back != NULL);
	FUZZ_ASSERT(cw_sql_quote(&q, (const char *)data, size, NULL) == CW_OK);
	n = unquote(q.data, q.len, back);
	FUZZ_ASSERT(n == (long)size && memcmp(back, data, size) == 0);
	if (cw_key_parse((const char *)data, size, &k, &e) == CW_OK &&
	    k.structured) {
		FUZZ_ASSERT(k.month >= 1 && k.month <= 12 && k.day >= 1 &&
		    k.day <= 31);
		/* The date is a real one: before the next month's first. */
		FUZZ_ASSERT(cw_cal_days_from_civil(k.year, k.month, k.day) <
		    cw_cal_days_from_civil(k.year + (k.month == 12),
		    k.month % 12 + 1, 1));
		FUZZ_ASSERT(cw_tmpl_expand(&sql, "SELECT {key} {type} "
		    "{instrument} {granularity} {date}", &k, NULL) == CW_OK);
	}
	free(back);
	cw_buf_free(&q);
	cw_buf_free(&sql);
	return 0;
}
