build-clang/tests/unit/l1_test.o: tests/unit/l1_test.c \
  tests/unit/helpers.h lib/cw.h lib/fs_int.h lib/hash_int.h lib/l1_int.h

tests/unit/helpers.h:

lib/cw.h:

lib/fs_int.h:

lib/hash_int.h:

lib/l1_int.h:
