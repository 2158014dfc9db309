/*
 * fs_int.h: small file-system helpers shared by lib modules.
 */
#ifndef CW_FS_INT_H
#define CW_FS_INT_H

#include "cw.h"

/* Create the missing parent directories of path, mode 0700. */
int cw_fs_make_parents(const char *path, struct cw_err *err);
/*
 * A descriptor just opened, moved above 2 if it landed on 0, 1 or 2 (the
 * caller's stdin, stdout or stderr was closed): a file there would be
 * written over by whatever the program prints. Returns the descriptor
 * to use, or -1 with errno set (fd is closed then).
 */
int cw_fs_fd_above_std(int fd);

/* One piece of what cw_fs_write_atomic writes. */
struct cw_fs_part {
	const void *data;
	size_t len;
};

/*
 * Write the parts, in order, to path as a whole or not at all: into
 * PATH.tmpPID (mode, missing parents made 0700), synced, then renamed
 * over path, so a reader, or a crash at any moment, finds the old file
 * or the new one, never half of one. CW_EIO naming what failed.
 */
int cw_fs_write_atomic(const char *path, const struct cw_fs_part *parts,
    size_t nparts, unsigned mode, struct cw_err *err);

#endif /* CW_FS_INT_H */
