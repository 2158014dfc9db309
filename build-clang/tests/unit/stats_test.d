build-clang/tests/unit/stats_test.o: tests/unit/stats_test.c \
  tests/unit/helpers.h lib/cw.h lib/l1_int.h

tests/unit/helpers.h:

lib/cw.h:

lib/l1_int.h:
