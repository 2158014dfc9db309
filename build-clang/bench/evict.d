build-clang/bench/evict: bench/evict.c lib/cw.h bench/refcache.h

lib/cw.h:

bench/refcache.h:
