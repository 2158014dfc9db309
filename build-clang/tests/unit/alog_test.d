build-clang/tests/unit/alog_test.o: tests/unit/alog_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
