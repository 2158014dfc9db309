/*
 * l1_evict: the writer side of the L1 file: the rings, S3-FIFO eviction,
 * the ghost, and the index's upkeep. Everything here runs under the
 * writers' lock (l1_lock.c), and every step is one store that leaves a
 * valid file if the writer dies right after it (l1_int.h, CONCURRENCY).
 * Which of four policies it runs, S3-FIFO, S3-FIFO narrow for Zipf
 * traffic, S3-FIFO frozen for loops larger than the cache or tinylfu for
 * loops mixed with other reads, l1_adapt.c chooses, and says why so.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "l1_int.h"

#define GHOST_PROBES 8

int64_t
cw_l1_int_find_key(struct cw_l1 *l1, uint64_t hash, const char *key,
    size_t klen)
{
	uint64_t mask = l1->nslots - 1, i = hash & mask;

	for (uint64_t n = 0; n < l1->nslots; n++, i = (i + 1) & mask) {
		uint64_t s = l1_slot(l1, i);
		struct l1_rec *r;

		if (s == L1_SLOT_EMPTY)
			return -1;
		if (!l1_slot_live(s) || !l1_slot_tag_matches(s, hash) ||
		    (r = l1_slot_rec(l1, s)) == NULL)
			continue;
		if (r->key_hash == hash && r->key_len == klen &&
		    l1_slot_phys(s) + sizeof(*r) + klen <=
		    l1->ring_size[l1_slot_ring(s)] &&
		    memcmp(r + 1, key, klen) == 0)
			return (int64_t)i;
	}
	return -1;
}

/* Find the slot pointing at (ring, phys), or -1: is a record live? */
static int64_t
find_location(struct cw_l1 *l1, uint64_t hash, int ring, uint64_t phys)
{
	uint64_t mask = l1->nslots - 1, i = hash & mask;

	for (uint64_t n = 0; n < l1->nslots; n++, i = (i + 1) & mask) {
		uint64_t s = l1_slot(l1, i);

		if (s == L1_SLOT_EMPTY)
			return -1;
		if (l1_slot_live(s) && l1_slot_ring(s) == ring &&
		    l1_slot_phys(s) == phys && l1_slot_tag_matches(s, hash))
			return (int64_t)i;
	}
	return -1;
}

void
cw_l1_int_account(struct cw_l1 *l1, int ring, uint64_t rec_bytes, int sign)
{
	struct l1_ring *rg = &l1->hdr->ring[ring];

	if (sign > 0) {
		rg->entries++;
		l1_put(&rg->bytes, rg->bytes + rec_bytes);
	} else {
		rg->entries -= rg->entries > 0;
		l1_put(&rg->bytes, rg->bytes >= rec_bytes ?
		    rg->bytes - rec_bytes : 0);
	}
}

void
cw_l1_int_tombstone(struct cw_l1 *l1, uint64_t i)
{
	struct l1_header *h = l1->hdr;

	l1_store(&l1->slots[i], L1_SLOT_TOMB);
	h->tombstones++;
	l1_put(&h->live_entries, h->live_entries - (h->live_entries > 0));
}

void
cw_l1_int_drop(struct cw_l1 *l1, uint64_t i)
{
	uint64_t s = l1_slot(l1, i);
	const struct l1_rec *r = l1_slot_rec(l1, s);

	cw_l1_int_account(l1, l1_slot_ring(s), r != NULL ? r->rec_bytes : 0,
	    -1);
	cw_l1_int_tombstone(l1, i);
}

int
cw_l1_int_ghost_take(struct cw_l1 *l1, uint64_t hash)
{
	uint64_t mask = l1->ghost_slots - 1;
	uint64_t cap = l1_ghost_share(l1->hdr->max_entries, l1_policy(l1));

	for (uint64_t k = 0; k < GHOST_PROBES && cap > 0; k++) {
		struct l1_ghost *g = &l1->ghost[(hash + k) & mask];

		if (g->hash == hash && l1->hdr->ghost_seq - g->seq < cap) {
			g->hash = 0;
			return 1;
		}
	}
	return 0;
}

static void
ghost_insert(struct cw_l1 *l1, uint64_t hash)
{
	uint64_t mask = l1->ghost_slots - 1, victim = hash & mask;

	for (uint64_t k = 0; k < GHOST_PROBES; k++) {
		uint64_t i = (hash + k) & mask;

		if (l1->ghost[i].hash == hash || l1->ghost[i].hash == 0) {
			victim = i;
			break;
		}
		if (l1->ghost[i].seq < l1->ghost[victim].seq)
			victim = i;
	}
	l1->ghost[victim].hash = hash;
	l1->ghost[victim].seq = l1->hdr->ghost_seq++;
}

int
cw_l1_int_ring_fits(const struct l1_ring *rg, uint64_t need)
{
	uint64_t room = rg->size - (rg->head - rg->tail);
	uint64_t contiguous = rg->size - rg->head % rg->size;

	return need <= contiguous ? need <= room : contiguous + need <= room;
}

/* Forget everything in a ring whose records no longer parse. */
static void
reset_ring(struct cw_l1 *l1, int ring)
{
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1_slot(l1, i);

		if (l1_slot_live(s) && l1_slot_ring(s) == ring) {
			cw_l1_int_tombstone(l1, i);
			l1_count(&l1->hdr->damaged, 1);
		}
	}
	l1->hdr->ring[ring].entries = 0;
	l1_put(&l1->hdr->ring[ring].bytes, 0);
	l1_store(&l1->hdr->ring[ring].tail, l1->hdr->ring[ring].head);
}

/* Leave the record at a ring's tail behind. */
static void
pass_tail(struct l1_ring *rg, uint64_t rec_bytes)
{
	l1_store(&rg->tail, rg->tail + rec_bytes);
}

/* Evict the live entry in slot i whose record sits at the tail. */
static void
evict_entry(struct cw_l1 *l1, struct l1_ring *rg, uint64_t i,
    uint64_t *counter)
{
	uint64_t rec_bytes = l1_slot_rec(l1, l1_slot(l1, i))->rec_bytes;

	cw_l1_int_drop(l1, i);
	l1_count(counter, 1);
	pass_tail(rg, rec_bytes);
}

/* Does the record at phys of a ring parse (whatever a pad or a killed
 * writer left there)? */
static int
tail_parses(const struct l1_ring *rg, const struct l1_rec *r, uint64_t phys)
{
	return r->rec_bytes >= 8 && r->rec_bytes % 8 == 0 &&
	    r->rec_bytes <= rg->head - rg->tail &&
	    phys + r->rec_bytes <= rg->size &&
	    (r->magic == L1_PAD_MAGIC || l1_rec_sane(r, phys, rg->size));
}

static void evict_tail(struct cw_l1 *l1, int ring, unsigned depth);

/* Main's next victim as its CLOCK turns: the slot of the live, unread,
 * unexpired entry at its tail, once every entry before it that was read
 * went round again (S3-FIFO's own step); -1 if none came within a few
 * turns. */
static int64_t
main_victim(struct cw_l1 *l1, unsigned depth)
{
	struct l1_ring *rg = &l1->hdr->ring[L1_MAIN];

	for (unsigned turn = 0; turn < 16 && rg->head != rg->tail; turn++) {
		uint64_t phys = rg->tail % rg->size;
		const struct l1_rec *r = l1_rec_at(l1, L1_MAIN, phys);
		int64_t i;

		if (tail_parses(rg, r, phys) && r->magic != L1_PAD_MAGIC &&
		    (i = find_location(l1, r->key_hash, L1_MAIN, phys)) >= 0 &&
		    l1_slot_freq(l1_slot(l1, (uint64_t)i)) == 0 &&
		    r->expires_ns > cw_clock_calendar_ns(&l1->clock))
			return i;
		evict_tail(l1, L1_MAIN, depth);
	}
	return -1;
}

/*
 * tinylfu's door (l1_int.h): with main full, a key leaving the small
 * queue (the window) takes the place of main's next victim only if the
 * sketch saw it more often; then the victim goes. 1 if it may move.
 */
static int
tinylfu_admits(struct cw_l1 *l1, uint64_t hash, unsigned depth)
{
	int64_t v = main_victim(l1, depth);
	const struct l1_rec *victim;

	if (v < 0)
		return 1;
	victim = l1_slot_rec(l1, l1_slot(l1, (uint64_t)v));
	if (cw_l1_int_sketch_estimate(&l1->sketch, hash) <=
	    cw_l1_int_sketch_estimate(&l1->sketch, victim->key_hash))
		return 0;
	evict_entry(l1, &l1->hdr->ring[L1_MAIN], (uint64_t)v,
	    &l1->hdr->evictions);
	return 1;
}

/*
 * Process the record at a ring's tail, as S3-FIFO says: skip it if dead;
 * from small, move it to main if it was read, else evict it into the
 * ghost; from main, give it another round with one access less if it was
 * read, else evict it. Moving may itself evict in main; depth bounds that
 * recursion (past L1_MAX_DEPTH an entry is evicted instead of moved).
 */
static void
evict_tail(struct cw_l1 *l1, int ring, unsigned depth)
{
	struct l1_ring *rg = &l1->hdr->ring[ring];
	uint64_t phys = rg->tail % rg->size, s, newphys, freq;
	struct l1_rec *r = l1_rec_at(l1, ring, phys);
	struct cw_buf *copy;
	int64_t i;

	if (rg->head == rg->tail)
		return;
	if (!tail_parses(rg, r, phys)) {
		reset_ring(l1, ring);
		return;
	}
	if (r->magic == L1_PAD_MAGIC ||
	    (i = find_location(l1, r->key_hash, ring, phys)) < 0) {
		pass_tail(rg, r->rec_bytes);
		return;
	}
	s = l1_slot(l1, (uint64_t)i);
	freq = l1_slot_freq(s);
	if (r->expires_ns <= cw_clock_calendar_ns(&l1->clock)) {
		evict_entry(l1, rg, (uint64_t)i, &l1->hdr->expirations);
		return;
	}
	/* Its reads in the small queue count in the sketch, whatever the
	 * policy: tinylfu, once chosen, needs the history. */
	if (ring == L1_SMALL)
		cw_l1_int_sketch_add(&l1->sketch, r->key_hash, (unsigned)freq);
	/* tinylfu's window: a key leaves it for main, read or not, if the
	 * door lets it in. */
	if (ring == L1_SMALL && l1_policy(l1) == L1_POLICY_TINYLFU &&
	    depth < L1_MAX_DEPTH && !cw_l1_int_main_has_room(l1) &&
	    !tinylfu_admits(l1, r->key_hash, depth)) {
		evict_entry(l1, rg, (uint64_t)i, &l1->hdr->evictions);
		return;
	}
	/* Frozen, small's keys fill main whether read or not, until it
	 * holds its share: then main keeps them (l1_int.h). */
	if (ring == L1_SMALL && ((freq < L1_MOVE_THRESHOLD &&
	    l1_policy(l1) != L1_POLICY_TINYLFU &&
	    (l1_policy(l1) != L1_POLICY_FREEZE ||
	    !cw_l1_int_main_has_room(l1))) || depth >= L1_MAX_DEPTH)) {
		ghost_insert(l1, r->key_hash);
		evict_entry(l1, rg, (uint64_t)i, &l1->hdr->evictions);
		return;
	}
	if (ring == L1_MAIN && (freq == 0 || depth >= L1_MAX_DEPTH)) {
		evict_entry(l1, rg, (uint64_t)i, &l1->hdr->evictions);
		return;
	}
	if (ring == L1_MAIN) {
		/* Reinsertion into the same ring: copy out first, since
		 * making room at the head may overwrite these very bytes. */
		copy = &l1->scratch[depth];
		if (cw_buf_reserve(copy, r->rec_bytes, NULL) != CW_OK) {
			evict_entry(l1, rg, (uint64_t)i, &l1->hdr->evictions);
			return;
		}
		memcpy(copy->data, r, r->rec_bytes);
		r = (struct l1_rec *)copy->data;
		pass_tail(rg, r->rec_bytes);
		freq--;
	} else {
		freq = 0;	/* a fresh start in main */
	}
	cw_l1_int_account(l1, ring, r->rec_bytes, -1);
	if (cw_l1_int_append(l1, L1_MAIN, r, r + 1,
	    (const char *)(r + 1) + r->key_len, depth + 1, &newphys) !=
	    CW_OK) {
		/* Cannot happen (it fitted before); drop rather than lie. */
		cw_l1_int_tombstone(l1, (uint64_t)i);
		if (ring == L1_SMALL)
			pass_tail(rg, r->rec_bytes);
		return;
	}
	cw_l1_int_account(l1, L1_MAIN, r->rec_bytes, +1);
	l1_store(&l1->slots[i], l1_slot_make(r->key_hash, L1_MAIN, newphys,
	    freq));
	if (ring == L1_SMALL)
		pass_tail(rg, r->rec_bytes);
}

/* Make contiguous room for need bytes at a ring's head. */
static int
make_room(struct cw_l1 *l1, int ring, uint64_t need, unsigned depth)
{
	struct l1_ring *rg = &l1->hdr->ring[ring];

	if (need > rg->size)
		return CW_ETOOBIG;
	while (!cw_l1_int_ring_fits(rg, need)) {
		if (rg->head == rg->tail) {
			/* Empty but wrapped badly: restart at offset 0. */
			uint64_t start = (rg->head / rg->size + 1) * rg->size;

			l1_store(&rg->head, start);
			l1_store(&rg->tail, start);
			break;
		}
		evict_tail(l1, ring, depth);
	}
	return CW_OK;
}

int
cw_l1_int_append(struct cw_l1 *l1, int ring, const struct l1_rec *r,
    const void *key, const void *val, unsigned depth, uint64_t *phys_out)
{
	struct l1_ring *rg = &l1->hdr->ring[ring];
	uint64_t phys, contiguous;
	struct l1_rec *dst;
	int rc;

	if ((rc = make_room(l1, ring, r->rec_bytes, depth)) != CW_OK)
		return rc;
	phys = rg->head % rg->size;
	contiguous = rg->size - phys;
	if (r->rec_bytes > contiguous) {
		struct l1_rec *pad = l1_rec_at(l1, ring, phys);

		pad->rec_bytes = (uint32_t)contiguous;
		pad->magic = L1_PAD_MAGIC;
		l1_store(&rg->head, rg->head + contiguous);
		phys = 0;
	}
	dst = l1_rec_at(l1, ring, phys);
	/* A reader racing with this copy fails its checksum rather than
	 * seeing a mix; the head moves only once the record is whole. */
	memcpy(dst + 1, key, r->key_len);
	if (r->value_len > 0)
		memcpy((char *)(dst + 1) + r->key_len, val, r->value_len);
	memcpy(dst, r, sizeof(*dst));
	memset((char *)(dst + 1) + r->key_len + r->value_len, 0,
	    r->rec_bytes - sizeof(*r) - r->key_len - r->value_len);
	l1_store(&rg->head, rg->head + r->rec_bytes);
	*phys_out = phys;
	return CW_OK;
}

/* S3-FIFO's small queue, in entries, under the policy in force. */
static uint64_t
small_target(const struct cw_l1 *l1)
{
	return l1_small_share(l1->hdr->max_entries, l1_policy(l1));
}

int
cw_l1_int_main_has_room(const struct cw_l1 *l1)
{
	const struct l1_header *h = l1->hdr;

	return h->ring[L1_MAIN].entries + small_target(l1) < h->max_entries;
}

void
cw_l1_int_make_entry_room(struct cw_l1 *l1)
{
	struct l1_header *h = l1->hdr;

	while (h->live_entries >= h->max_entries) {
		int ring;

		if (h->ring[L1_SMALL].head == h->ring[L1_SMALL].tail &&
		    h->ring[L1_MAIN].head == h->ring[L1_MAIN].tail) {
			/* The counts drifted: trust the rings. */
			l1_put(&h->live_entries, 0);
			break;
		}
		ring = (h->ring[L1_SMALL].entries >= small_target(l1) ||
		    h->ring[L1_MAIN].head == h->ring[L1_MAIN].tail) &&
		    h->ring[L1_SMALL].head != h->ring[L1_SMALL].tail ?
		    L1_SMALL : L1_MAIN;
		evict_tail(l1, ring, 0);
	}
}

/* Sweep tombstones: rebuild the index from its live slots. Readers
 * meanwhile may miss an entry, which only costs them a lower level. */
static int
rebuild_index(struct cw_l1 *l1)
{
	struct l1_header *h = l1->hdr;
	uint64_t *live, n = 0, counted = 0, mask = l1->nslots - 1;

	/* Counted, not taken from live_entries: a damaged count must not
	 * size the copy. */
	for (uint64_t i = 0; i < l1->nslots; i++)
		counted += l1_slot_live(l1_slot(l1, i));
	if ((live = malloc(counted * sizeof(*live) + 8)) == NULL)
		return CW_ENOMEM;
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1_slot(l1, i);

		if (l1_slot_live(s) && n < counted)
			live[n++] = s;
	}
	for (uint64_t i = 0; i < l1->nslots; i++)
		l1_store(&l1->slots[i], L1_SLOT_EMPTY);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t hash = l1_rec_at(l1, l1_slot_ring(live[k]),
		    l1_slot_phys(live[k]))->key_hash, i = hash & mask;

		while (l1_slot(l1, i) != L1_SLOT_EMPTY)
			i = (i + 1) & mask;
		l1_store(&l1->slots[i], live[k]);
	}
	l1_put(&h->live_entries, n);
	h->tombstones = 0;
	free(live);
	return CW_OK;
}

/* The first slot from hash's on that is not live, or -1 when none is. */
static int64_t
free_slot(struct cw_l1 *l1, uint64_t hash)
{
	uint64_t mask = l1->nslots - 1, i = hash & mask;

	for (uint64_t n = 0; n < l1->nslots; n++, i = (i + 1) & mask)
		if (!l1_slot_live(l1_slot(l1, i)))
			return (int64_t)i;
	return -1;
}

/* The index has room for twice max_entries, so only a damaged one
 * (every slot marked live) is full: it is repaired, and if even that
 * leaves no room the entry is dropped. */
int
cw_l1_int_insert_slot(struct cw_l1 *l1, uint64_t hash, uint64_t slot)
{
	struct l1_header *h = l1->hdr;
	int64_t i;

	if ((h->live_entries + h->tombstones + 1) * 4 > l1->nslots * 3)
		rebuild_index(l1);
	if ((i = free_slot(l1, hash)) < 0) {
		cw_l1_int_repair(l1);
		rebuild_index(l1);
		if ((i = free_slot(l1, hash)) < 0)
			return CW_EIO;
	}
	if (l1_slot(l1, (uint64_t)i) == L1_SLOT_TOMB)
		h->tombstones -= h->tombstones > 0;
	l1_store(&l1->slots[i], slot);
	l1_put(&h->live_entries, h->live_entries + 1);
	return CW_OK;
}
