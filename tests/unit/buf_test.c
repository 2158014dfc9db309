#include <unistd.h>

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

Test(buf, read_fd_takes_everything_to_the_end)
{
	struct cw_buf b = { 0 };
	static char big[200000];
	struct cw_err e;
	char path[] = "/tmp/cw-buf-test.XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	cr_assert_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_eq(cw_buf_append(&b, "head:", 5, NULL), CW_OK);
	cr_assert_eq(cw_buf_read_fd(&b, fd, "test", &e), CW_OK, "%s", e.msg);
	cr_assert_eq(b.len, 5 + sizeof(big));
	cr_assert_arr_eq(b.data + 5, big, sizeof(big));
	close(fd);
	/* A descriptor that cannot be read: the error names it. */
	cr_assert_eq(cw_buf_read_fd(&b, fd, "closed", &e), CW_EIO);
	cr_assert_not_null(strstr(e.msg, "closed"));
	cw_buf_free(&b);
}
