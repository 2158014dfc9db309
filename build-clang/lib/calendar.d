build-clang/lib/calendar.o: lib/calendar.c lib/cw.h lib/calendar_int.h

lib/cw.h:

lib/calendar_int.h:
