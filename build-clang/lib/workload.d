build-clang/lib/workload.o: lib/workload.c lib/cw.h

lib/cw.h:
