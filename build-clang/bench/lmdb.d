build-clang/bench/lmdb: bench/lmdb.c lib/cw.h bench/timing.h

lib/cw.h:

bench/timing.h:
