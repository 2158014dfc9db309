build-clang/lib/sched.o: lib/sched.c lib/cw.h lib/sched_int.h

lib/cw.h:

lib/sched_int.h:
