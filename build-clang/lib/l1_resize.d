build-clang/lib/l1_resize.o: lib/l1_resize.c lib/cw.h lib/l1_int.h

lib/cw.h:

lib/l1_int.h:
