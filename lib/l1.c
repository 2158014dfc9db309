/*
 * l1: the shared mmap file, level 1 of the hierarchy.
 *
 * The layout and the reasons for it are in l1_int.h. In short: a hash
 * index of one-word slots, two FIFO byte rings for S3-FIFO eviction (small
 * for newcomers, main for entries that were read again), lock-free readers
 * that trust nothing they have not checksummed, and writers serialised by
 * a robust mutex whose EOWNERDEAD triggers a repair of the whole file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "fs_int.h"
#include "hash_int.h"
#include "l1_int.h"

#define GHOST_PROBES 8
#define READ_RETRIES 3

static uint64_t
align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

static uint64_t
pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void
count(uint64_t *p, uint64_t n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* ---- slots ---- */

static uint64_t
slot_make(uint64_t hash, int ring, uint64_t phys, uint64_t freq)
{
	return L1_SLOT_LIVE | freq << L1_FREQ_SHIFT |
	    ((hash >> 43) << L1_TAG_SHIFT & L1_TAG_MASK) |
	    (ring == L1_MAIN ? L1_RING_BIT : 0) | (phys >> 3 & L1_OFF_MASK);
}

static int
slot_live(uint64_t s)
{
	return (s & L1_SLOT_LIVE) != 0;
}

static int
slot_tag_matches(uint64_t s, uint64_t hash)
{
	return (s & L1_TAG_MASK) == ((hash >> 43) << L1_TAG_SHIFT & L1_TAG_MASK);
}

static int
slot_ring(uint64_t s)
{
	return (s & L1_RING_BIT) != 0 ? L1_MAIN : L1_SMALL;
}

static uint64_t
slot_phys(uint64_t s)
{
	return (s & L1_OFF_MASK) << 3;
}

static uint64_t
slot_freq(uint64_t s)
{
	return (s & L1_FREQ_MASK) >> L1_FREQ_SHIFT;
}

static uint64_t
slot_with_freq(uint64_t s, uint64_t freq)
{
	return (s & ~L1_FREQ_MASK) | freq << L1_FREQ_SHIFT;
}

/* ---- records ---- */

static struct l1_rec *
rec_at(struct cw_l1 *l1, int ring, uint64_t phys)
{
	return (struct l1_rec *)(l1->ring_base[ring] + phys);
}

/* The record a live slot points at, or NULL when the slot points outside
 * its ring (a damaged slot must never make us read outside the map). */
static struct l1_rec *
slot_rec(struct cw_l1 *l1, uint64_t s)
{
	if (slot_phys(s) + sizeof(struct l1_rec) > l1->ring_size[slot_ring(s)])
		return NULL;
	return rec_at(l1, slot_ring(s), slot_phys(s));
}

static uint64_t
rec_seed(uint64_t key_hash, const struct l1_rec *r)
{
	return key_hash ^ (uint64_t)r->expires_ns * 0x9e3779b97f4a7c15ull ^
	    ((uint64_t)r->value_len << 32 | (uint64_t)r->flags << 16 |
	    r->key_len);
}

/* Is a record header self-consistent and inside its ring at phys? */
static int
rec_sane(const struct l1_rec *r, uint64_t phys, uint64_t ring_size)
{
	return r->magic == L1_REC_MAGIC && r->key_len > 0 &&
	    r->key_len <= CW_KEY_MAX &&
	    r->rec_bytes == align8(sizeof(*r) + r->key_len + r->value_len) &&
	    phys + r->rec_bytes <= ring_size;
}

/* Full check of a live record in place (writer side, or repair). */
static int
rec_valid(const struct l1_rec *r, uint64_t phys, uint64_t ring_size)
{
	const char *key = (const char *)(r + 1);

	return rec_sane(r, phys, ring_size) &&
	    cw_hash(key, r->key_len) == r->key_hash &&
	    cw_hash_seeded(key + r->key_len, r->value_len,
	    rec_seed(r->key_hash, r)) == r->checksum;
}

/* ---- the lock ---- */

/* Is the writers' state in the header believable? Positions and counts
 * that no writer could have left (a damaged or crafted file) would send
 * eviction and the index's upkeep out of bounds. */
static int
writer_state_sane(const struct l1_header *h)
{
	for (int ring = 0; ring < 2; ring++) {
		const struct l1_ring *rg = &h->ring[ring];

		if (rg->head < rg->tail || rg->head - rg->tail > rg->size ||
		    (rg->head | rg->tail) % 8 != 0 ||
		    rg->entries > h->max_entries || rg->bytes > rg->size)
			return 0;
	}
	return h->live_entries <= h->nslots && h->tombstones <= h->nslots;
}

/* The thread holding the lock, from the futex word: its kernel thread id
 * (glibc's robust mutexes keep it there), 0 when free. */
static pid_t
lock_owner(const struct cw_l1 *l1)
{
	return (pid_t)(__atomic_load_n(&l1->hdr->lock.mutex.__data.__lock,
	    __ATOMIC_ACQUIRE) & FUTEX_TID_MASK);
}

static int
thread_alive(pid_t tid)
{
	/* kill() finds a process by any of its threads' ids. */
	return kill(tid, 0) == 0 || errno != ESRCH;
}

/* Make a fresh robust, process-shared mutex at m. */
static int
init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t ma;
	int rc;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
	return rc;
}

/*
 * The lock names an owner that no longer exists and that the kernel
 * will never report dead: the file was restored from a copy taken while
 * a writer held it, or written back before a power loss. Only one
 * process may replace the mutex (flock on the file orders them, and
 * each looks again under it); the writers' state is then repaired as
 * after a dead writer, and every waiter is woken to look again.
 */
static void
recover_orphaned_lock(struct cw_l1 *l1, pid_t dead)
{
	pthread_mutex_t *m = &l1->hdr->lock.mutex;

	if (flock(l1->fd, LOCK_EX) != 0)
		return;
	if (lock_owner(l1) == dead && !thread_alive(dead) &&
	    init_mutex(m) == 0 && pthread_mutex_lock(m) == 0) {
		cw_l1_int_repair(l1);
		pthread_mutex_unlock(m);
		syscall(SYS_futex, &m->__data.__lock, FUTEX_WAKE, INT_MAX,
		    NULL, NULL, 0);
	}
	flock(l1->fd, LOCK_UN);
}

/*
 * Take the writers' lock within L1_LOCK_WAIT_MS. A dead owner's lock is
 * recovered (EOWNERDEAD from the kernel, or an owner id that is not a
 * live thread); a live owner that holds it past the wait (stopped, or
 * stuck) is CW_ETIMEOUT, and for a while after that the handle only
 * tries, so that a batch of fills does not wait once per key.
 */
static int
lock(struct cw_l1 *l1, struct cw_err *err)
{
	pthread_mutex_t *m = &l1->hdr->lock.mutex;
	struct timespec deadline;
	int rc, recovered = 0;
	pid_t owner;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (deadline.tv_sec < l1->lock_stuck_until_s) {
		if ((rc = pthread_mutex_trylock(m)) == EBUSY)
			return cw_err_set(err, CW_ETIMEOUT, 0,
			    "lock %s: still held by process %d", l1->path,
			    (int)lock_owner(l1));
	} else {
		deadline.tv_sec += L1_LOCK_WAIT_MS / 1000;
		deadline.tv_nsec += L1_LOCK_WAIT_MS % 1000 * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		for (;;) {
			if ((rc = pthread_mutex_trylock(m)) != EBUSY)
				break;
			owner = lock_owner(l1);
			if (owner != 0 && !thread_alive(owner) && !recovered) {
				recover_orphaned_lock(l1, owner);
				recovered = 1;
				continue;
			}
			rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC,
			    &deadline);
			if (rc != ETIMEDOUT)
				break;
			owner = lock_owner(l1);
			if (owner != 0 && !thread_alive(owner) && !recovered)
				continue;	/* died while we waited */
			l1->lock_stuck_until_s = deadline.tv_sec +
			    L1_LOCK_BACKOFF_S;
			return cw_err_set(err, CW_ETIMEOUT, 0,
			    "lock %s: held by process %d for over %d ms",
			    l1->path, (int)owner, L1_LOCK_WAIT_MS);
		}
	}
	if (rc == EOWNERDEAD) {
		/* A writer died holding the lock: the file may be half
		 * written. Make it consistent before anyone else goes on. */
		cw_l1_int_repair(l1);
		pthread_mutex_consistent(m);
		return CW_OK;
	}
	if (rc != 0)
		return cw_err_set(err, CW_EIO, rc, "lock %s", l1->path);
	l1->lock_stuck_until_s = 0;
	if (!writer_state_sane(l1->hdr))
		cw_l1_int_repair(l1);
	return CW_OK;
}

static void
unlock(struct cw_l1 *l1)
{
	pthread_mutex_unlock(&l1->hdr->lock.mutex);
}

/* ---- opening ---- */

static uint64_t
geometry_hash(const struct l1_header *h)
{
	return cw_hash(h, offsetof(struct l1_header, geometry_hash));
}

/* Lay out a new file of the given capacity into h. */
static int
plan(struct l1_header *h, uint64_t max_entries, uint64_t max_bytes,
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
	h->nslots = pow2_at_least(2 * max_entries);
	h->ghost_slots = pow2_at_least(2 * max_entries);
	h->stripe_bytes = align8(sizeof(struct l1_stripe));
	h->created_ns = now_ns;

	small = align8(max_bytes / 100 * L1_SMALL_PCT);
	if (small < L1_MIN_RING)
		small = L1_MIN_RING;
	main_size = align8(max_bytes - small);

	off = L1_HEADER_BYTES;
	h->index_off = off;
	off += h->nslots * sizeof(uint64_t);
	h->ghost_off = off;
	off += h->ghost_slots * sizeof(struct l1_ghost);
	h->stats_off = off;
	off += L1_STRIPES * h->stripe_bytes;
	off = (off + 4095) & ~(uint64_t)4095;
	h->ring[L1_SMALL].off = off;
	h->ring[L1_SMALL].size = small;
	off += small;
	h->ring[L1_MAIN].off = off;
	h->ring[L1_MAIN].size = main_size;
	off += main_size;
	h->file_bytes = (off + 4095) & ~(uint64_t)4095;
	h->geometry_hash = geometry_hash(h);
	return CW_OK;
}

/*
 * Does every field that locates something (the index, the ghost, the
 * stats, both rings, the file's size) say what plan() makes of the
 * capacity? The geometry hash catches damage, not a crafted header, and
 * does not cover the rings: this check is what makes a header that
 * points outside the file impossible, whatever its bytes.
 */
static int
geometry_planned(const struct l1_header *h)
{
	struct l1_header want;

	if (plan(&want, h->max_entries, h->max_bytes, h->created_ns, NULL) !=
	    CW_OK)
		return 0;
	for (int ring = 0; ring < 2; ring++)
		if (h->ring[ring].off != want.ring[ring].off ||
		    h->ring[ring].size != want.ring[ring].size)
			return 0;
	return h->nslots == want.nslots && h->index_off == want.index_off &&
	    h->ghost_slots == want.ghost_slots &&
	    h->ghost_off == want.ghost_off && h->stats_off == want.stats_off &&
	    h->stripe_bytes == want.stripe_bytes &&
	    h->file_bytes == want.file_bytes;
}

/* Is the header in a mapped file of st_size bytes ours and whole? */
static int
check_header(const struct l1_header *h, uint64_t st_size, const char *path,
    struct cw_err *err)
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
	    geometry_hash(h) || h->file_bytes != st_size ||
	    !geometry_planned(h))
		return cw_err_set(err, CW_EFOREIGN, 0,
		    "%s: L1 header damaged or file truncated "
		    "(remove the file to recreate it)", path);
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

	if ((rc = plan(&plan_hdr, o->max_entries, o->max_bytes,
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
	rc = init_mutex(&h->lock.mutex);
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
		fd = cw_fs_fd_above_std(open(o->path,
		    O_RDWR | O_NOFOLLOW | O_CLOEXEC));
		if (fd >= 0 || errno != ENOENT || attempt > 0 ||
		    o->must_exist)
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
	 * nobody else may write it. */
	if (st.st_uid != geteuid() && (!o->shared ||
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
	l1->clock = o->clock;
	if ((l1->path = strdup(o->path)) == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "open %s", o->path);
		goto fail;
	}
	if ((uint64_t)st.st_size < L1_HEADER_BYTES) {
		rc = check_header(NULL, (uint64_t)st.st_size, o->path, err);
		goto fail;
	}
	l1->map_bytes = (size_t)st.st_size;
	l1->map = mmap(NULL, l1->map_bytes, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (l1->map == MAP_FAILED) {
		l1->map = NULL;
		rc = cw_err_set(err, CW_EIO, errno, "mmap %s", o->path);
		goto fail;
	}
	l1->hdr = (struct l1_header *)l1->map;
	if ((rc = check_header(l1->hdr, (uint64_t)st.st_size, o->path,
	    err)) != CW_OK)
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
	/* By pid, not by a shared counter: a lookup that L1 answers then
	 * writes no page of the header, and a short process's every page
	 * written first is a fault. */
	l1->stripe = (struct l1_stripe *)(l1->map + l1->hdr->stats_off +
	    ((unsigned)getpid() % L1_STRIPES) * l1->hdr->stripe_bytes);
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
	if (l1->map != NULL)
		munmap(l1->map, l1->map_bytes);
	close(l1->fd);
	for (unsigned d = 0; d < L1_MAX_DEPTH; d++)
		cw_buf_free(&l1->scratch[d]);
	free(l1->path);
	free(l1);
}

/* ---- reading ---- */

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

		for (n = 0; n < l1->nslots; n++, i = (i + 1) & mask) {
			s = load(&l1->slots[i]);
			if (s == L1_SLOT_EMPTY)
				return CW_ENOTFOUND;
			if (!slot_live(s) || !slot_tag_matches(s, hash) ||
			    (at = slot_rec(l1, s)) == NULL)
				continue;
			memcpy(&r, at, sizeof(r));
			body = (const char *)(at + 1);
			if (r.key_hash == hash && r.key_len == klen &&
			    rec_sane(&r, slot_phys(s),
			    l1->ring_size[slot_ring(s)]) &&
			    memcmp(body, key, klen) == 0)
				break;
		}
		if (n == l1->nslots)
			return CW_ENOTFOUND;
		if (r.expires_ns <= now)
			return CW_ENOTFOUND;
		if ((rc = cw_buf_reserve(val, r.value_len, err)) != CW_OK)
			return rc;
		if (r.value_len > 0)	/* a negative entry has none */
			memcpy(val->data, body + klen, r.value_len);
		/* The copy must be complete before it is checked. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (cw_hash_seeded(val->data, r.value_len,
		    rec_seed(hash, &r)) != r.checksum)
			continue;	/* overwritten under us: look again */
		val->len = r.value_len;
		if (info != NULL) {
			info->expires_ns = r.expires_ns;
			info->flags = r.flags;
		}
		/* S3-FIFO's access count: only written while below its cap,
		 * so popular entries cost no writes. A lost race loses one
		 * count, which is only a hint. */
		if (slot_freq(s) < 3)
			__atomic_compare_exchange_n(&l1->slots[i], &s,
			    slot_with_freq(s, slot_freq(s) + 1), 0,
			    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		return CW_OK;
	}
	count(&l1->hdr->damaged, 1);
	return CW_ENOTFOUND;
}

int
cw_l1_get(struct cw_l1 *l1, const char *key, size_t klen,
    struct cw_buf *val, struct cw_l1_entry_info *info, struct cw_err *err)
{
	return lookup(l1, cw_hash(key, klen), key, klen,
	    cw_clock_calendar_ns(&l1->clock), val, info, err);
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
cw_l1_get_batch(struct cw_l1 *l1, struct cw_l1_lookup *q, size_t n)
{
	/* One reading of the clock for the batch: a batch takes
	 * microseconds, the coarse wall clock ticks in milliseconds. */
	int64_t now = cw_clock_calendar_ns(&l1->clock);
	uint64_t mask = l1->nslots - 1, hash[HASH_RING];

	for (size_t k = 0; k < n + 2 * BATCH_STRIDE; k++) {
		if (k < n) {
			hash[k % HASH_RING] = cw_hash(q[k].key, q[k].klen);
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

			if (slot_live(s) &&
			    (rec = (const char *)slot_rec(l1, s)) != NULL)
				for (int line = 0; line < RECORD_PREFETCH_LINES;
				    line++)
					__builtin_prefetch(rec + 64 * line);
		}
		if (k >= 2 * BATCH_STRIDE) {
			size_t j = k - 2 * BATCH_STRIDE;

			q[j].rc = lookup(l1, hash[j % HASH_RING], q[j].key,
			    q[j].klen, now, q[j].val, &q[j].info, NULL);
		}
	}
}

/* ---- writer side: all below runs under the lock ---- */

/* Find the slot index of key, or -1. */
static int64_t
find_key(struct cw_l1 *l1, uint64_t hash, const char *key, size_t klen)
{
	uint64_t mask = l1->hdr->nslots - 1, i = hash & mask;

	for (uint64_t n = 0; n < l1->hdr->nslots; n++, i = (i + 1) & mask) {
		uint64_t s = l1->slots[i];
		struct l1_rec *r;

		if (s == L1_SLOT_EMPTY)
			return -1;
		if (!slot_live(s) || !slot_tag_matches(s, hash) ||
		    (r = slot_rec(l1, s)) == NULL)
			continue;
		if (r->key_hash == hash && r->key_len == klen &&
		    memcmp(r + 1, key, klen) == 0)
			return (int64_t)i;
	}
	return -1;
}

/* Find the slot pointing at (ring, phys), or -1: is a record live? */
static int64_t
find_location(struct cw_l1 *l1, uint64_t hash, int ring, uint64_t phys)
{
	uint64_t mask = l1->hdr->nslots - 1, i = hash & mask;

	for (uint64_t n = 0; n < l1->hdr->nslots; n++, i = (i + 1) & mask) {
		uint64_t s = l1->slots[i];

		if (s == L1_SLOT_EMPTY)
			return -1;
		if (slot_live(s) && slot_ring(s) == ring &&
		    slot_phys(s) == phys && slot_tag_matches(s, hash))
			return (int64_t)i;
	}
	return -1;
}

static void
account(struct cw_l1 *l1, int ring, uint64_t rec_bytes, int sign)
{
	struct l1_ring *rg = &l1->hdr->ring[ring];

	if (sign > 0) {
		rg->entries++;
		rg->bytes += rec_bytes;
	} else {
		rg->entries -= rg->entries > 0;
		rg->bytes -= rg->bytes >= rec_bytes ? rec_bytes : rg->bytes;
	}
}

static void
drop_slot(struct cw_l1 *l1, uint64_t i)
{
	uint64_t s = l1->slots[i];
	const struct l1_rec *r = slot_rec(l1, s);

	account(l1, slot_ring(s), r != NULL ? r->rec_bytes : 0, -1);
	store(&l1->slots[i], L1_SLOT_TOMB);
	l1->hdr->tombstones++;
	l1->hdr->live_entries -= l1->hdr->live_entries > 0;
}

static int
ghost_contains(struct cw_l1 *l1, uint64_t hash, uint64_t *where)
{
	uint64_t mask = l1->hdr->ghost_slots - 1;
	uint64_t cap = l1->hdr->max_entries * L1_GHOST_PCT / 100;

	for (uint64_t k = 0; k < GHOST_PROBES; k++) {
		uint64_t i = (hash + k) & mask;
		struct l1_ghost *g = &l1->ghost[i];

		if (g->hash == hash && l1->hdr->ghost_seq - g->seq < cap) {
			*where = i;
			return 1;
		}
	}
	return 0;
}

static void
ghost_insert(struct cw_l1 *l1, uint64_t hash)
{
	uint64_t mask = l1->hdr->ghost_slots - 1, victim = hash & mask;

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

/* Would a record of need bytes fit at the ring's head now? */
static int
ring_fits(const struct l1_ring *rg, uint64_t need)
{
	uint64_t room = rg->size - (rg->head - rg->tail);
	uint64_t contiguous = rg->size - rg->head % rg->size;

	return need <= contiguous ? need <= room : contiguous + need <= room;
}

/* Forget everything in a ring whose records no longer parse. */
static void
reset_ring(struct cw_l1 *l1, int ring)
{
	for (uint64_t i = 0; i < l1->hdr->nslots; i++) {
		uint64_t s = l1->slots[i];

		if (slot_live(s) && slot_ring(s) == ring) {
			store(&l1->slots[i], L1_SLOT_TOMB);
			l1->hdr->tombstones++;
			l1->hdr->live_entries -= l1->hdr->live_entries > 0;
			count(&l1->hdr->damaged, 1);
		}
	}
	l1->hdr->ring[ring].entries = 0;
	l1->hdr->ring[ring].bytes = 0;
	store(&l1->hdr->ring[ring].tail, l1->hdr->ring[ring].head);
}

static int append(struct cw_l1 *l1, int ring, const struct l1_rec *r,
    const void *key, const void *val, unsigned depth, uint64_t *phys_out);

/* Leave the record at a ring's tail behind. */
static void
pass_tail(struct l1_ring *rg, uint64_t rec_bytes)
{
	store(&rg->tail, rg->tail + rec_bytes);
}

/* Evict the live entry in slot i whose record sits at the tail. */
static void
evict_entry(struct cw_l1 *l1, struct l1_ring *rg, uint64_t i,
    uint64_t *counter)
{
	uint64_t rec_bytes = slot_rec(l1, l1->slots[i])->rec_bytes;

	drop_slot(l1, i);
	count(counter, 1);
	pass_tail(rg, rec_bytes);
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
	struct l1_rec *r = rec_at(l1, ring, phys);
	struct cw_buf *copy;
	int64_t i;

	if (rg->head == rg->tail)
		return;
	if (r->rec_bytes < 8 || r->rec_bytes % 8 != 0 ||
	    r->rec_bytes > rg->head - rg->tail ||
	    phys + r->rec_bytes > rg->size ||
	    (r->magic != L1_PAD_MAGIC && !rec_sane(r, phys, rg->size))) {
		reset_ring(l1, ring);
		return;
	}
	if (r->magic == L1_PAD_MAGIC ||
	    (i = find_location(l1, r->key_hash, ring, phys)) < 0) {
		pass_tail(rg, r->rec_bytes);
		return;
	}
	s = l1->slots[i];
	freq = slot_freq(s);
	if (r->expires_ns <= cw_clock_calendar_ns(&l1->clock)) {
		evict_entry(l1, rg, (uint64_t)i, &l1->hdr->expirations);
		return;
	}
	if (ring == L1_SMALL && (freq < L1_MOVE_THRESHOLD ||
	    depth >= L1_MAX_DEPTH)) {
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
	account(l1, ring, r->rec_bytes, -1);
	if (append(l1, L1_MAIN, r, r + 1, (const char *)(r + 1) + r->key_len,
	    depth + 1, &newphys) != CW_OK) {
		/* Cannot happen (it fitted before); drop rather than lie. */
		store(&l1->slots[i], L1_SLOT_TOMB);
		l1->hdr->tombstones++;
		l1->hdr->live_entries--;
		if (ring == L1_SMALL)
			pass_tail(rg, r->rec_bytes);
		return;
	}
	account(l1, L1_MAIN, r->rec_bytes, +1);
	store(&l1->slots[i], slot_make(r->key_hash, L1_MAIN, newphys, freq));
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
	while (!ring_fits(rg, need)) {
		if (rg->head == rg->tail) {
			/* Empty but wrapped badly: restart at offset 0. */
			uint64_t start = (rg->head / rg->size + 1) * rg->size;

			store(&rg->head, start);
			store(&rg->tail, start);
			break;
		}
		evict_tail(l1, ring, depth);
	}
	return CW_OK;
}

/* Write a record at the head, making room first; *phys_out gets where.
 * key and val may point into another ring, never into this one. */
static int
append(struct cw_l1 *l1, int ring, const struct l1_rec *r, const void *key,
    const void *val, unsigned depth, uint64_t *phys_out)
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
		struct l1_rec *pad = rec_at(l1, ring, phys);

		pad->rec_bytes = (uint32_t)contiguous;
		pad->magic = L1_PAD_MAGIC;
		store(&rg->head, rg->head + contiguous);
		phys = 0;
	}
	dst = rec_at(l1, ring, phys);
	/* A reader racing with this copy fails its checksum rather than
	 * seeing a mix; the head moves only once the record is whole. */
	memcpy(dst + 1, key, r->key_len);
	if (r->value_len > 0)
		memcpy((char *)(dst + 1) + r->key_len, val, r->value_len);
	memcpy(dst, r, sizeof(*dst));
	memset((char *)(dst + 1) + r->key_len + r->value_len, 0,
	    r->rec_bytes - sizeof(*r) - r->key_len - r->value_len);
	store(&rg->head, rg->head + r->rec_bytes);
	*phys_out = phys;
	return CW_OK;
}

/* S3-FIFO's small queue, in entries. */
static uint64_t
small_target(const struct l1_header *h)
{
	uint64_t n = h->max_entries * L1_SMALL_PCT / 100;

	return n > 0 ? n : 1;
}

/* Evict until one more entry fits under max_entries. */
static void
make_entry_room(struct cw_l1 *l1)
{
	struct l1_header *h = l1->hdr;

	while (h->live_entries >= h->max_entries) {
		int ring;

		if (h->ring[L1_SMALL].head == h->ring[L1_SMALL].tail &&
		    h->ring[L1_MAIN].head == h->ring[L1_MAIN].tail) {
			h->live_entries = 0;	/* counts drifted: trust rings */
			break;
		}
		ring = (h->ring[L1_SMALL].entries >= small_target(h) ||
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
	uint64_t *live, n = 0, mask = h->nslots - 1;

	uint64_t counted = 0;

	/* Counted, not taken from live_entries: a damaged count must not
	 * size the copy. */
	for (uint64_t i = 0; i < h->nslots; i++)
		counted += slot_live(l1->slots[i]);
	if ((live = malloc(counted * sizeof(*live) + 8)) == NULL)
		return CW_ENOMEM;
	for (uint64_t i = 0; i < h->nslots; i++) {
		uint64_t s = l1->slots[i];

		if (slot_live(s) && n < counted)
			live[n++] = s;
	}
	for (uint64_t i = 0; i < h->nslots; i++)
		store(&l1->slots[i], L1_SLOT_EMPTY);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t hash = rec_at(l1, slot_ring(live[k]),
		    slot_phys(live[k]))->key_hash, i = hash & mask;

		while (l1->slots[i] != L1_SLOT_EMPTY)
			i = (i + 1) & mask;
		store(&l1->slots[i], live[k]);
	}
	h->live_entries = n;
	h->tombstones = 0;
	free(live);
	return CW_OK;
}

/* The first slot from hash's on that is not live, or -1 when none is. */
static int64_t
free_slot(struct cw_l1 *l1, uint64_t hash)
{
	uint64_t mask = l1->hdr->nslots - 1, i = hash & mask;

	for (uint64_t n = 0; n < l1->hdr->nslots; n++, i = (i + 1) & mask)
		if (!slot_live(l1->slots[i]))
			return (int64_t)i;
	return -1;
}

/* Put a new entry's slot into the index. The index has room for twice
 * max_entries, so only a damaged one (every slot marked live) is full:
 * it is repaired, and if even that leaves no room the entry is dropped. */
static int
insert_slot(struct cw_l1 *l1, uint64_t hash, uint64_t slot)
{
	struct l1_header *h = l1->hdr;
	int64_t i;

	if ((h->live_entries + h->tombstones + 1) * 4 > h->nslots * 3)
		rebuild_index(l1);
	if ((i = free_slot(l1, hash)) < 0) {
		cw_l1_int_repair(l1);
		rebuild_index(l1);
		if ((i = free_slot(l1, hash)) < 0)
			return CW_EIO;
	}
	if (l1->slots[i] == L1_SLOT_TOMB)
		h->tombstones -= h->tombstones > 0;
	store(&l1->slots[i], slot);
	h->live_entries++;
	return CW_OK;
}

int
cw_l1_set(struct cw_l1 *l1, const char *key, size_t klen, const void *val,
    size_t vlen, int64_t ttl_ms, unsigned flags, struct cw_err *err)
{
	struct l1_header *h = l1->hdr;
	struct l1_rec r;
	uint64_t hash = cw_hash(key, klen), phys, ghost_at = 0;
	int64_t i;
	int rc, ring;

	if (klen == 0 || klen > CW_KEY_MAX)
		return cw_err_set(err, CW_EDATA, 0, "key length %zu", klen);
	if (vlen > UINT32_MAX - 512)
		return cw_err_set(err, CW_ETOOBIG, 0,
		    "value of %zu bytes", vlen);
	memset(&r, 0, sizeof(r));
	r.magic = L1_REC_MAGIC;
	r.key_len = (uint16_t)klen;
	r.value_len = (uint32_t)vlen;
	r.flags = flags & ~CW_L1_NO_EVICT;	/* how to store, not what */
	r.rec_bytes = (uint32_t)align8(sizeof(r) + klen + vlen);
	r.key_hash = hash;
	r.expires_ns = cw_clock_calendar_ns(&l1->clock) +
	    (ttl_ms > INT64_MAX / 1000000 ? INT64_MAX / 2 : ttl_ms * 1000000);
	r.checksum = cw_hash_seeded(val, vlen, rec_seed(hash, &r));

	if ((rc = lock(l1, err)) != CW_OK)
		return rc;
	i = find_key(l1, hash, key, klen);
	if (i >= 0)
		ring = slot_ring(l1->slots[i]);
	else if (ghost_contains(l1, hash, &ghost_at)) {
		ring = L1_MAIN;
		l1->ghost[ghost_at].hash = 0;
	} else
		ring = L1_SMALL;
	/* A warmed entry is a prediction that it will be read: it skips the
	 * small queue, which exists to filter out keys read once after a
	 * miss. Otherwise a warm-up could keep only a small queue's worth
	 * of what it loaded. */
	if ((flags & CW_L1_WARM) != 0)
		ring = L1_MAIN;
	if (r.rec_bytes > h->ring[ring].size)
		ring = L1_MAIN;
	if (r.rec_bytes > h->ring[L1_MAIN].size) {
		/* Served but not cached; an older value must not outlive it. */
		if (i >= 0)
			drop_slot(l1, (uint64_t)i);
		count(&h->too_big, 1);
		unlock(l1);
		return cw_err_set(err, CW_ETOOBIG, 0,
		    "value of %zu bytes does not fit in %s", vlen, l1->path);
	}
	/* A background warmer's fill: into free space or not at all. */
	if ((flags & CW_L1_NO_EVICT) && ((i < 0 && h->live_entries >=
	    h->max_entries) || !ring_fits(&h->ring[ring], r.rec_bytes))) {
		unlock(l1);
		return cw_err_set(err, CW_ETOOBIG, 0, "%s: no free space "
		    "(this fill may not evict)", l1->path);
	}
	if (i < 0)
		make_entry_room(l1);
	if ((rc = append(l1, ring, &r, key, val, 0, &phys)) != CW_OK) {
		unlock(l1);
		return cw_err_set(err, rc, 0, "store in %s", l1->path);
	}
	/* Eviction above may have moved or dropped the old entry. */
	i = find_key(l1, hash, key, klen);
	if (i >= 0) {
		uint64_t old = l1->slots[i];

		account(l1, slot_ring(old), rec_at(l1, slot_ring(old),
		    slot_phys(old))->rec_bytes, -1);
		store(&l1->slots[i], slot_make(hash, ring, phys,
		    slot_freq(old)));
	} else {
		if (h->live_entries >= h->max_entries)
			make_entry_room(l1);
		if (insert_slot(l1, hash, slot_make(hash, ring, phys, 0)) !=
		    CW_OK) {
			unlock(l1);
			return cw_err_set(err, CW_EIO, 0,
			    "%s: index full, every slot damaged", l1->path);
		}
	}
	account(l1, ring, r.rec_bytes, +1);
	count(&h->sets, 1);
	unlock(l1);
	return CW_OK;
}

int
cw_l1_reclaim(struct cw_l1 *l1, uint64_t *reclaimed, struct cw_err *err)
{
	int64_t now = cw_clock_calendar_ns(&l1->clock);
	int rc;

	*reclaimed = 0;
	if ((rc = lock(l1, err)) != CW_OK)
		return rc;
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1->slots[i];
		const struct l1_rec *r;

		if (!slot_live(s) || (r = slot_rec(l1, s)) == NULL ||
		    r->expires_ns > now)
			continue;
		drop_slot(l1, i);
		count(&l1->hdr->expirations, 1);
		(*reclaimed)++;
	}
	unlock(l1);
	return CW_OK;
}

int
cw_l1_del(struct cw_l1 *l1, const char *key, size_t klen, struct cw_err *err)
{
	int64_t i;
	int rc;

	if ((rc = lock(l1, err)) != CW_OK)
		return rc;
	i = find_key(l1, cw_hash(key, klen), key, klen);
	if (i >= 0)
		drop_slot(l1, (uint64_t)i);
	unlock(l1);
	return i >= 0 ? CW_OK : CW_ENOTFOUND;
}

/* ---- repair ---- */

/* Is phys inside the used part [tail, head) of a ring, whole? */
static int
in_window(const struct l1_ring *rg, uint64_t phys, uint64_t rec_bytes)
{
	uint64_t used = rg->head - rg->tail;
	uint64_t from_tail = (phys + rg->size - rg->tail % rg->size) % rg->size;

	return from_tail + rec_bytes <= used;
}

uint64_t
cw_l1_int_repair(struct cw_l1 *l1)
{
	struct l1_header *h = l1->hdr;
	uint64_t dropped = 0, live = 0, tombs = 0;

	for (int ring = 0; ring < 2; ring++) {
		struct l1_ring *rg = &h->ring[ring];

		if (rg->head < rg->tail || rg->head - rg->tail > rg->size ||
		    (rg->head | rg->tail) % 8 != 0) {
			/* Positions no writer leaves: the ring starts over
			 * empty (its entries fail the window check below). */
			store(&rg->head, rg->head & ~(uint64_t)7);
			store(&rg->tail, rg->head);
		}
		rg->entries = 0;
		rg->bytes = 0;
	}
	for (uint64_t i = 0; i < h->nslots; i++) {
		uint64_t s = l1->slots[i];
		const struct l1_ring *rg;
		struct l1_rec *r;

		if (s == L1_SLOT_TOMB)
			tombs++;
		if (!slot_live(s))
			continue;
		rg = &h->ring[slot_ring(s)];
		r = rec_at(l1, slot_ring(s), slot_phys(s));
		if (slot_phys(s) + sizeof(*r) <= rg->size &&
		    rec_valid(r, slot_phys(s), rg->size) &&
		    in_window(rg, slot_phys(s), r->rec_bytes) &&
		    slot_tag_matches(s, r->key_hash)) {
			account(l1, slot_ring(s), r->rec_bytes, +1);
			live++;
			continue;
		}
		store(&l1->slots[i], L1_SLOT_TOMB);
		tombs++;
		dropped++;
	}
	h->live_entries = live;
	h->tombstones = tombs;
	count(&h->damaged, dropped);
	count(&h->repairs, 1);
	return dropped;
}

/* ---- stats ---- */

void
cw_l1_record(struct cw_l1 *l1, enum cw_level level, enum cw_result result,
    int64_t latency_ns)
{
	unsigned b = cw_hist_bucket(latency_ns);

	if (level < CW_LEVEL_COUNT) {
		count(&l1->stripe->results[level][result], 1);
		count(&l1->stripe->latency[b][level], 1);
	}
}

void
cw_l1_record_lookup(struct cw_l1 *l1, int64_t latency_ns)
{
	int64_t wall = cw_clock_calendar_ns(&l1->clock);
	uint64_t tick = wall > 0 ? (uint64_t)wall / 1000000000 / L1_TICK_S : 0;
	unsigned slot = (unsigned)(tick % L1_TICKS);
	uint64_t seen = load(&l1->stripe->tick_epoch[slot]);

	count(&l1->stripe->latency[cw_hist_bucket(latency_ns)][L1_HIST_OVERALL],
	    1);
	/* The first lookup of a new tick restarts its slot; a race with
	 * another process here loses at most a count or two. */
	if (seen != tick && __atomic_compare_exchange_n(
	    &l1->stripe->tick_epoch[slot], &seen, tick, 0, __ATOMIC_RELAXED,
	    __ATOMIC_RELAXED))
		store(&l1->stripe->tick_count[slot], 0);
	count(&l1->stripe->tick_count[slot], 1);
}

/* Sum of lookups in the whole ticks of the last window_s seconds before
 * the current, still running, tick. */
static uint64_t
lookups_in_window(struct cw_l1 *l1, int64_t now_ns, unsigned window_s)
{
	uint64_t now_tick = now_ns > 0 ?
	    (uint64_t)now_ns / 1000000000 / L1_TICK_S : 0, sum = 0;

	for (unsigned k = 0; k < L1_STRIPES; k++) {
		const struct l1_stripe *st = (const struct l1_stripe *)
		    (l1->map + l1->hdr->stats_off + k * l1->hdr->stripe_bytes);

		for (unsigned back = 1; back <= window_s / L1_TICK_S; back++) {
			uint64_t tick = now_tick - back;
			unsigned slot = (unsigned)(tick % L1_TICKS);

			if (load(&st->tick_epoch[slot]) == tick)
				sum += load(&st->tick_count[slot]);
		}
	}
	return sum;
}

const char *
cw_level_name(enum cw_level level)
{
	static const char *const names[] = { "l1", "l2", "l3", "none" };

	return level <= CW_LEVEL_NONE ? names[level] : "none";
}

void
cw_l1_stats(struct cw_l1 *l1, struct cw_l1_stats *out)
{
	const struct l1_header *h = l1->hdr;
	int64_t now = cw_clock_calendar_ns(&l1->clock);

	memset(out, 0, sizeof(*out));
	out->reset_ns = load((const uint64_t *)&h->reset_ns);
	out->lookups_1m = lookups_in_window(l1, now, 60);
	out->lookups_5m = lookups_in_window(l1, now, 300);
	out->lookups_15m = lookups_in_window(l1, now, 900);
	out->max_entries = h->max_entries;
	out->max_bytes = h->ring[0].size + h->ring[1].size;
	out->entries = load(&h->live_entries);
	out->bytes = load(&h->ring[0].bytes) + load(&h->ring[1].bytes);
	out->sets = load(&h->sets);
	out->evictions = load(&h->evictions);
	out->expirations = load(&h->expirations);
	out->damaged = load(&h->damaged);
	out->too_big = load(&h->too_big);
	out->repairs = load(&h->repairs);
	out->created_ns = h->created_ns;
	for (unsigned k = 0; k < L1_STRIPES; k++) {
		const struct l1_stripe *st = (const struct l1_stripe *)
		    (l1->map + h->stats_off + k * h->stripe_bytes);

		for (int lv = 0; lv < CW_LEVEL_COUNT; lv++) {
			for (int res = 0; res < CW_RESULT_COUNT; res++)
				out->level[lv].results[res] +=
				    load(&st->results[lv][res]);
			for (unsigned b = 0; b < CW_HIST_BUCKETS; b++)
				out->level[lv].latency[b] +=
				    load(&st->latency[b][lv]);
		}
		for (unsigned b = 0; b < CW_HIST_BUCKETS; b++)
			out->overall[b] +=
			    load(&st->latency[b][L1_HIST_OVERALL]);
	}
}

int
cw_l1_stats_reset(struct cw_l1 *l1, struct cw_err *err)
{
	struct l1_header *h = l1->hdr;
	int rc;

	/* Under the writer lock so that no two resets interleave; lookups
	 * counting meanwhile may lose a count, which a reset means anyway. */
	if ((rc = lock(l1, err)) != CW_OK)
		return rc;
	for (unsigned k = 0; k < L1_STRIPES; k++) {
		uint64_t *p = (uint64_t *)(l1->map + h->stats_off +
		    k * h->stripe_bytes);

		for (size_t w = 0; w < sizeof(struct l1_stripe) / 8; w++)
			if (p[w] != 0)
				store(&p[w], 0);
	}
	store(&h->sets, 0);
	store(&h->evictions, 0);
	store(&h->expirations, 0);
	store(&h->damaged, 0);
	store(&h->too_big, 0);
	store(&h->repairs, 0);
	store((uint64_t *)&h->reset_ns,
	    (uint64_t)cw_clock_calendar_ns(&l1->clock));
	unlock(l1);
	return CW_OK;
}

int
cw_l1_scan(struct cw_l1 *l1, cw_l1_scan_fn *fn, void *ctx, struct cw_err *err)
{
	struct cw_buf keys = { 0 };
	struct cw_l1_entry *list = NULL;
	size_t n = 0, cap = 0, at = 0;
	int rc;

	/* Copied under the lock (a consistent listing, writers held back
	 * for the copy alone), then handed to fn with the lock released:
	 * fn may print into a pipe nobody reads without stopping writers. */
	if ((rc = lock(l1, err)) != CW_OK)
		return rc;
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1->slots[i];
		const struct l1_rec *r;
		struct cw_l1_entry *e;
		void *p;

		if (!slot_live(s) || (r = slot_rec(l1, s)) == NULL ||
		    !rec_sane(r, slot_phys(s), l1->ring_size[slot_ring(s)]))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((p = realloc(list, cap * sizeof(*list))) == NULL)
				goto nomem;
			list = p;
		}
		if (cw_buf_append(&keys, r + 1, r->key_len, NULL) != CW_OK)
			goto nomem;
		e = &list[n++];
		e->key = NULL;	/* set once keys stops moving */
		e->key_len = r->key_len;
		e->value_bytes = r->value_len;
		e->expires_ns = r->expires_ns;
		e->flags = r->flags;
		e->reads = (unsigned)slot_freq(s);
	}
	unlock(l1);
	for (size_t i = 0; i < n; at += list[i++].key_len)
		list[i].key = keys.data + at;
	for (size_t i = 0; i < n && fn(&list[i], ctx) == 0; i++)
		;
	free(list);
	cw_buf_free(&keys);
	return CW_OK;
nomem:
	unlock(l1);
	free(list);
	cw_buf_free(&keys);
	return cw_err_set(err, CW_ENOMEM, 0, "scan %s", l1->path);
}

int
cw_l1_verify(struct cw_l1 *l1, struct cw_l1_verify *out, struct cw_err *err)
{
	struct l1_header *h = l1->hdr;
	uint64_t live = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = lock(l1, err)) != CW_OK)
		return rc;
	for (int ring = 0; ring < 2; ring++) {
		const struct l1_ring *rg = &h->ring[ring];

		if (rg->head < rg->tail || rg->head - rg->tail > rg->size)
			out->bad_rings++;
	}
	for (uint64_t i = 0; i < l1->nslots; i++) {
		uint64_t s = l1->slots[i];
		const struct l1_ring *rg;
		const struct l1_rec *r;

		if (!slot_live(s))
			continue;
		out->checked++;
		rg = &h->ring[slot_ring(s)];
		r = slot_rec(l1, s);
		if (r != NULL && rec_valid(r, slot_phys(s), rg->size) &&
		    in_window(rg, slot_phys(s), r->rec_bytes) &&
		    slot_tag_matches(s, r->key_hash)) {
			live++;
			continue;
		}
		out->damaged++;
	}
	out->count_mismatch = live + out->damaged != h->live_entries;
	unlock(l1);
	return CW_OK;
}
