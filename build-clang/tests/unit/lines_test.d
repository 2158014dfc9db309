build-clang/tests/unit/lines_test.o: tests/unit/lines_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
