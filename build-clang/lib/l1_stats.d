build-clang/lib/l1_stats.o: lib/l1_stats.c lib/cw.h lib/hash_int.h \
  lib/l1_int.h

lib/cw.h:

lib/hash_int.h:

lib/l1_int.h:
