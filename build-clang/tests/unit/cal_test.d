build-clang/tests/unit/cal_test.o: tests/unit/cal_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
