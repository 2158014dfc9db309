/*
 * l1: the shared mmap file, level 1 of the hierarchy: opening it, its
 * geometry, and the calls every reader and writer makes (get, set,
 * delete).
 *
 * The layout and the reasons for it are in l1_int.h. In short: a hash
 * index of one-word slots, two FIFO byte rings for S3-FIFO eviction (small
 * for newcomers, main for entries that were read again), lock-free readers
 * that trust nothing they have not checksummed, and writers serialised by
 * a robust mutex whose EOWNERDEAD triggers a repair of the whole file.
 * The other parts of the module are listed in l1_int.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "fs_int.h"
#include "hash_int.h"
#include "l1_int.h"

#define READ_RETRIES 3

/* ---- opening ---- */

uint64_t
cw_l1_int_geometry_hash(const struct l1_header *h)
{
	return cw_hash(h, offsetof(struct l1_header, geometry_hash));
}

int
cw_l1_int_plan(struct l1_header *h, uint64_t max_entries, uint64_t max_bytes,
    int64_t now_ns, struct cw_err *err)
{
	uint64_t small, main_size, off;

	if (max_entries < 1 || max_entries > L1_MAX_ENTRIES)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "L1 max entries %llu: out of range 1..%u",
		    (unsigned long long)max_entries, L1_MAX_ENTRIES);
	if (max_bytes < 2 * L1_MIN_RING || max_bytes > (1ull << 40))
		return cw_err_set(err, CW_ECONFIG, 0,
		    "L1 max bytes %llu: out of range %u..1T",
		    (unsigned long long)max_bytes, 2 * L1_MIN_RING);
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, L1_MAGIC, 8);
	h->version = L1_VERSION;
	h->header_bytes = sizeof(*h);
	h->max_entries = max_entries;
	h->max_bytes = max_bytes;
	h->nslots = l1_pow2_at_least(2 * max_entries);
	h->ghost_slots = l1_pow2_at_least(2 * max_entries);
	h->stripe_bytes = l1_align8(sizeof(struct l1_stripe));
	h->created_ns = now_ns;

	small = l1_align8(max_bytes / 100 * L1_SMALL_PCT);
	if (small < L1_MIN_RING)
		small = L1_MIN_RING;
	main_size = l1_align8(max_bytes - small);

	off = L1_HEADER_BYTES;
	h->index_off = off;
	off += h->nslots * sizeof(uint64_t);
	h->ghost_off = off;
	off += h->ghost_slots * sizeof(struct l1_ghost);
	h->stats_off = off;
	off += L1_STRIPES * h->stripe_bytes;
	off = (off + 63) & ~(uint64_t)63;	/* readers' add, a line alone */
	h->mini_cap = cw_l1_int_mini_cap(max_entries);
	h->adapt_off = off;
	off += cw_l1_int_adapt_bytes(max_entries, h->mini_cap);
	off = (off + 4095) & ~(uint64_t)4095;
	h->ring[L1_SMALL].off = off;
	h->ring[L1_SMALL].size = small;
	off += small;
	h->ring[L1_MAIN].off = off;
	h->ring[L1_MAIN].size = main_size;
	off += main_size;
	h->file_bytes = (off + 4095) & ~(uint64_t)4095;
	h->geometry_hash = cw_l1_int_geometry_hash(h);
	return CW_OK;
}

/*
 * A creator killed between mkstemp and unlink leaves PATH.XXXXXX behind:
 * the size of a whole L1 file. The next creation removes those older
 * than a minute (one being made right now is younger: creation takes
 * milliseconds), and only those of exactly that shape.
 */
static void
remove_stale_temporaries(const char *path)
{
	char dir[CW_PATH_MAX], full[CW_PATH_MAX + 300];
	const char *slash = strrchr(path, '/'), *base;
	struct dirent *de;
	struct stat st;
	size_t blen;
	DIR *d;

	if (slash == NULL) {
		strcpy(dir, ".");
		base = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1),
		    path);
		base = slash + 1;
	}
	blen = strlen(base);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != blen + 7 ||
		    strncmp(de->d_name, base, blen) != 0 ||
		    de->d_name[blen] != '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
		if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() && time(NULL) - st.st_mtime > 60)
			unlink(full);
	}
	closedir(d);
}

/* Build a complete file under a temporary name, then link it into place:
 * no process ever sees a half-initialised L1. EEXIST from link means
 * another process won the race; its file is used. */
static int
create_file(const struct cw_l1_opts *o, struct cw_err *err)
{
	char tmp[CW_PATH_MAX + 16];
	struct l1_header plan_hdr;
	struct l1_header *h;
	void *map;
	int fd, rc;

	if ((rc = cw_l1_int_plan(&plan_hdr, o->max_entries, o->max_bytes,
	    cw_clock_calendar_ns(&o->clock), err)) != CW_OK)
		return rc;
	if ((rc = cw_fs_make_parents(o->path, err)) != CW_OK)
		return rc;
	remove_stale_temporaries(o->path);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", o->path);
	if ((fd = cw_fs_fd_above_std(mkstemp(tmp))) < 0) {
		/* Named by the file wanted: the temporary's name is ours. */
		rc = cw_err_set(err, CW_EIO, errno, "create %s", o->path);
		unlink(tmp);
		return rc;
	}
	if (fchmod(fd, o->mode) != 0) {
		rc = cw_err_set(err, CW_EIO, errno, "create %s", o->path);
		goto fail;
	}
	/* Every page allocated now, not at its first write: a sparse file
	 * on a full disk would be SIGBUS in the middle of some later
	 * process's set. Here it is ENOSPC, said once, and the file is
	 * never made. */
	if ((rc = posix_fallocate(fd, 0, (off_t)plan_hdr.file_bytes)) != 0) {
		rc = cw_err_set(err, CW_EIO, rc, "create %s", o->path);
		goto fail;
	}
	map = mmap(NULL, L1_HEADER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (map == MAP_FAILED) {
		rc = cw_err_set(err, CW_EIO, errno, "mmap %s", o->path);
		goto fail;
	}
	h = map;
	*h = plan_hdr;
	rc = cw_l1_int_init_mutex(&h->lock.mutex);
	munmap(map, L1_HEADER_BYTES);
	if (rc != 0) {
		rc = cw_err_set(err, CW_EIO, rc, "init lock in %s", o->path);
		goto fail;
	}
	if (link(tmp, o->path) != 0 && errno != EEXIST) {
		rc = cw_err_set(err, CW_EIO, errno, "create %s", o->path);
		goto fail;
	}
	rc = CW_OK;
fail:
	unlink(tmp);
	close(fd);
	return rc;
}

int
cw_l1_open(struct cw_l1 **out, const struct cw_l1_opts *o,
    struct cw_err *err)
{
	struct cw_l1 *l1;
	struct stat st;
	int rc, fd;

	*out = NULL;
	if (strlen(o->path) >= CW_PATH_MAX)
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", o->path);
	for (int attempt = 0;; attempt++) {
		fd = cw_fs_fd_above_std(open(o->path, (o->read_only ?
		    O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC));
		if (fd >= 0 || errno != ENOENT || attempt > 0 ||
		    o->must_exist || o->read_only)
			break;
		if ((rc = create_file(o, err)) != CW_OK)
			return rc;
	}
	if (fd < 0) {
		if (errno == ELOOP)
			return cw_err_set(err, CW_EIO, 0,
			    "%s: is a symbolic link (refused)", o->path);
		return cw_err_set(err, CW_EIO, errno, "open %s", o->path);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cw_err_set(err, CW_EFOREIGN, 0,
		    "%s: not a regular file (refused)", o->path);
		close(fd);
		return rc;
	}
	/* A file another user planted could be crafted, or rewritten by
	 * them at any moment: only our own, or the sharing group's when
	 * nobody else may write it. A read-only handle (figures and the
	 * listing, for a monitoring user) trusts only what it checks. */
	if (!o->read_only && st.st_uid != geteuid() && (!o->shared ||
	    st.st_gid != (gid_t)o->share_gid || (st.st_mode & S_IWOTH))) {
		rc = cw_err_set(err, CW_EFOREIGN, 0,
		    "%s: owned by uid %ld, not this user, nor shared through "
		    "l1.group without others' write permission (refused)",
		    o->path, (long)st.st_uid);
		close(fd);
		return rc;
	}
	if ((l1 = calloc(1, sizeof(*l1))) == NULL) {
		close(fd);
		return cw_err_set(err, CW_ENOMEM, 0, "open %s", o->path);
	}
	l1->fd = fd;
	l1->read_only = o->read_only != 0;
	l1->clock = o->clock;
	l1->role = o->role < CW_ROLE_COUNT ? o->role : CW_ROLE_READER;
	pthread_mutex_init(&l1->next_lock, NULL);
	if ((l1->path = strdup(o->path)) == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "open %s", o->path);
		goto fail;
	}
	/* After a resize the path is opened again, as it was this time. */
	l1->reopen = *o;
	l1->reopen.path = l1->path;
	l1->reopen.must_exist = 1;
	if ((uint64_t)st.st_size < L1_HEADER_BYTES) {
		rc = cw_l1_int_check_header(NULL, (uint64_t)st.st_size,
		    o->path, err);
		goto fail;
	}
	l1->map_bytes = (size_t)st.st_size;
	l1->map = mmap(NULL, l1->map_bytes, PROT_READ |
	    (l1->read_only ? 0 : PROT_WRITE), MAP_SHARED, fd, 0);
	if (l1->map == MAP_FAILED) {
		l1->map = NULL;
		rc = cw_err_set(err, CW_EIO, errno, "mmap %s", o->path);
		goto fail;
	}
	l1->hdr = (struct l1_header *)l1->map;
	if ((rc = cw_l1_int_check_header(l1->hdr, (uint64_t)st.st_size,
	    o->path, err)) != CW_OK)
		goto fail;
	/* Geometry never changes once created: keep it in the handle, off
	 * the shared cache lines that writers keep changing. */
	l1->nslots = l1->hdr->nslots;
	for (int ring = 0; ring < 2; ring++) {
		l1->ring_base[ring] = l1->map + l1->hdr->ring[ring].off;
		l1->ring_size[ring] = l1->hdr->ring[ring].size;
	}
	l1->slots = (uint64_t *)(l1->map + l1->hdr->index_off);
	l1->ghost = (struct l1_ghost *)(l1->map + l1->hdr->ghost_off);
	l1->ghost_slots = l1->hdr->ghost_slots;
	l1->stripes = l1->map + l1->hdr->stats_off;
	l1->stripe_bytes = l1->hdr->stripe_bytes;
	/* By pid, not by a shared counter: a lookup that L1 answers then
	 * writes no page of the header, and a short process's every page
	 * written first is a fault. The samples' ring is the stripe's too. */
	l1->stripe_no = (unsigned)getpid() % L1_STRIPES;
	l1->stripe = (struct l1_stripe *)(l1->stripes +
	    l1->stripe_no * l1->stripe_bytes);
	cw_l1_int_adapt_map(l1);
	*out = l1;
	return CW_OK;
fail:
	cw_l1_close(l1);
	return rc;
}

void
cw_l1_close(struct cw_l1 *l1)
{
	if (l1 == NULL)
		return;
	if (l1->next != l1)
		cw_l1_close(l1->next);
	pthread_mutex_destroy(&l1->next_lock);
	if (l1->map != NULL)
		munmap(l1->map, l1->map_bytes);
	close(l1->fd);
	for (unsigned d = 0; d < L1_MAX_DEPTH; d++)
		cw_buf_free(&l1->scratch[d]);
	free(l1->path);
	free(l1);
}

/* ---- reading ---- */

/* A long value's lines are asked for all at once before the copy: the
 * copy alone would wait for the hardware prefetcher to find its stream,
 * a miss at a time. Up to 8 KB; the stream carries a longer one on. */
static inline void
prefetch_value(const char *p, size_t n)
{
	if (n > 256)
		for (size_t at = 256; at < n && at < 8192; at += 64)
			__builtin_prefetch(p + at);
}

/*
 * Look up key, whose hash the caller has computed, as of wall time now:
 * the body of both cw_l1_get and cw_l1_get_batch.
 */
static int
lookup(struct cw_l1 *l1, uint64_t hash, const char *key, size_t klen,
    int64_t now, struct cw_buf *val, struct cw_l1_entry_info *info,
    struct cw_err *err)
{
	uint64_t mask = l1->nslots - 1;
	int rc;

	for (int attempt = 0; attempt < READ_RETRIES; attempt++) {
		uint64_t i = hash & mask, s = 0, n;
		struct l1_rec r;
		const struct l1_rec *at;
		const char *body = NULL;
		int found;

		for (n = 0; n < l1->nslots; n++, i = (i + 1) & mask) {
			s = l1_load(&l1->slots[i]);
			if (s == L1_SLOT_EMPTY)
				return CW_ENOTFOUND;
			if (!l1_slot_live(s) || !l1_slot_tag_matches(s, hash) ||
			    (at = l1_slot_rec(l1, s)) == NULL)
				continue;
			L1_RACY_READS_BEGIN();
			memcpy(&r, at, sizeof(r));
			body = (const char *)(at + 1);
			found = r.key_hash == hash && r.key_len == klen &&
			    l1_rec_sane(&r, l1_slot_phys(s),
			    l1->ring_size[l1_slot_ring(s)]) &&
			    memcmp(body, key, klen) == 0;
			L1_RACY_READS_END();
			if (found)
				break;
		}
		if (n == l1->nslots)
			return CW_ENOTFOUND;
		if (r.expires_ns <= now)
			return CW_ENOTFOUND;
		if ((rc = cw_buf_reserve(val, r.value_len, err)) != CW_OK)
			return rc;
		prefetch_value(body + klen, r.value_len);
		L1_RACY_READS_BEGIN();
		if (r.value_len > 0)	/* a negative entry has none */
			memcpy(val->data, body + klen, r.value_len);
		L1_RACY_READS_END();
		/* The copy must be complete before it is checked. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (cw_hash_seeded(val->data, r.value_len,
		    l1_rec_seed(hash, &r)) != r.checksum)
			continue;	/* overwritten under us: look again */
		val->len = r.value_len;
		if (info != NULL) {
			info->expires_ns = r.expires_ns;
			info->flags = r.flags;
		}
		/* S3-FIFO's access count: only written while below its cap,
		 * so popular entries cost no writes. A lost race loses one
		 * count, which is only a hint. */
		if (l1_slot_freq(s) < 3 && !l1->read_only)
			__atomic_compare_exchange_n(&l1->slots[i], &s,
			    l1_slot_with_freq(s, l1_slot_freq(s) + 1), 0,
			    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		return CW_OK;
	}
	if (!l1->read_only)
		l1_count(&l1->hdr->damaged, 1);
	return CW_ENOTFOUND;
}

int
cw_l1_get(struct cw_l1 *handle, const char *key, size_t klen,
    struct cw_buf *val, struct cw_l1_entry_info *info, struct cw_err *err)
{
	struct cw_l1 *l1 = l1_live(handle);
	uint64_t hash = cw_hash(key, klen);
	int rc = lookup(l1, hash, key, klen, cw_clock_calendar_ns(&l1->clock),
	    val, info, err);

	l1_sample(l1, hash);
	return rc;
}

int
cw_l1_get_stale(struct cw_l1 *handle, const char *key, size_t klen,
    int64_t stale_ms, struct cw_buf *val, struct cw_l1_entry_info *info,
    struct cw_err *err)
{
	struct cw_l1 *l1 = l1_live(handle);
	struct cw_l1_entry_info got;
	int rc;

	/* As of stale_ms ago, an entry that expired since is still live. */
	rc = lookup(l1, cw_hash(key, klen), key, klen,
	    cw_clock_calendar_ns(&l1->clock) - stale_ms * 1000000, val, &got,
	    err);
	if (rc != CW_OK)
		return rc;
	if (got.flags & CW_L1_NEGATIVE)
		return CW_ENOTFOUND;
	if (info != NULL)
		*info = got;
	if (!l1->read_only)
		l1_count(&l1->hdr->stale_served, 1);
	return CW_OK;
}

/*
 * A batch is a software pipeline three keys wide, BATCH_STRIDE apart:
 * while key k is looked up, the record of key k + STRIDE and the index
 * slot of key k + 2 STRIDE are on their way from memory. A lone lookup
 * waits for two cache misses in a row (slot, then record) and is too
 * long for the CPU to start the next one meanwhile; in the pipeline both
 * misses of a key are issued before its turn. A lookup's own work is
 * about 25 ns and a miss 120-190 ns here, so eight keys ahead covers a
 * miss; strides of 4, 12 and 16 measured no better. The hashes of the
 * keys in flight are kept in a ring of HASH_RING.
 */
#define BATCH_STRIDE 8
#define HASH_RING 32
_Static_assert(HASH_RING > 2 * BATCH_STRIDE, "ring holds the keys in flight");

/* How much of a record to fetch ahead: a record starts anywhere in a
 * cache line, so four lines hold its header, its key and a value of
 * about 130 bytes wherever it starts (three lines measured 10-30%
 * slower on 100-byte values). The copy streams the rest of a longer one. */
#define RECORD_PREFETCH_LINES 4

void
cw_l1_get_batch(struct cw_l1 *handle, struct cw_l1_lookup *q, size_t n)
{
	struct cw_l1 *l1 = l1_live(handle);
	/* One reading of the clock for the batch: a batch takes
	 * microseconds, the coarse wall clock ticks in milliseconds. */
	int64_t now = cw_clock_calendar_ns(&l1->clock);
	uint64_t mask = l1->nslots - 1, hash[HASH_RING];

	for (size_t k = 0; k < n + 2 * BATCH_STRIDE; k++) {
		if (k < n) {
			hash[k % HASH_RING] = q[k].key_hash = cw_hash(q[k].key,
			    q[k].klen);
			__builtin_prefetch(&l1->slots[hash[k % HASH_RING] &
			    mask]);
		}
		if (k >= BATCH_STRIDE && k - BATCH_STRIDE < n) {
			/* The slot fetched a stride ago: where the record is,
			 * if the key sits in its first slot (it mostly does,
			 * at a load below one half). Only a hint. */
			uint64_t s = __atomic_load_n(&l1->slots[
			    hash[(k - BATCH_STRIDE) % HASH_RING] & mask],
			    __ATOMIC_RELAXED);
			const char *rec;

			if (l1_slot_live(s) &&
			    (rec = (const char *)l1_slot_rec(l1, s)) != NULL)
				for (int line = 0; line < RECORD_PREFETCH_LINES;
				    line++)
					__builtin_prefetch(rec + 64 * line);
		}
		if (k >= 2 * BATCH_STRIDE) {
			size_t j = k - 2 * BATCH_STRIDE;

			q[j].rc = lookup(l1, hash[j % HASH_RING], q[j].key,
			    q[j].klen, now, q[j].val, &q[j].info, NULL);
			l1_sample(l1, hash[j % HASH_RING]);
		}
	}
}

/* The record header of a set, checksum included: made before the lock,
 * so that the lock is held for the store alone. */
static int
make_rec(const char *key, size_t klen,
    const void *val, size_t vlen, int64_t ttl_ms, unsigned flags,
    int64_t now, struct l1_rec *r, struct cw_err *err)
{
	if (klen == 0 || klen > CW_KEY_MAX)
		return cw_err_set(err, CW_EDATA, 0, "key length %zu", klen);
	if (vlen > UINT32_MAX - 512)
		return cw_err_set(err, CW_ETOOBIG, 0,
		    "value of %zu bytes", vlen);
	memset(r, 0, sizeof(*r));
	r->magic = L1_REC_MAGIC;
	r->key_len = (uint16_t)klen;
	r->value_len = (uint32_t)vlen;
	r->flags = flags & ~CW_L1_NO_EVICT;	/* how to store, not what */
	r->rec_bytes = (uint32_t)l1_align8(sizeof(*r) + klen + vlen);
	r->key_hash = cw_hash(key, klen);
	r->expires_ns = now +
	    (ttl_ms > INT64_MAX / 1000000 ? INT64_MAX / 2 : ttl_ms * 1000000);
	r->checksum = cw_hash_seeded(val, vlen, l1_rec_seed(r->key_hash, r));
	return CW_OK;
}

/* Store a made record r of key -> val, with the lock held. */
static int
store_locked(struct cw_l1 *l1, const struct l1_rec *r, const char *key,
    const void *val, unsigned flags, struct cw_err *err)
{
	struct l1_header *h = l1->hdr;
	uint64_t hash = r->key_hash, phys;
	size_t klen = r->key_len, vlen = r->value_len;
	int64_t i;
	int rc, ring;

	i = cw_l1_int_find_key(l1, hash, key, klen);
	if (i < 0)	/* a miss, most often: tinylfu's sketch counts it */
		cw_l1_int_sketch_add(&l1->sketch, hash, 1);
	if (i >= 0)
		ring = l1_slot_ring(l1_slot(l1, (uint64_t)i));
	else if (cw_l1_int_ghost_take(l1, hash))
		/* Frozen, a full main takes no one back from the ghost. */
		ring = l1_policy(l1) == L1_POLICY_FREEZE &&
		    !cw_l1_int_main_has_room(l1) ? L1_SMALL : L1_MAIN;
	else
		ring = L1_SMALL;
	/* A warmed entry is a prediction that it will be read: it skips the
	 * small queue, which exists to filter out keys read once after a
	 * miss. Otherwise a warm-up could keep only a small queue's worth
	 * of what it loaded. */
	if ((flags & CW_L1_WARM) != 0)
		ring = L1_MAIN;
	if (r->rec_bytes > l1->ring_size[ring])
		ring = L1_MAIN;
	if (r->rec_bytes > l1->ring_size[L1_MAIN]) {
		/* Served but not cached; an older value must not outlive it. */
		if (i >= 0)
			cw_l1_int_drop(l1, (uint64_t)i);
		l1_count(&h->too_big, 1);
		return cw_err_set(err, CW_ETOOBIG, 0,
		    "value of %zu bytes does not fit in %s", vlen, l1->path);
	}
	/* A background warmer's fill: into free space or not at all. */
	if ((flags & CW_L1_NO_EVICT) && ((i < 0 && h->live_entries >=
	    h->max_entries) ||
	    !cw_l1_int_ring_fits(&h->ring[ring], r->rec_bytes)))
		return cw_err_set(err, CW_ETOOBIG, 0, "%s: no free space "
		    "(this fill may not evict)", l1->path);
	if (i < 0)
		cw_l1_int_make_entry_room(l1);
	if ((rc = cw_l1_int_append(l1, ring, r, key, val, 0, &phys)) != CW_OK)
		return cw_err_set(err, rc, 0, "store in %s", l1->path);
	/* Eviction above may have moved or dropped the old entry. */
	i = cw_l1_int_find_key(l1, hash, key, klen);
	if (i >= 0) {
		uint64_t old = l1_slot(l1, (uint64_t)i);

		cw_l1_int_account(l1, l1_slot_ring(old),
		    l1_slot_rec(l1, old)->rec_bytes, -1);
		l1_store(&l1->slots[i], l1_slot_make(hash, ring, phys,
		    l1_slot_freq(old)));
	} else {
		if (h->live_entries >= h->max_entries)
			cw_l1_int_make_entry_room(l1);
		if (cw_l1_int_insert_slot(l1, hash, l1_slot_make(hash, ring,
		    phys, 0)) != CW_OK)
			return cw_err_set(err, CW_EIO, 0,
			    "%s: index full, every slot damaged", l1->path);
	}
	cw_l1_int_account(l1, ring, r->rec_bytes, +1);
	l1_count(&h->sets, 1);
	return CW_OK;
}

int
cw_l1_set(struct cw_l1 *handle, const char *key, size_t klen, const void *val,
    size_t vlen, int64_t ttl_ms, unsigned flags, struct cw_err *err)
{
	struct cw_l1 *l1 = l1_live(handle);
	struct l1_rec r;
	int rc;

	if ((rc = make_rec(key, klen, val, vlen, ttl_ms, flags,
	    cw_clock_calendar_ns(&l1->clock), &r, err)) != CW_OK)
		return rc;
	if ((rc = cw_l1_int_lock(l1, err)) != CW_OK)
		return rc;
	if (l1_live(l1) != l1) {
		/* Resized while this waited for the lock: into the new
		 * file, or the entry would be lost with the old one. */
		cw_l1_int_unlock(l1);
		return cw_l1_set(l1, key, klen, val, vlen, ttl_ms, flags, err);
	}
	cw_l1_int_adapt(l1, 1);
	rc = store_locked(l1, &r, key, val, flags, err);
	cw_l1_int_unlock(l1);
	return rc;
}

/*
 * A batch holds the lock for at most SET_BATCH stores: long enough that
 * taking it is a small share of the cost, short enough that another
 * writer waits microseconds, not the length of a warm-up. The index
 * slot of the store SET_PREFETCH ahead is fetched meanwhile.
 */
#define SET_BATCH 256
#define SET_PREFETCH 4

void
cw_l1_set_batch(struct cw_l1 *handle, struct cw_l1_write *w, size_t n)
{
	struct l1_rec r[SET_BATCH];
	size_t done = 0;

	while (done < n) {
		struct cw_l1 *l1 = l1_live(handle);
		size_t c = n - done < SET_BATCH ? n - done : SET_BATCH;
		int64_t now = cw_clock_calendar_ns(&l1->clock);
		uint64_t mask = l1->nslots - 1;
		int rc;

		for (size_t j = 0; j < c; j++) {
			struct cw_l1_write *x = &w[done + j];

			x->rc = make_rec(x->key, x->klen, x->val, x->vlen,
			    x->ttl_ms, x->flags, now, &r[j], NULL);
		}
		if ((rc = cw_l1_int_lock(l1, NULL)) != CW_OK) {
			for (size_t j = done; j < n; j++)
				if (j >= done + c || w[j].rc == CW_OK)
					w[j].rc = rc;
			return;
		}
		if (l1_live(l1) != l1) {
			/* Resized while this waited: made again, for the
			 * new file's clock and size. */
			cw_l1_int_unlock(l1);
			continue;
		}
		cw_l1_int_adapt(l1, c);
		for (size_t j = 0; j < c; j++) {
			struct cw_l1_write *x = &w[done + j];

			if (j + SET_PREFETCH < c &&
			    w[done + j + SET_PREFETCH].rc == CW_OK)
				__builtin_prefetch(&l1->slots[
				    r[j + SET_PREFETCH].key_hash & mask]);
			if (x->rc == CW_OK)
				x->rc = store_locked(l1, &r[j], x->key, x->val,
				    x->flags, NULL);
		}
		cw_l1_int_unlock(l1);
		done += c;
	}
}

int
cw_l1_reclaim(struct cw_l1 *handle, uint64_t *reclaimed, struct cw_err *err)
{
	struct cw_l1 *l1 = l1_live(handle);
	int64_t now = cw_clock_calendar_ns(&l1->clock);
	int rc;

	*reclaimed = 0;
	if ((rc = cw_l1_int_lock(l1, err)) != CW_OK)
		return rc;
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1_slot(l1, i);
		const struct l1_rec *r;

		if (!l1_slot_live(s) || (r = l1_slot_rec(l1, s)) == NULL ||
		    r->expires_ns > now)
			continue;
		cw_l1_int_drop(l1, i);
		l1_count(&l1->hdr->expirations, 1);
		(*reclaimed)++;
	}
	cw_l1_int_unlock(l1);
	return CW_OK;
}

int
cw_l1_del(struct cw_l1 *handle, const char *key, size_t klen, struct cw_err *err)
{
	struct cw_l1 *l1 = l1_live(handle);
	int64_t i;
	int rc;

	if ((rc = cw_l1_int_lock(l1, err)) != CW_OK)
		return rc;
	i = cw_l1_int_find_key(l1, cw_hash(key, klen), key, klen);
	if (i >= 0)
		cw_l1_int_drop(l1, (uint64_t)i);
	cw_l1_int_unlock(l1);
	return i >= 0 ? CW_OK : CW_ENOTFOUND;
}

