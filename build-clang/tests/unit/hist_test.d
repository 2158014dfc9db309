build-clang/tests/unit/hist_test.o: tests/unit/hist_test.c lib/cw.h

lib/cw.h:
