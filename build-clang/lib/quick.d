build-clang/lib/quick.o: lib/quick.c lib/cw.h lib/fill_int.h lib/l2_int.h

lib/cw.h:

lib/fill_int.h:

lib/l2_int.h:
