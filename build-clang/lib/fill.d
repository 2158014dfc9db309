build-clang/lib/fill.o: lib/fill.c lib/cw.h lib/fill_int.h lib/l2_int.h \
  lib/src_int.h

lib/cw.h:

lib/fill_int.h:

lib/l2_int.h:

lib/src_int.h:
