build-clang/tests/unit/view_test.o: tests/unit/view_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
