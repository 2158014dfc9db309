build-clang/lib/src_exec.o: lib/src_exec.c lib/cw.h lib/src_int.h

lib/cw.h:

lib/src_int.h:
