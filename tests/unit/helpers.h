/*
 * helpers.h: fixtures shared by the unit tests: a private temporary
 * directory per test, removed afterwards, a driven clock, and a file's
 * text.
 */
#ifndef CW_TEST_HELPERS_H
#define CW_TEST_HELPERS_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cw.h"

struct test_env {
	char dir[512];	/* short: paths built from it fit PATH_MAX */
	int64_t now_ns;
};

/* Each test runs in its own process, so one per process is enough. */
static struct test_env tenv;

static inline void
tmpdir_setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tenv.dir, sizeof(tenv.dir), "%s/cwtest.XXXXXX",
	    base != NULL && base[0] == '/' ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tenv.dir));
	tenv.now_ns = 1704067200LL * 1000000000;	/* 2024-01-01 */
}

static inline void
tmpdir_teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tenv.dir);
	cr_assert_eq(system(cmd), 0);
}

/* A path inside the test's directory. */
static inline const char *
tpath(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tenv.dir, name);
	return buf;
}

/* The file at path, whole, into b, NUL-terminated (b->len without
 * the NUL): its text. */
static inline char *
file_text(const char *path, struct cw_buf *b)
{
	struct cw_err e;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "%s", path);
	b->len = 0;
	cr_assert_eq(cw_buf_read_fd(b, fd, path, &e), CW_OK, "%s", e.msg);
	close(fd);
	cr_assert_eq(cw_buf_append(b, "", 1, NULL), CW_OK);
	b->len--;
	return b->data;
}

#endif
