build-clang/lib/replay.o: lib/replay.c lib/cw.h lib/calendar_int.h \
  lib/fill_int.h lib/l2_int.h lib/intern_int.h lib/trace_int.h

lib/cw.h:

lib/calendar_int.h:

lib/fill_int.h:

lib/l2_int.h:

lib/intern_int.h:

lib/trace_int.h:
