build-clang/tests/unit/trace_test.o: tests/unit/trace_test.c \
  tests/unit/helpers.h lib/cw.h lib/trace_int.h lib/intern_int.h

tests/unit/helpers.h:

lib/cw.h:

lib/trace_int.h:

lib/intern_int.h:
