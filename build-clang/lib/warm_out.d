build-clang/lib/warm_out.o: lib/warm_out.c lib/cw.h

lib/cw.h:
