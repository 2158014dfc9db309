build-clang/lib/out.o: lib/out.c lib/cw.h lib/out_int.h

lib/cw.h:

lib/out_int.h:
