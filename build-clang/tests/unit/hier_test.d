build-clang/tests/unit/hier_test.o: tests/unit/hier_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
