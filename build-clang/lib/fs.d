build-clang/lib/fs.o: lib/fs.c lib/cw.h lib/fs_int.h

lib/cw.h:

lib/fs_int.h:
