build-clang/cmd/cw-warm.o: cmd/cw-warm.c lib/cw.h cmd/cli.h

lib/cw.h:

cmd/cli.h:
