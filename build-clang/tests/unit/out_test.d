build-clang/tests/unit/out_test.o: tests/unit/out_test.c lib/cw.h

lib/cw.h:
