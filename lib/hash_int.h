/*
 * hash_int.h: the one hash function of the library.
 *
 * XXH3 from libxxhash, compiled inline: no shared library to load at
 * start-up (cw-get's whole run is a few hundred microseconds), and the
 * compiler specialises it for short keys.
 */
#ifndef CW_HASH_INT_H
#define CW_HASH_INT_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t
cw_hash(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

/* From this length on, an x86-64 CPU with AVX2 hashes with it
 * (lib/hash_avx2.c): below it the call costs more than AVX2 saves. */
#define CW_HASH_WIDE_MIN 1024

#if defined(__x86_64__) && !defined(__AVX2__)
#define CW_HASH_DISPATCH 1
uint64_t cw_hash_int_avx2(const void *p, size_t n, uint64_t seed);
#endif

/* The checksum of a value: seeded, so that a record's header is part
 * of its value's check. */
static inline uint64_t
cw_hash_seeded(const void *p, size_t n, uint64_t seed)
{
#ifdef CW_HASH_DISPATCH
	if (n >= CW_HASH_WIDE_MIN && __builtin_cpu_supports("avx2"))
		return cw_hash_int_avx2(p, n, seed);
#endif
	return XXH3_64bits_withSeed(p, n, seed);
}

#endif /* CW_HASH_INT_H */
