build-clang/cmd/cli.o: cmd/cli.c lib/cw.h cmd/cli.h

lib/cw.h:

cmd/cli.h:
