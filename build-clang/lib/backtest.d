build-clang/lib/backtest.o: lib/backtest.c lib/cw.h lib/intern_int.h

lib/cw.h:

lib/intern_int.h:
