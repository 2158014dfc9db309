/*
 * hash_avx2.c: XXH3 of a long value with AVX2, which this file alone is
 * compiled for (the Makefile adds -mavx2): the value checksum of an 8 KB
 * entry costs a third of the SSE2 build's, and reads must check every
 * byte they copy. Called only when the CPU has AVX2 (hash_int.h asks);
 * the hash is the same either way, as XXH3 is defined by its output.
 */
#include "hash_int.h"

#if defined(__x86_64__) && defined(__AVX2__)
uint64_t
cw_hash_int_avx2(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}
#endif
