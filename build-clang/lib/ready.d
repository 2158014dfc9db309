build-clang/lib/ready.o: lib/ready.c lib/cw.h lib/fill_int.h lib/l2_int.h

lib/cw.h:

lib/fill_int.h:

lib/l2_int.h:
