#include "helpers.h"

TestSuite(buf);

Test(buf, appendf_grows_for_text_of_any_length)
{
	struct cw_buf b = { 0 };
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(cw_buf_appendf(&b, NULL, "%d-%s", 42, "a"), CW_OK);
	cr_assert_eq(b.len, 4);
	cr_assert_arr_eq(b.data, "42-a", 4);
	cr_assert_eq(cw_buf_appendf(&b, NULL, "[%s]", big), CW_OK);
	cr_assert_eq(b.len, 4 + 2 + sizeof(big) - 1);
	cr_assert_eq(b.data[4], '[');
	cr_assert_eq(b.data[b.len - 1], ']');
	cr_assert_eq(cw_buf_appendf(&b, NULL, "%s", ""), CW_OK);
	cr_assert_eq(b.len, 4 + 2 + sizeof(big) - 1);
	cw_buf_free(&b);
}
