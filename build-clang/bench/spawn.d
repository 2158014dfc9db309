build-clang/bench/spawn: bench/spawn.c
