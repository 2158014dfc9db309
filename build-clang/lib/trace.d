build-clang/lib/trace.o: lib/trace.c lib/cw.h lib/trace_int.h \
  lib/intern_int.h

lib/cw.h:

lib/trace_int.h:

lib/intern_int.h:
