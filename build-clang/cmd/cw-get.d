build-clang/cmd/cw-get.o: cmd/cw-get.c lib/cw.h cmd/cli.h

lib/cw.h:

cmd/cli.h:
