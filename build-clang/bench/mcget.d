build-clang/bench/mcget: bench/mcget.c
