build-clang/lib/buf.o: lib/buf.c lib/cw.h

lib/cw.h:
