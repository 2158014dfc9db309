build-clang/lib/err.o: lib/err.c lib/cw.h

lib/cw.h:
