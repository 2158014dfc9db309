/*
 * fs: file-system helpers shared by the modules that create files (the L1
 * file, the access log) in directories that may not exist yet, such as a
 * fresh user's ~/.cache/cw.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cw.h"
#include "fs_int.h"

int
cw_fs_make_parents(const char *path, struct cw_err *err)
{
	char dir[CW_PATH_MAX];

	if (strlen(path) >= sizeof(dir))
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", path);
	strcpy(dir, path);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		/* Private by default: the cache may hold trading data. */
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return cw_err_set(err, CW_EIO, errno, "mkdir %s", dir);
		*p = '/';
	}
	return CW_OK;
}

int
cw_fs_fd_above_std(int fd)
{
	int moved, saved;

	if (fd < 0 || fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	saved = errno;
	/* The low number is closed again: the program's writes to it fail
	 * (EBADF) instead of landing in the file. */
	close(fd);
	errno = saved;
	return moved;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
cw_fs_write_atomic(const char *path, const struct cw_fs_part *parts,
    size_t nparts, unsigned mode, struct cw_err *err)
{
	char tmp[CW_PATH_MAX + 32];
	int fd, saved, failed = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", path);
	cw_fs_make_parents(path, NULL);
	fd = cw_fs_fd_above_std(open(tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, mode));
	if (fd < 0)
		return cw_err_set(err, CW_EIO, errno, "create %s: %s", tmp,
		    strerror(errno));
	for (size_t i = 0; i < nparts && !failed; i++)
		failed = write_all(fd, parts[i].data, parts[i].len) != 0;
	if (failed || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		return cw_err_set(err, CW_EIO, saved, "write %s: %s", tmp,
		    strerror(saved));
	}
	if (close(fd) != 0) {
		saved = errno;
		unlink(tmp);
		return cw_err_set(err, CW_EIO, saved, "write %s: %s", tmp,
		    strerror(saved));
	}
	if (rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		return cw_err_set(err, CW_EIO, saved, "rename to %s: %s",
		    path, strerror(saved));
	}
	return CW_OK;
}

int
cw_fs_write_whole(const char *path, const void *data, size_t len,
    unsigned mode, struct cw_err *err)
{
	const struct cw_fs_part part = { data, len };

	return cw_fs_write_atomic(path, &part, 1, mode, err);
}
