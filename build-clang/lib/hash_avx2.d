build-clang/lib/hash_avx2.o: lib/hash_avx2.c lib/hash_int.h

lib/hash_int.h:
