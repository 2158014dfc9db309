build-clang/lib/warm.o: lib/warm.c lib/cw.h lib/fill_int.h lib/l2_int.h \
  lib/sched_int.h lib/intern_int.h

lib/cw.h:

lib/fill_int.h:

lib/l2_int.h:

lib/sched_int.h:

lib/intern_int.h:
