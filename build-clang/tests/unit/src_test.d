build-clang/tests/unit/src_test.o: tests/unit/src_test.c \
  tests/unit/helpers.h lib/cw.h lib/src_int.h

tests/unit/helpers.h:

lib/cw.h:

lib/src_int.h:
