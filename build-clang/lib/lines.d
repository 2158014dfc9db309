build-clang/lib/lines.o: lib/lines.c lib/cw.h

lib/cw.h:
