build-clang/tests/unit/cfg_test.o: tests/unit/cfg_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
