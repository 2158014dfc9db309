build-clang/lib/clock.o: lib/clock.c lib/cw.h

lib/cw.h:
