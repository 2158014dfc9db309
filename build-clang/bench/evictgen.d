build-clang/bench/evictgen: bench/evictgen.c
