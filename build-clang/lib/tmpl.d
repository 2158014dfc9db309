build-clang/lib/tmpl.o: lib/tmpl.c lib/cw.h

lib/cw.h:
