build-clang/lib/hier.o: lib/hier.c lib/cw.h lib/fill_int.h lib/l2_int.h

lib/cw.h:

lib/fill_int.h:

lib/l2_int.h:
