build-clang/lib/l1.o: lib/l1.c lib/cw.h lib/fs_int.h lib/hash_int.h \
  lib/l1_int.h

lib/cw.h:

lib/fs_int.h:

lib/hash_int.h:

lib/l1_int.h:
