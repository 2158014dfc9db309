build-clang/lib/journal.o: lib/journal.c lib/cw.h lib/fs_int.h \
  lib/hash_int.h

lib/cw.h:

lib/fs_int.h:

lib/hash_int.h:
