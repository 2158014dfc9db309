build-clang/lib/predict_io.o: lib/predict_io.c lib/cw.h lib/fs_int.h \
  lib/hash_int.h lib/predict_int.h lib/intern_int.h

lib/cw.h:

lib/fs_int.h:

lib/hash_int.h:

lib/predict_int.h:

lib/intern_int.h:
