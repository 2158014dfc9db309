/*
 * l1_int.h: the layout of the L1 file, for lib/l1.c and its tests.
 *
 * THE FILE
 *
 * One file, mapped MAP_SHARED by every process on the host. All positions
 * are byte offsets from the start of the file, never pointers, so every
 * process may map it anywhere. All integers are host-endian fixed-width:
 * the file never leaves its host.
 *
 *   offset 0        struct l1_header (4 KiB, padded)
 *   index_off       u64 slot[nslots]          the hash index
 *   ghost_off       struct l1_ghost[ghost_slots]  S3-FIFO's ghost queue
 *   stats_off       struct l1_stripe[L1_STRIPES]  shared counters
 *   ring[0].off     small ring: L1_SMALL_PCT of max_bytes, new entries
 *   ring[1].off     main ring: the rest, entries that proved useful
 *
 * THE INDEX
 *
 * Open addressing with linear probing over nslots (a power of two, at
 * least twice max_entries, so the live load stays below 1/2). A slot is
 * one u64, read and written atomically, so a reader sees either the old or
 * the new slot, never half of each:
 *
 *   0                   empty: ends a probe
 *   1                   tombstone: a deleted entry, probing goes on
 *   bit 63              1: live
 *   bits 62..61         S3-FIFO access count, 0..3 (readers bump it by CAS)
 *   bits 60..40         tag: bits 63..43 of the key hash, filters probes
 *   bit 39              ring: 0 small, 1 main
 *   bits 38..0          offset of the record in its ring, divided by 8
 *
 * Deleting writes a tombstone (one store), so a writer killed between any
 * two stores leaves a valid index. Tombstones are swept by rebuilding the
 * index once live + tombstones pass 3/4 of the slots.
 *
 * THE RINGS
 *
 * Each ring is a circular byte log of records, head and tail being
 * ever-growing logical positions (physical = logical mod size). Writers
 * append at head and evict at tail, which is exactly the FIFO order
 * S3-FIFO wants, and no allocator can fragment. A record that does not fit
 * before the end of the ring is preceded by a pad record filling the rest.
 * Records are 8-byte aligned:
 *
 *   u32 rec_bytes     whole record including padding, multiple of 8
 *   u16 magic         L1_REC_MAGIC or L1_PAD_MAGIC
 *   u16 key_len
 *   u32 value_len
 *   u32 flags         CW_L1_NEGATIVE
 *   i64 expires_ns    wall clock
 *   u64 key_hash      XXH3 of the key
 *   u64 checksum      XXH3 of the value, seeded by the fields above
 *   key bytes, value bytes, zero padding
 *
 * A record is live when its slot points at it; a superseded or deleted
 * record stays in the ring until the tail passes it, then is skipped.
 *
 * CONCURRENCY
 *
 * Readers take no lock. They read a slot, copy the record's value out, and
 * accept it only if the checksum, seeded by the key's own hash, matches:
 * a record overwritten while it was being copied (its space reused after
 * eviction) fails the check, and the reader retries, then reports a miss.
 * A reader therefore never returns a torn value or another key's value.
 *
 * Writers (set, delete, eviction) are serialised by one robust
 * process-shared mutex in the header. Every step of a write is a single
 * store (record bytes first, then head, then the slot), so a writer killed
 * at any instant leaves at worst an orphan record, a stale slot or wrong
 * counters. The next writer gets EOWNERDEAD and runs a repair: it checks
 * every live slot against its record (bounds, key hash, checksum),
 * tombstones what fails, and recounts.
 *
 * STATS
 *
 * Counters and latency histograms live in L1_STRIPES stripes; each process
 * counts into the stripe of its pid, so processes counting at once rarely
 * share a cache line. Readers of the stats sum the stripes.
 */
#ifndef CW_L1_INT_H
#define CW_L1_INT_H

#include <pthread.h>
#include <stdint.h>

#include "cw.h"

#define L1_MAGIC "CWL1\r\n\032\n"	/* 8 bytes: text tools balk at it */
#define L1_VERSION 3u
#define L1_HEADER_BYTES 4096u
#define L1_STRIPES 8u
#define L1_REC_MAGIC 0xc1e1u
#define L1_PAD_MAGIC 0xc1adu
#define L1_MAX_ENTRIES (1u << 24)
#define L1_MIN_RING 4096u

#define L1_SLOT_EMPTY 0u
#define L1_SLOT_TOMB 1u
#define L1_SLOT_LIVE (1ull << 63)
#define L1_FREQ_SHIFT 61
#define L1_FREQ_MASK (3ull << L1_FREQ_SHIFT)
#define L1_TAG_SHIFT 40
#define L1_TAG_MASK (0x1fffffull << L1_TAG_SHIFT)
#define L1_RING_BIT (1ull << 39)
#define L1_OFF_MASK ((1ull << 39) - 1)

enum { L1_SMALL = 0, L1_MAIN = 1 };

/* How long a writer waits for the lock before calling its holder stuck
 * (writers hold it for microseconds), and how long after that a handle
 * only tries it. */
#define L1_LOCK_WAIT_MS 2000
#define L1_LOCK_BACKOFF_S 10

/* How deep moving an entry may recurse into evicting others. */
#define L1_MAX_DEPTH 8u

struct l1_ring {
	uint64_t off;		/* start of the ring in the file */
	uint64_t size;		/* bytes, multiple of 8 */
	uint64_t head;		/* logical: next byte to write (atomic) */
	uint64_t tail;		/* logical: oldest byte in use (atomic) */
	uint64_t entries;	/* live entries in this ring (writer) */
	uint64_t bytes;		/* their record bytes (writer) */
	uint64_t reserved[2];
};
_Static_assert(sizeof(struct l1_ring) == 64, "ring is one cache line");

struct l1_header {
	/* Identity and geometry: written once at creation, checked on open. */
	char magic[8];
	uint32_t version;
	uint32_t header_bytes;
	uint64_t file_bytes;
	uint64_t max_entries;
	uint64_t max_bytes;
	uint64_t nslots;
	uint64_t index_off;
	uint64_t ghost_slots;
	uint64_t ghost_off;
	uint64_t stats_off;
	uint64_t stripe_bytes;
	int64_t created_ns;
	uint64_t geometry_hash;	/* XXH3 of the fields above */
	uint8_t pad0[24];

	/* The writers' lock, alone on its cache line. */
	union {
		pthread_mutex_t mutex;
		uint8_t bytes[64];
	} lock;

	/* Writer state: changed only under the lock. */
	struct l1_ring ring[2];
	uint64_t live_entries;
	uint64_t tombstones;
	uint64_t ghost_seq;	/* insertions into the ghost so far */
	uint8_t pad1[40];

	/* Event counters (atomic, any process). */
	uint64_t sets;
	uint64_t evictions;
	uint64_t expirations;
	uint64_t damaged;
	uint64_t too_big;
	uint64_t repairs;
	uint64_t stripe_next;	/* unused: stripes go by pid */
	int64_t reset_ns;	/* when counters were last zeroed, or 0 */
};
_Static_assert(sizeof(pthread_mutex_t) <= 64, "mutex fits its line");
_Static_assert(offsetof(struct l1_header, lock) == 128, "lock offset");
_Static_assert(offsetof(struct l1_header, ring) == 192, "ring offset");
_Static_assert(offsetof(struct l1_header, sets) == 384, "counters offset");
_Static_assert(sizeof(struct l1_header) == 448, "header size");
_Static_assert(sizeof(struct l1_header) <= L1_HEADER_BYTES, "header fits");

struct l1_rec {
	uint32_t rec_bytes;
	uint16_t magic;
	uint16_t key_len;
	uint32_t value_len;
	uint32_t flags;
	int64_t expires_ns;
	uint64_t key_hash;
	uint64_t checksum;
};
_Static_assert(sizeof(struct l1_rec) == 40, "record header size");

/* The ghost: hashes of keys recently evicted from the small ring, with
 * the ghost insertion number, so age = ghost_seq - seq. */
struct l1_ghost {
	uint64_t hash;
	uint64_t seq;
};

/* Latencies are laid out bucket-major, [bucket][level, then the whole
 * lookup]: one lookup's counts (its level and the whole, of about the same
 * latency) land on one page, which a short process touches only once. */
#define L1_HIST_OVERALL CW_LEVEL_COUNT

/* Throughput: lookups per 10-second tick, in a ring covering 15 minutes.
 * tick_epoch says which tick (wall seconds / 10) a slot counts, so a
 * slot left from an hour ago is recognised as stale and restarted. */
#define L1_TICK_S 10
#define L1_TICKS 96
struct l1_stripe {
	uint64_t results[CW_LEVEL_COUNT][CW_RESULT_COUNT];
	uint64_t tick_epoch[L1_TICKS];
	uint64_t tick_count[L1_TICKS];
	uint64_t latency[CW_HIST_BUCKETS][CW_LEVEL_COUNT + 1];
};

struct cw_l1 {
	int fd;
	char *map;
	size_t map_bytes;
	struct l1_header *hdr;
	uint64_t *slots;
	uint64_t nslots;		/* copies of the fixed geometry */
	char *ring_base[2];
	uint64_t ring_size[2];
	struct l1_ghost *ghost;
	struct l1_stripe *stripe;	/* this handle's */
	struct cw_clock clock;
	int64_t lock_stuck_until_s;	/* monotonic: only try until then */
	struct cw_buf scratch[L1_MAX_DEPTH];	/* copies for reinsertion */
	char *path;			/* for messages */
};

/*
 * S3-FIFO's parameters, chosen by replaying ../shared/traces (bench/evict;
 * the sweep is in bench/RESULTS.md): an entry leaving the small queue
 * moves to main when it was read at least L1_MOVE_THRESHOLD times there;
 * the small queue holds L1_SMALL_PCT percent of the entries and of the
 * bytes; the ghost remembers L1_GHOST_PCT percent of the capacity in
 * evicted keys. The paper's 10% small and a ghost the size of main lose
 * to these on five of the six trace/size pairs.
 */
#define L1_MOVE_THRESHOLD 2u
#define L1_SMALL_PCT 15u
#define L1_GHOST_PCT 140u

/* Check the whole file under the writer lock and repair what is damaged:
 * what a writer's death triggers, and what tests call directly. Returns
 * the number of entries dropped. */
uint64_t cw_l1_int_repair(struct cw_l1 *l1);

#endif /* CW_L1_INT_H */
