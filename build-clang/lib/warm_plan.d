build-clang/lib/warm_plan.o: lib/warm_plan.c lib/cw.h lib/calendar_int.h

lib/cw.h:

lib/calendar_int.h:
