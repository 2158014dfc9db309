build-clang/tests/unit/key_test.o: tests/unit/key_test.c lib/cw.h

lib/cw.h:
