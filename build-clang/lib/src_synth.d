build-clang/lib/src_synth.o: lib/src_synth.c lib/cw.h lib/hash_int.h \
  lib/src_int.h

lib/cw.h:

lib/hash_int.h:

lib/src_int.h:
