build-clang/tests/unit/num_test.o: tests/unit/num_test.c lib/cw.h

lib/cw.h:
