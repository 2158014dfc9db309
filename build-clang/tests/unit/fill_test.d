build-clang/tests/unit/fill_test.o: tests/unit/fill_test.c lib/fill_int.h \
  lib/cw.h lib/l2_int.h tests/unit/helpers.h

lib/fill_int.h:

lib/cw.h:

lib/l2_int.h:

tests/unit/helpers.h:
