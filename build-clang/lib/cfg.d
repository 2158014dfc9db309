build-clang/lib/cfg.o: lib/cfg.c lib/cw.h lib/cfg_int.h

lib/cw.h:

lib/cfg_int.h:
