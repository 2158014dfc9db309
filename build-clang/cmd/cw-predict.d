build-clang/cmd/cw-predict.o: cmd/cw-predict.c lib/cw.h cmd/cli.h

lib/cw.h:

cmd/cli.h:
