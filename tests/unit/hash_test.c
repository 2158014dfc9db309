#include <criterion/criterion.h>
#include <stdlib.h>

#include "hash_int.h"

/* The L1 file's checksums must not depend on the CPU that wrote them:
 * the AVX2 build of XXH3 (lib/hash_avx2.c) gives the portable one's
 * hash at every length around and past where it takes over. */
Test(hash, the_checksum_is_the_same_on_every_path)
{
	enum { MAX = 3 * CW_HASH_WIDE_MIN + 77 };
	unsigned char *p = malloc(MAX);
	uint64_t x = 7;

	cr_assert_not_null(p);
	for (size_t i = 0; i < MAX; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
	for (size_t n = CW_HASH_WIDE_MIN - 70; n < MAX; n += 7)
		for (size_t off = 0; off < 3; off++)
			cr_assert_eq(cw_hash_seeded(p + off, n - off, n * 31),
			    XXH3_64bits_withSeed(p + off, n - off, n * 31),
			    "length %zu", n - off);
	free(p);
}
