build-clang/tests/unit/predict_test.o: tests/unit/predict_test.c \
  lib/hash_int.h tests/unit/helpers.h lib/cw.h lib/predict_int.h \
  lib/intern_int.h

lib/hash_int.h:

tests/unit/helpers.h:

lib/cw.h:

lib/predict_int.h:

lib/intern_int.h:
