build-clang/lib/stats.o: lib/stats.c lib/cw.h lib/out_int.h \
  lib/stats_int.h

lib/cw.h:

lib/out_int.h:

lib/stats_int.h:
