build-clang/lib/predict_out.o: lib/predict_out.c lib/cw.h

lib/cw.h:
