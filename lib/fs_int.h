/*
 * fs_int.h: small file-system helpers shared by lib modules.
 */
#ifndef CW_FS_INT_H
#define CW_FS_INT_H

#include "cw.h"

/* Create the missing parent directories of path, mode 0700. */
int cw_fs_make_parents(const char *path, struct cw_err *err);

#endif /* CW_FS_INT_H */
