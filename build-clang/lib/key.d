build-clang/lib/key.o: lib/key.c lib/cw.h

lib/cw.h:
