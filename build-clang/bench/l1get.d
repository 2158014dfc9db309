build-clang/bench/l1get: bench/l1get.c lib/cw.h bench/timing.h \
  lib/hash_int.h

lib/cw.h:

bench/timing.h:

lib/hash_int.h:
