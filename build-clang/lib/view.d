build-clang/lib/view.o: lib/view.c lib/cw.h lib/out_int.h lib/stats_int.h

lib/cw.h:

lib/out_int.h:

lib/stats_int.h:
