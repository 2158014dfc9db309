build-clang/lib/replay_plot.o: lib/replay_plot.c lib/cw.h \
  lib/calendar_int.h

lib/cw.h:

lib/calendar_int.h:
