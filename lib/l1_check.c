/*
 * l1_check: what of the L1 file may be believed, and putting it right.
 *
 * A file is shared with every process on the host, survives their
 * deaths, and may be damaged or crafted. Three things are checked here
 * and nowhere else: the header on open (every field that locates
 * anything), the writers' state when the lock is taken, and whether an
 * entry is whole. Repair and verify both use the last one, so they can
 * never disagree on what is damaged.
 */
#include <string.h>

#include "cw.h"
#include "hash_int.h"
#include "l1_int.h"

/*
 * Does every field that locates something (the index, the ghost, the
 * stats, both rings, the file's size) say what the plan makes of the
 * capacity? The geometry hash catches damage, not a crafted header, and
 * does not cover the rings: this check is what makes a header that
 * points outside the file impossible, whatever its bytes.
 */
static int
geometry_planned(const struct l1_header *h)
{
	struct l1_header want;

	if (cw_l1_int_plan(&want, h->max_entries, h->max_bytes, h->created_ns,
	    NULL) != CW_OK)
		return 0;
	for (int ring = 0; ring < 2; ring++)
		if (h->ring[ring].off != want.ring[ring].off ||
		    h->ring[ring].size != want.ring[ring].size)
			return 0;
	return h->nslots == want.nslots && h->index_off == want.index_off &&
	    h->ghost_slots == want.ghost_slots &&
	    h->ghost_off == want.ghost_off && h->stats_off == want.stats_off &&
	    h->adapt_off == want.adapt_off && h->mini_cap == want.mini_cap &&
	    h->stripe_bytes == want.stripe_bytes &&
	    h->file_bytes == want.file_bytes;
}

int
cw_l1_int_check_header(const struct l1_header *h, uint64_t st_size,
    const char *path, struct cw_err *err)
{
	if (st_size < L1_HEADER_BYTES || memcmp(h->magic, L1_MAGIC, 8) != 0)
		return cw_err_set(err, CW_EFOREIGN, 0,
		    "%s: not a cachewarm L1 file (refusing to touch it)", path);
	if (h->version != L1_VERSION)
		return cw_err_set(err, CW_EVERSION, 0,
		    "%s: L1 format version %u, this build reads %u "
		    "(remove the file to recreate it)", path, h->version,
		    L1_VERSION);
	if (h->header_bytes != sizeof(*h) || h->geometry_hash !=
	    cw_l1_int_geometry_hash(h) || h->file_bytes != st_size ||
	    !geometry_planned(h))
		return cw_err_set(err, CW_EFOREIGN, 0,
		    "%s: L1 header damaged or file truncated "
		    "(remove the file to recreate it)", path);
	return CW_OK;
}

/* Are a ring's positions ones a writer could leave? */
static int
ring_positions_sane(const struct l1_ring *rg)
{
	return rg->head >= rg->tail && rg->head - rg->tail <= rg->size &&
	    (rg->head | rg->tail) % 8 == 0;
}

/* Positions and counts that no writer could have left (a damaged or
 * crafted file) would send eviction and the index's upkeep out of
 * bounds. */
int
cw_l1_int_writer_state_sane(const struct l1_header *h)
{
	for (int ring = 0; ring < 2; ring++) {
		const struct l1_ring *rg = &h->ring[ring];

		if (!ring_positions_sane(rg) || rg->entries > h->max_entries ||
		    rg->bytes > rg->size)
			return 0;
	}
	return h->live_entries <= h->nslots && h->tombstones <= h->nslots;
}

/* Is phys inside the used part [tail, head) of a ring, whole? */
static int
in_window(const struct l1_ring *rg, uint64_t phys, uint64_t rec_bytes)
{
	uint64_t used = rg->head - rg->tail;
	uint64_t from_tail = (phys + rg->size - rg->tail % rg->size) % rg->size;

	return from_tail + rec_bytes <= used;
}

const struct l1_rec *
cw_l1_int_entry_whole(const struct cw_l1 *l1, uint64_t s)
{
	const struct l1_ring *rg = &l1->hdr->ring[l1_slot_ring(s)];
	const struct l1_rec *r = l1_slot_rec(l1, s);
	const char *key;

	if (r == NULL || !l1_rec_sane(r, l1_slot_phys(s), rg->size) ||
	    !in_window(rg, l1_slot_phys(s), r->rec_bytes) ||
	    !l1_slot_tag_matches(s, r->key_hash))
		return NULL;
	key = (const char *)(r + 1);
	if (cw_hash(key, r->key_len) != r->key_hash ||
	    cw_hash_seeded(key + r->key_len, r->value_len,
	    l1_rec_seed(r->key_hash, r)) != r->checksum)
		return NULL;
	return r;
}

uint64_t
cw_l1_int_repair(struct cw_l1 *l1)
{
	struct l1_header *h = l1->hdr;
	uint64_t dropped = 0, live = 0, tombs = 0;

	for (int ring = 0; ring < 2; ring++) {
		struct l1_ring *rg = &h->ring[ring];

		if (!ring_positions_sane(rg)) {
			/* Positions no writer leaves: the ring starts over
			 * empty (its entries fail the window check below). */
			l1_store(&rg->head, rg->head & ~(uint64_t)7);
			l1_store(&rg->tail, rg->head);
		}
		rg->entries = 0;
		l1_put(&rg->bytes, 0);
	}
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1_slot(l1, i);
		const struct l1_rec *r;

		if (s == L1_SLOT_TOMB)
			tombs++;
		if (!l1_slot_live(s))
			continue;
		if ((r = cw_l1_int_entry_whole(l1, s)) != NULL) {
			cw_l1_int_account(l1, l1_slot_ring(s), r->rec_bytes,
			    +1);
			live++;
			continue;
		}
		cw_l1_int_tombstone(l1, i);
		tombs++;
		dropped++;
	}
	/* Recounted from the index, whatever the counts said before. */
	l1_put(&h->live_entries, live);
	h->tombstones = tombs;
	l1_count(&h->damaged, dropped);
	l1_count(&h->repairs, 1);
	/* The miniatures may be half-fed: their choice starts over. */
	cw_l1_int_adapt_reset(l1);
	return dropped;
}

int
cw_l1_verify(struct cw_l1 *handle, struct cw_l1_verify *out, struct cw_err *err)
{
	struct cw_l1 *l1 = l1_live(handle);
	uint64_t live = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cw_l1_int_lock(l1, err)) != CW_OK)
		return rc;
	for (int ring = 0; ring < 2; ring++)
		if (!ring_positions_sane(&l1->hdr->ring[ring]))
			out->bad_rings++;
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1_slot(l1, i);

		if (!l1_slot_live(s))
			continue;
		out->checked++;
		if (cw_l1_int_entry_whole(l1, s) != NULL)
			live++;
		else
			out->damaged++;
	}
	out->count_mismatch = live + out->damaged != l1->hdr->live_entries;
	cw_l1_int_unlock(l1);
	return CW_OK;
}
