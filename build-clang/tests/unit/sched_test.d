build-clang/tests/unit/sched_test.o: tests/unit/sched_test.c \
  tests/unit/helpers.h lib/cw.h lib/sched_int.h

tests/unit/helpers.h:

lib/cw.h:

lib/sched_int.h:
