build-clang/bench/noop: bench/noop.c
