build-clang/lib/src_csv.o: lib/src_csv.c lib/cw.h lib/src_int.h

lib/cw.h:

lib/src_int.h:
