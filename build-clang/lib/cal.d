build-clang/lib/cal.o: lib/cal.c lib/cw.h

lib/cw.h:
