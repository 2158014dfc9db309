build-clang/tests/unit/journal_test.o: tests/unit/journal_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
