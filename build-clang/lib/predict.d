build-clang/lib/predict.o: lib/predict.c lib/cw.h lib/hash_int.h \
  lib/predict_int.h lib/intern_int.h

lib/cw.h:

lib/hash_int.h:

lib/predict_int.h:

lib/intern_int.h:
