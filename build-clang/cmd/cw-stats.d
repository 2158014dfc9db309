build-clang/cmd/cw-stats.o: cmd/cw-stats.c lib/cw.h cmd/cli.h

lib/cw.h:

cmd/cli.h:
