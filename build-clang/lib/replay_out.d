build-clang/lib/replay_out.o: lib/replay_out.c lib/cw.h lib/trace_int.h \
  lib/intern_int.h

lib/cw.h:

lib/trace_int.h:

lib/intern_int.h:
