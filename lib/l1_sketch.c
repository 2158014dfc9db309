/*
 * l1_sketch: how often a key was seen lately, in four bytes an entry,
 * for the tinylfu policy's door (l1_int.h, THE POLICY'S CHOICE).
 *
 * A count-min sketch (Cormode and Muthukrishnan) laid out as Caffeine
 * lays its own: a key's four counters in one 64-byte line, so that
 * counting it touches one cache line, not four. Counters saturate at 15
 * and are all halved after ten adds an entry, so that the past fades
 * (TinyLFU's reset). Only writers count, under the lock: a key's misses
 * as they are stored, its reads when it leaves the small queue (a
 * reader counts nothing here; its reads are the slot's count).
 * Everything here is a hint: a damaged line miscounts a few keys, never
 * loses one. (Sixteen 4-bit counters in a word, two keys a word or one,
 * collide more: a loop mixed with Zipf reads lost 0.008 and 0.017
 * against this, and with two keys a word a pure loop flapped.)
 */
#include "cw.h"
#include "l1_int.h"

#define COUNTER_MAX 15u
#define ADDS_PER_ENTRY 10u

uint64_t
cw_l1_int_sketch_lines(uint64_t entries)
{
	/* Sixteen keys a line: four bytes an entry. */
	return l1_pow2_at_least(entries / 16 + 1);
}

static uint8_t *
line_of(const struct l1_sketch *s, uint64_t hash)
{
	return s->counters + (hash & (s->lines - 1)) * L1_SKETCH_LINE;
}

/* Counter d of hash in its line: bits apart from the line's index. */
#define COUNTER(hash, d) ((unsigned)((hash) >> (40 + 6 * (d))) & \
	(L1_SKETCH_LINE - 1))

unsigned
cw_l1_int_sketch_estimate(const struct l1_sketch *s, uint64_t hash)
{
	const uint8_t *line = line_of(s, hash);
	unsigned a = line[COUNTER(hash, 0)], b = line[COUNTER(hash, 1)];
	unsigned c = line[COUNTER(hash, 2)], d = line[COUNTER(hash, 3)];

	a = a < b ? a : b;
	c = c < d ? c : d;
	a = a < c ? a : c;
	return a < COUNTER_MAX ? a : COUNTER_MAX;
}

static void
bump(uint8_t *v, unsigned n)
{
	unsigned x = *v + n;

	*v = (uint8_t)(x < COUNTER_MAX ? x : COUNTER_MAX);
}

void
cw_l1_int_sketch_add(struct l1_sketch *s, uint64_t hash, unsigned n)
{
	uint8_t *line = line_of(s, hash);
	uint64_t limit = s->entries * ADDS_PER_ENTRY;

	if (n == 0)
		return;
	bump(&line[COUNTER(hash, 0)], n);
	bump(&line[COUNTER(hash, 1)], n);
	bump(&line[COUNTER(hash, 2)], n);
	bump(&line[COUNTER(hash, 3)], n);
	if ((*s->adds += n) < limit)
		return;
	for (uint64_t k = 0; k < s->lines * L1_SKETCH_LINE; k++)
		s->counters[k] >>= 1;
	/* A count far past the limit is a damaged file's: start over rather
	 * than halve the sketch at every add until it comes back. */
	*s->adds = *s->adds < 2 * limit ? *s->adds / 2 : 0;
}
