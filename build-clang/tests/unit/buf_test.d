build-clang/tests/unit/buf_test.o: tests/unit/buf_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
