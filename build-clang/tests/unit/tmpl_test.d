build-clang/tests/unit/tmpl_test.o: tests/unit/tmpl_test.c \
  tests/unit/helpers.h lib/cw.h

tests/unit/helpers.h:

lib/cw.h:
