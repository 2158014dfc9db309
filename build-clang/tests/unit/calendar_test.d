build-clang/tests/unit/calendar_test.o: tests/unit/calendar_test.c \
  tests/unit/helpers.h lib/cw.h lib/calendar_int.h

tests/unit/helpers.h:

lib/cw.h:

lib/calendar_int.h:
