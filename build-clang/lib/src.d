build-clang/lib/src.o: lib/src.c lib/cw.h lib/src_int.h

lib/cw.h:

lib/src_int.h:
