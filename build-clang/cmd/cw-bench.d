build-clang/cmd/cw-bench.o: cmd/cw-bench.c lib/cw.h cmd/cli.h

lib/cw.h:

cmd/cli.h:
