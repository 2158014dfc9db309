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

static inline uint64_t
cw_hash_seeded(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

#endif /* CW_HASH_INT_H */
