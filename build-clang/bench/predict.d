build-clang/bench/predict: bench/predict.c lib/cw.h bench/timing.h

lib/cw.h:

bench/timing.h:
