/*
 * fs: file-system helpers shared by the modules that create files (the L1
 * file, the access log) in directories that may not exist yet, such as a
 * fresh user's ~/.cache/cw.
 */
#include <errno.h>
#include <fcntl.h>
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
