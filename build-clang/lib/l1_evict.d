build-clang/lib/l1_evict.o: lib/l1_evict.c lib/cw.h lib/l1_int.h

lib/cw.h:

lib/l1_int.h:
