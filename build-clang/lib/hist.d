build-clang/lib/hist.o: lib/hist.c lib/cw.h

lib/cw.h:
