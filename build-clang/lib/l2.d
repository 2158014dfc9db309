build-clang/lib/l2.o: lib/l2.c lib/cw.h lib/hash_int.h lib/l2_int.h

lib/cw.h:

lib/hash_int.h:

lib/l2_int.h:
