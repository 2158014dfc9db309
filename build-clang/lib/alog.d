build-clang/lib/alog.o: lib/alog.c lib/cw.h lib/fs_int.h lib/hash_int.h

lib/cw.h:

lib/fs_int.h:

lib/hash_int.h:
