#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "fs_int.h"

TestSuite(fs, .init = tmpdir_setup, .fini = tmpdir_teardown);

/* A library user whose stdin is closed: a file opened onto fd 0 moves
 * above 2, and 0 is left closed, free for no file of ours. Criterion
 * runs each test in its own process, so closing 0 here is safe. */
Test(fs, a_file_opened_onto_a_standard_descriptor_moves_above_it)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/f", tenv.dir);
	close(0);
	fd = cw_fs_fd_above_std(open(path, O_RDWR | O_CREAT, 0600));
	cr_assert_gt(fd, 2);
	cr_assert_eq(fcntl(0, F_GETFD), -1, "fd 0 closed again");
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC, "close-on-exec");
	close(fd);
	cr_assert_eq(cw_fs_fd_above_std(-1), -1, "a failed open passes on");
}

/* Whole or not at all: the file appears by rename, with its mode; where
 * it cannot be written, the error names the file and nothing is left. */
Test(fs, write_whole_is_atomic_and_says_where_it_failed)
{
	char path[600], bad[600];
	struct stat st;
	struct cw_err e;

	snprintf(path, sizeof(path), "%s/sub/dir/out.json", tenv.dir);
	cr_assert_eq(cw_fs_make_parents(path, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(cw_fs_write_whole(path, "{}\n", 3, 0640, &e), CW_OK,
	    "%s", e.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(st.st_mode & 0777, 0640);
	/* Missing parents are made; a parent that is a file is an error
	 * naming what could not be created. */
	snprintf(bad, sizeof(bad), "%s/new/out.json", tenv.dir);
	cr_assert_eq(cw_fs_write_whole(bad, "x", 1, 0644, &e), CW_OK, "%s",
	    e.msg);
	snprintf(bad, sizeof(bad), "%s/sub/dir/out.json/x", tenv.dir);
	cr_assert_eq(cw_fs_write_whole(bad, "x", 1, 0644, &e), CW_EIO);
	cr_assert(strstr(e.msg, "create ") != NULL &&
	    strstr(e.msg, "out.json/x.tmp") != NULL, "%s", e.msg);
	/* A directory where the file should go: the rename fails, the
	 * temporary file is gone. */
	snprintf(bad, sizeof(bad), "%s/sub", tenv.dir);
	cr_assert_eq(cw_fs_write_whole(bad, "x", 1, 0644, &e), CW_EIO);
	cr_assert(strstr(e.msg, "rename to") != NULL, "%s", e.msg);
	snprintf(bad, sizeof(bad), "ls -a %s | grep -q tmp", tenv.dir);
	cr_assert_neq(system(bad), 0, "no temporary file left");
}
