build-clang/bench/redisget: bench/redisget.c
