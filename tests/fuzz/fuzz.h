/*
 * fuzz.h: what the libFuzzer harnesses in tests/fuzz/ share. Each
 * harness feeds one parser of lib/ whatever libFuzzer makes, and checks
 * what must hold of any input: no crash, no leak, no hang (libFuzzer and
 * the sanitizers see those), and where the parser has one, a round trip.
 * make fuzz runs them long; make check-fuzz runs each for a few seconds
 * from its seed corpus in tests/fuzz/corpus/NAME/.
 */
#ifndef CW_FUZZ_H
#define CW_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cw.h"

/* Stop on a broken promise: libFuzzer saves the input that did it. */
#define FUZZ_ASSERT(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

/* A file of this process's own holding data, for parsers that read
 * paths: the same name every input, in a directory made once. */
static inline const char *
fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char dir[4096], path[4200];
	FILE *f;

	if (dir[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/cw-fuzz.%ld",
		    tmp != NULL && *tmp != '\0' ? tmp : "/tmp", (long)getpid());
		if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0)
			abort();
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	return path;
}

#endif /* CW_FUZZ_H */
