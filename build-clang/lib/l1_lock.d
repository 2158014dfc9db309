build-clang/lib/l1_lock.o: lib/l1_lock.c lib/cw.h lib/l1_int.h

lib/cw.h:

lib/l1_int.h:
