build-clang/lib/src_ch.o: lib/src_ch.c lib/cw.h lib/cfg_int.h \
  lib/src_int.h

lib/cw.h:

lib/cfg_int.h:

lib/src_int.h:
