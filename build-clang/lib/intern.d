build-clang/lib/intern.o: lib/intern.c lib/hash_int.h lib/intern_int.h \
  lib/cw.h

lib/hash_int.h:

lib/intern_int.h:

lib/cw.h:
