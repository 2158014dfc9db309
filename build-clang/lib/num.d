build-clang/lib/num.o: lib/num.c lib/cw.h

lib/cw.h:
