build-clang/tests/unit/hash_test.o: tests/unit/hash_test.c lib/hash_int.h

lib/hash_int.h:
