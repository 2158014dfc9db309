build-clang/lib/l1_check.o: lib/l1_check.c lib/cw.h lib/hash_int.h \
  lib/l1_int.h

lib/cw.h:

lib/hash_int.h:

lib/l1_int.h:
