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
 *   adapt_off       struct l1_adapt, the sampled lookups' rings and two
 *                   miniature caches: the policy's choice (l1_adapt.c)
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
 * share a cache line. Readers of the stats sum the stripes. Each role
 * (reader, warmer) has its own outcome counts; latencies and the
 * recent minutes (struct l1_window) are the readers'.
 */
#ifndef CW_L1_INT_H
#define CW_L1_INT_H

#include <pthread.h>
#include <stdint.h>

#include "cw.h"

#define L1_MAGIC "CWL1\r\n\032\n"	/* 8 bytes: text tools balk at it */
#define L1_VERSION 7u
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
	uint64_t adapt_off;
	uint64_t mini_cap;	/* entries of each miniature cache */
	uint64_t geometry_hash;	/* XXH3 of the fields above */
	/* Set once, by a resize, after the file that replaces this one has
	 * been renamed over its path: every handle reopens the path on its
	 * next operation. Beside the geometry, on a line nobody writes, so
	 * looking at it costs readers no cache miss. */
	uint64_t moved;

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
	uint64_t stale_served;	/* stale-if-error answers (once unused:
				   files made before count from 0) */
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

/*
 * The recent past: the readers' counts and whole-lookup latencies of
 * each wall-clock minute, in a ring of L1_WINDOWS slots, so that a
 * monitor judges the last few minutes (cw-stats --window) and one bad
 * hour does not alarm forever. minute says which minute (wall seconds /
 * 60) a slot counts. The first recorder of a new minute restarts the
 * slot: it marks it (L1_WINDOW_RESTART | minute), zeroes it, then
 * publishes the minute; while marked, recorders skip it and readers
 * leave it out, so a stale count is never read as current. A marker
 * left by a killed process is taken over by the next minute's first
 * recorder.
 */
#define L1_WINDOW_S 60
#define L1_WINDOWS 16		/* the running minute and 15 whole ones */
#define L1_WINDOW_RESTART (1ull << 63)
struct l1_window {
	uint64_t minute;
	uint64_t results[CW_LEVEL_COUNT][CW_RESULT_COUNT];
	uint64_t latency[CW_HIST_BUCKETS];
};

/* One process's counts (a stripe): every role's outcomes per level; the
 * readers' latencies (a warmer's waits are in its journal) and their
 * recent minutes. */
struct l1_stripe {
	uint64_t results[CW_ROLE_COUNT][CW_LEVEL_COUNT][CW_RESULT_COUNT];
	uint64_t latency[CW_HIST_BUCKETS][CW_LEVEL_COUNT + 1];
	struct l1_window window[L1_WINDOWS];
};

/*
 * THE POLICY'S CHOICE (l1_adapt.c)
 *
 * The eviction above runs one of four policies, chosen while the cache
 * runs: S3-FIFO with the split below; S3-FIFO narrow (a small queue of
 * L1_NARROW_SMALL_PCT and a ghost of L1_NARROW_GHOST_PCT, S3-FIFO's
 * published split nearly: more room for keys read often, which Zipf
 * traffic rewards); S3-FIFO frozen for loops larger than the cache
 * (a small queue of L1_FROZEN_SMALL_PCT, and main, once full, taking
 * only keys read in small: it keeps the part of a loop that fits and
 * hits on it every pass, where S3-FIFO evicts each key just before its
 * reuse); or tinylfu (W-TinyLFU's door on these rings: a window of
 * L1_TINYLFU_WINDOW_PCT, no ghost, and a key leaving the window enters a
 * full main only if a sketch of recent misses and reads (l1_sketch.c)
 * saw it more often than main's next victim: loops mixed with other
 * reads). All four also run as miniature caches over a spatial sample
 * of the keys (those whose hash has sample_mask's bits clear), fed by
 * the lookups themselves: a reader appends a sampled key's hash to its
 * stripe's ring (one atomic add, one store; a ring per stripe, as the
 * counters have, so that processes do not fight over one cache line), a
 * writer feeds the rings to all four under its lock and takes the
 * policy whose miniature missed less (l1_adapt.c says how). Everything
 * here is a hint: a value a killed writer left half-made costs a worse
 * choice, never an entry.
 */
#define L1_MINI_MAX 4096u		/* entries of a miniature at most */
#define L1_FROZEN_SMALL_PCT 1u
#define L1_NARROW_SMALL_PCT 5u
#define L1_NARROW_GHOST_PCT 90u
#define L1_TINYLFU_WINDOW_PCT 1u

/* The order is the choice's: a near tie goes to the first. */
enum {
	L1_POLICY_S3FIFO = CW_EVICTION_S3FIFO,
	L1_POLICY_NARROW = CW_EVICTION_NARROW,
	L1_POLICY_FREEZE = CW_EVICTION_FROZEN,
	L1_POLICY_TINYLFU = CW_EVICTION_TINYLFU,
	L1_POLICIES
};

/* A count-min sketch's view (l1_sketch.c): lines of L1_SKETCH_LINE
 * one-byte counters in the file, and its count of adds. */
#define L1_SKETCH_LINE 64u
struct l1_sketch {
	uint8_t *counters;
	uint64_t lines;		/* a power of two */
	uint64_t entries;	/* of the cache it counts for */
	uint64_t *adds;
};

/* One miniature cache's state: its queues are rings of key hashes in
 * the region, their entries' places and counts in a table of slots. */
struct l1_mini {
	uint64_t n_small, n_main;
	uint64_t small_head, small_tail, main_head, main_tail;
	uint64_t ghost_seq, misses;
	uint64_t sketch_adds;	/* tinylfu's: its sketch's adds */
};

struct l1_mini_slot {
	uint64_t hash;		/* the key's hash | 1; 0: free */
	uint64_t state;		/* where (2 bits), reads (2), ghost number */
};

/* A stripe's readers' next sample number, alone on its line. */
struct l1_sample_head {
	uint64_t next;
	uint8_t pad[56];
};

struct l1_adapt {
	struct l1_sample_head head[L1_STRIPES];	/* readers add here */
	/* Writer state, under the lock. */
	uint64_t tail[L1_STRIPES];	/* each ring's next sample to feed */
	uint64_t unfed;		/* stores since the rings were fed */
	uint64_t sampled;	/* samples fed to the miniatures */
	uint64_t policy;	/* L1_POLICY_*; anything else: S3-FIFO */
	uint64_t switches;
	uint64_t score[L1_POLICIES];	/* decayed misses per epoch */
	uint64_t last_misses[L1_POLICIES];
	/* Each policy's lead over each other, in misses an epoch, decayed
	 * as the scores are, and its square's. */
	int64_t lead[L1_POLICIES][L1_POLICIES];
	uint64_t lead_sq[L1_POLICIES][L1_POLICIES];
	uint64_t sketch_adds;	/* the cache's sketch's adds */
	struct l1_mini mini[L1_POLICIES];
};

struct cw_l1 {
	int fd;
	int read_only;			/* mapped PROT_READ: no lock, no counts */
	char *map;
	size_t map_bytes;
	struct l1_header *hdr;
	/* Copies of the fixed geometry, checked once on open: a header
	 * damaged later by another process cannot move what is read. */
	uint64_t *slots;
	uint64_t nslots;
	char *ring_base[2];
	uint64_t ring_size[2];
	struct l1_ghost *ghost;
	uint64_t ghost_slots;
	char *stripes;			/* the first of L1_STRIPES */
	uint64_t stripe_bytes;
	struct l1_stripe *stripe;	/* this handle's */
	/* The adaptation's region (l1_adapt.c), located once on open. */
	struct l1_adapt *adapt;
	uint64_t *samples;		/* L1_STRIPES rings of sample_slots */
	uint64_t sample_slots;		/* a power of two */
	unsigned stripe_no;		/* this handle's stripe and samples'
					   ring: getpid() % L1_STRIPES */
	uint64_t sample_mask;		/* of hash >> 32: 0 is sampled */
	uint64_t mini_cap, mini_slots, mini_queue;
	struct l1_mini_slot *mini_tab[L1_POLICIES];
	uint64_t *mini_q[L1_POLICIES][2];	/* small, main */
	uint8_t *mini_sketch;			/* tinylfu's miniature's */
	uint64_t mini_sketch_lines;
	struct l1_sketch sketch;		/* the cache's, for tinylfu */
	enum cw_role role;		/* whose lookups it counts */
	struct cw_clock clock;
	int64_t lock_stuck_until_s;	/* monotonic: only try until then, */
	int lock_stuck_owner;		/* while this thread id holds it */
	struct cw_buf scratch[L1_MAX_DEPTH];	/* copies for reinsertion */
	char *path;			/* for messages, and to reopen */
	/* After a resize: the handle of the file now at path, opened on
	 * first notice (under next_lock, then published) and kept to the
	 * close, since threads may still be reading through this mapping. */
	struct cw_l1 *next;
	pthread_mutex_t next_lock;
	struct cw_l1_opts reopen;	/* how this one was opened */
};

/* The handle to operate on: l1, or once a resize has moved its file,
 * the one that follows it (cw_l1_int_follow). Every public operation
 * starts here. */
struct cw_l1 *cw_l1_int_follow(struct cw_l1 *l1);
static inline struct cw_l1 *
l1_live(struct cw_l1 *l1)
{
	if (__builtin_expect(__atomic_load_n(&l1->hdr->moved,
	    __ATOMIC_ACQUIRE) != 0, 0))
		return cw_l1_int_follow(l1);
	return l1;
}

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

/*
 * THE MODULE'S PARTS
 *
 *   l1.c         opening, geometry, get, set, delete
 *   l1_lock.c    the writers' lock and its recovery
 *   l1_evict.c   the writer side: rings, S3-FIFO eviction, the ghost,
 *                index upkeep, the one tombstone writer
 *   l1_adapt.c   the miniature caches and the choice of policy
 *   l1_sketch.c  tinylfu's count-min sketch
 *   l1_check.c   what may be believed: the header, the writer state,
 *                whether an entry is whole; repair and verify
 *   l1_stats.c   counters, histograms, and listing the entries
 *   l1_resize.c  a file of another capacity from the hottest entries,
 *                swapped in whole; handles following it
 *
 * The small accessors below are what every part needs; they are inline
 * so that the reader's path stays one function deep.
 */

static inline uint64_t
l1_align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/* The index, the ghost and the miniatures' tables and rings are sized
 * in powers of two, so that a position is a mask away. */
static inline uint64_t
l1_pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static inline uint64_t
l1_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void
l1_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void
l1_count(uint64_t *p, uint64_t n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* A writer's store (under the lock) to a count that cw_l1_stats reads
 * without it: the live entries and each ring's bytes. */
static inline void
l1_put(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* Slot i, read whole: readers bump its access count by CAS at any
 * moment, writers included, so even a writer under the lock reads it
 * atomically. */
static inline uint64_t
l1_slot(const struct cw_l1 *l1, uint64_t i)
{
	return __atomic_load_n(&l1->slots[i], __ATOMIC_RELAXED);
}

static inline uint64_t
l1_slot_make(uint64_t hash, int ring, uint64_t phys, uint64_t freq)
{
	return L1_SLOT_LIVE | freq << L1_FREQ_SHIFT |
	    ((hash >> 43) << L1_TAG_SHIFT & L1_TAG_MASK) |
	    (ring == L1_MAIN ? L1_RING_BIT : 0) | (phys >> 3 & L1_OFF_MASK);
}

static inline int
l1_slot_live(uint64_t s)
{
	return (s & L1_SLOT_LIVE) != 0;
}

static inline int
l1_slot_tag_matches(uint64_t s, uint64_t hash)
{
	return (s & L1_TAG_MASK) == ((hash >> 43) << L1_TAG_SHIFT & L1_TAG_MASK);
}

static inline int
l1_slot_ring(uint64_t s)
{
	return (s & L1_RING_BIT) != 0 ? L1_MAIN : L1_SMALL;
}

static inline uint64_t
l1_slot_phys(uint64_t s)
{
	return (s & L1_OFF_MASK) << 3;
}

static inline uint64_t
l1_slot_freq(uint64_t s)
{
	return (s & L1_FREQ_MASK) >> L1_FREQ_SHIFT;
}

static inline uint64_t
l1_slot_with_freq(uint64_t s, uint64_t freq)
{
	return (s & ~L1_FREQ_MASK) | freq << L1_FREQ_SHIFT;
}

static inline struct l1_rec *
l1_rec_at(const struct cw_l1 *l1, int ring, uint64_t phys)
{
	return (struct l1_rec *)(l1->ring_base[ring] + phys);
}

/* The record a live slot points at, or NULL when the slot points outside
 * its ring (a damaged slot must never make us read outside the map). */
static inline struct l1_rec *
l1_slot_rec(const struct cw_l1 *l1, uint64_t s)
{
	if (l1_slot_phys(s) + sizeof(struct l1_rec) >
	    l1->ring_size[l1_slot_ring(s)])
		return NULL;
	return l1_rec_at(l1, l1_slot_ring(s), l1_slot_phys(s));
}

/* The checksum's seed: the key's hash and every field a reader acts on,
 * so a record rewritten under a reader fails however little changed. */
static inline uint64_t
l1_rec_seed(uint64_t key_hash, const struct l1_rec *r)
{
	return key_hash ^ (uint64_t)r->expires_ns * 0x9e3779b97f4a7c15ull ^
	    ((uint64_t)r->value_len << 32 | (uint64_t)r->flags << 16 |
	    r->key_len);
}

/* Is a record header self-consistent and inside its ring at phys? */
static inline int
l1_rec_sane(const struct l1_rec *r, uint64_t phys, uint64_t ring_size)
{
	return r->magic == L1_REC_MAGIC && r->key_len > 0 &&
	    r->key_len <= CW_KEY_MAX &&
	    r->rec_bytes == l1_align8(sizeof(*r) + r->key_len + r->value_len) &&
	    phys + r->rec_bytes <= ring_size;
}

/*
 * The lock-free readers copy record bytes that a writer may be reusing
 * at that moment: a race by design, which the checksum then catches.
 * ThreadSanitizer is told to ignore exactly those copies, nothing more.
 */
#if defined(__SANITIZE_THREAD__)
#define L1_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define L1_TSAN 1
#endif
#endif
#ifdef L1_TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#define L1_RACY_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define L1_RACY_READS_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define L1_RACY_READS_BEGIN() ((void)0)
#define L1_RACY_READS_END() ((void)0)
#endif

/* ---- l1.c ---- */

/* Lay out a file of the given capacity into h (every field that locates
 * something, and the geometry hash). */
int cw_l1_int_plan(struct l1_header *h, uint64_t max_entries,
    uint64_t max_bytes, int64_t now_ns, struct cw_err *err);
uint64_t cw_l1_int_geometry_hash(const struct l1_header *h);

/* ---- l1_adapt.c ---- */

/* The region's bytes for a cache of max_entries (its sketch) and
 * miniature caches of mini_cap entries. */
uint64_t cw_l1_int_adapt_bytes(uint64_t max_entries, uint64_t mini_cap);
/* The entries of each miniature for a cache of max_entries. */
uint64_t cw_l1_int_mini_cap(uint64_t max_entries);
/* Locate the region in an opened handle's map. */
void cw_l1_int_adapt_map(struct cw_l1 *l1);
/* A writer (under the lock) about to make stores: every so many, feed
 * the samples read since the last time to the miniatures and choose the
 * policy. */
void cw_l1_int_adapt(struct cw_l1 *l1, uint64_t stores);
/* Start the choice over (a repair: what a killed writer left). */
void cw_l1_int_adapt_reset(struct cw_l1 *l1);

/* The policy in force (a writer reads it under the lock). */
static inline uint64_t
l1_policy(const struct cw_l1 *l1)
{
	uint64_t p = __atomic_load_n(&l1->adapt->policy, __ATOMIC_RELAXED);

	return p < L1_POLICIES ? p : L1_POLICY_S3FIFO;
}

/* The small queue's share of entries under a policy, at least 1. */
static inline uint64_t
l1_small_share(uint64_t entries, uint64_t policy)
{
	uint64_t n = entries * (policy == L1_POLICY_NARROW ?
	    L1_NARROW_SMALL_PCT : policy == L1_POLICY_FREEZE ?
	    L1_FROZEN_SMALL_PCT : policy == L1_POLICY_TINYLFU ?
	    L1_TINYLFU_WINDOW_PCT : L1_SMALL_PCT) / 100;

	return n > 0 ? n : 1;
}

/* How many evicted keys back the ghost reaches under a policy (tinylfu
 * has none: its door is the sketch). */
static inline uint64_t
l1_ghost_share(uint64_t entries, uint64_t policy)
{
	return entries * (policy == L1_POLICY_NARROW ? L1_NARROW_GHOST_PCT :
	    policy == L1_POLICY_TINYLFU ? 0 : L1_GHOST_PCT) / 100;
}

/* ---- l1_sketch.c ---- */

/* The sketch's lines for a cache of entries. */
uint64_t cw_l1_int_sketch_lines(uint64_t entries);
/* How often hash was counted lately (0..15). */
unsigned cw_l1_int_sketch_estimate(const struct l1_sketch *s,
    uint64_t hash);
/* Count hash n times more. */
void cw_l1_int_sketch_add(struct l1_sketch *s, uint64_t hash, unsigned n);

/* A lookup of a sampled key, hit or miss, for the miniatures: readers
 * call it after every lookup, so it is one test for all but the sample. */
static inline void
l1_sample(struct cw_l1 *l1, uint64_t hash)
{
	if (__builtin_expect(((hash >> 32) & l1->sample_mask) == 0, 0) &&
	    !l1->read_only) {
		uint64_t i = __atomic_fetch_add(
		    &l1->adapt->head[l1->stripe_no].next, 1, __ATOMIC_RELAXED);

		__atomic_store_n(&l1->samples[l1->stripe_no *
		    l1->sample_slots + (i & (l1->sample_slots - 1))], hash | 1,
		    __ATOMIC_RELAXED);
	}
}

/* ---- l1_stats.c ---- */

/* The live entries, copied lock-free as cw_l1_scan lists them, into
 * *list (keys pointing into *keys); hot: hottest first (in S3-FIFO's
 * main queue, then more reads, then longer left, then by key). On a
 * failure *list is NULL: nothing to free. */
int cw_l1_int_collect(struct cw_l1 *l1, int hot, struct cw_l1_entry **list,
    size_t *n, struct cw_buf *keys, struct cw_err *err);

/* ---- l1_lock.c ---- */

/* A fresh robust, process-shared mutex at m; 0 or an errno. */
int cw_l1_int_init_mutex(pthread_mutex_t *m);
/* Take the writers' lock within L1_LOCK_WAIT_MS, recovering a dead
 * owner's; CW_ETIMEOUT when a live owner holds it too long, CW_EIO on a
 * read-only handle. */
int cw_l1_int_lock(struct cw_l1 *l1, struct cw_err *err);
void cw_l1_int_unlock(struct cw_l1 *l1);

/* ---- l1_evict.c: all of it runs under the lock ---- */

/* The slot index of key, or -1. */
int64_t cw_l1_int_find_key(struct cw_l1 *l1, uint64_t hash, const char *key,
    size_t klen);
/* Add (sign > 0) or remove a record's bytes from its ring's counts. */
void cw_l1_int_account(struct cw_l1 *l1, int ring, uint64_t rec_bytes,
    int sign);
/* The one tombstone writer: slot i becomes a tombstone and the counts
 * follow, never below zero. cw_l1_int_drop also un-accounts its record. */
void cw_l1_int_tombstone(struct cw_l1 *l1, uint64_t i);
void cw_l1_int_drop(struct cw_l1 *l1, uint64_t i);
/* Was hash evicted from the small queue recently? If so, forget it. */
int cw_l1_int_ghost_take(struct cw_l1 *l1, uint64_t hash);
/* Would a record of need bytes fit at the ring's head now? */
int cw_l1_int_ring_fits(const struct l1_ring *rg, uint64_t need);
/* Write a record at a ring's head, evicting for room; *phys_out gets
 * where. key and val may point into another ring, never into this one. */
int cw_l1_int_append(struct cw_l1 *l1, int ring, const struct l1_rec *r,
    const void *key, const void *val, unsigned depth, uint64_t *phys_out);
/* Evict until one more entry fits under max_entries. */
void cw_l1_int_make_entry_room(struct cw_l1 *l1);
/* Is main below its share of the entries (a frozen main still fills)? */
int cw_l1_int_main_has_room(const struct cw_l1 *l1);
/* Put a new entry's slot into the index; CW_EIO when even a repair
 * leaves no room (every slot damaged). */
int cw_l1_int_insert_slot(struct cw_l1 *l1, uint64_t hash, uint64_t slot);

/* ---- l1_check.c ---- */

/* Is the header in a mapped file of st_size bytes ours, whole, and does
 * everything it locates lie where the capacity puts it? */
int cw_l1_int_check_header(const struct l1_header *h, uint64_t st_size,
    const char *path, struct cw_err *err);
/* Are the writers' positions and counts ones a writer could leave? */
int cw_l1_int_writer_state_sane(const struct l1_header *h);
/* The record of live slot s when the entry is whole (inside its ring and
 * its ring's used window, key hash, checksum and tag agreeing), else
 * NULL: the one test repair and verify both make. */
const struct l1_rec *cw_l1_int_entry_whole(const struct cw_l1 *l1,
    uint64_t s);
/* Check the whole file under the writer lock and repair what is damaged:
 * what a writer's death triggers, and what tests call directly. Returns
 * the number of entries dropped. */
uint64_t cw_l1_int_repair(struct cw_l1 *l1);

/* ---- the L1 calls the library makes (programs go through the hierarchy) ---- */

/* Name of a role: "reader", "warmer". */
const char *cw_role_name(enum cw_role role);

struct cw_l1_entry_info {
	int64_t expires_ns;	/* wall clock */
	unsigned flags;
};

/*
 * Copy the value of key into val (replacing its contents) and, if info is
 * not NULL, its expiry and flags. CW_ENOTFOUND when absent, expired or
 * damaged (a damaged entry is counted, never returned). Lock-free: it
 * never blocks on writers and never returns a torn value.
 */
int cw_l1_get(struct cw_l1 *l1, const char *key, size_t klen,
    struct cw_buf *val, struct cw_l1_entry_info *info, struct cw_err *err);
/* The same, also answering with an entry that expired less than
 * stale_ms ago (a value, not a remembered miss): stale-if-error, when
 * every level below has failed. Counted in the stats' stale_served. */
int cw_l1_get_stale(struct cw_l1 *l1, const char *key, size_t klen,
    int64_t stale_ms, struct cw_buf *val, struct cw_l1_entry_info *info,
    struct cw_err *err);

/* One key of a batch: the caller fills key, klen and val; the batch sets
 * rc (as cw_l1_get would return it) and, when rc is CW_OK, info. */
struct cw_l1_lookup {
	const char *key;
	size_t klen;
	struct cw_buf *val;
	int rc;
	struct cw_l1_entry_info info;
	uint64_t key_hash;	/* out: cw_hash of the key, which the access
				   log's table need not compute again */
};

/*
 * cw_l1_get for n keys, with the same guarantees, as of one reading of the
 * clock. The memory accesses of keys a few places apart overlap, so on a
 * file larger than the CPU's caches a batch costs a fraction of as many
 * single gets: callers with more than one key use this.
 */
void cw_l1_get_batch(struct cw_l1 *l1, struct cw_l1_lookup *q, size_t n);

/*
 * Store key -> val for ttl_ms, evicting by S3-FIFO to stay within the
 * entry and byte bounds. CW_ETOOBIG when the value cannot fit at all (the
 * cache is left as it was). Serialised across processes by a robust lock:
 * a writer killed at any instant leaves a file the next one repairs.
 */
int cw_l1_set(struct cw_l1 *l1, const char *key, size_t klen,
    const void *val, size_t vlen, int64_t ttl_ms, unsigned flags,
    struct cw_err *err);

/* One store of a batch: cw_l1_set's arguments, and its outcome in rc. */
struct cw_l1_write {
	const char *key;
	size_t klen;
	const void *val;
	size_t vlen;
	int64_t ttl_ms;
	unsigned flags;
	int rc;			/* out: as cw_l1_set would return */
};

/* Store n entries as n cw_l1_set calls would, taking the lock once per
 * few hundred of them: the warmer's and a batch fill's way in. */
void cw_l1_set_batch(struct cw_l1 *l1, struct cw_l1_write *w, size_t n);

/* Drop every expired entry now rather than when eviction reaches it,
 * so its slot and bytes are free for what is warmed next; *reclaimed
 * gets how many. Takes the writer lock. */
int cw_l1_reclaim(struct cw_l1 *l1, uint64_t *reclaimed, struct cw_err *err);
/* Remove key. CW_ENOTFOUND when it was not there. */
int cw_l1_del(struct cw_l1 *l1, const char *key, size_t klen,
    struct cw_err *err);

/* Count a lookup outcome and its latency at a level into the shared
 * header (per-process stripes: concurrent recorders do not contend), as
 * the handle's role's (cw_l1_opts.role): only the readers' latencies
 * and recent minutes are kept. */
void cw_l1_record(struct cw_l1 *l1, enum cw_level level,
    enum cw_result result, int64_t latency_ns);
/* Count the latency of a whole lookup, whichever level answered. */
void cw_l1_record_lookup(struct cw_l1 *l1, int64_t latency_ns);
/* The same for n outcomes, or n lookups, of one latency: a batch's L1
 * hits, counted at their share of the batch's time. */
void cw_l1_record_many(struct cw_l1 *l1, enum cw_level level,
    enum cw_result result, int64_t latency_ns, uint64_t n);
void cw_l1_record_lookups(struct cw_l1 *l1, int64_t latency_ns, uint64_t n);

#endif /* CW_L1_INT_H */
