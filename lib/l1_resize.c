/*
 * l1_resize: a file of another capacity, built from the old one's hottest
 * entries and swapped in whole; and the handles that follow it there.
 *
 * An L1 file's capacity is fixed when it is made: its geometry is checked
 * on every open and copied into each handle, so nothing may move under a
 * reader. A new capacity is therefore a new file: made beside the old one
 * under the old one's writer lock, filled with the old one's fresh
 * entries hottest first (by the access marks S3-FIFO keeps) until it is
 * full, given its counters, synced, and renamed over the path. Only then
 * is the old header's `moved` word set; a handle that sees it opens the
 * path again, finds the new file and works there from then on. The order
 * matters: a mark set before the rename would send handles back to the
 * old file, and a resizer killed before the rename leaves the old file
 * as it was (and a PATH.resize that the next resize removes).
 *
 * A reader in the middle of a lookup on the old mapping finishes it
 * there: the old file stays whole (unlinked, still mapped) until the last
 * handle on it closes, so no reader sees a torn or a wrong value. Writers
 * wait on the old lock while the copy runs, as they would for any long
 * writer; one that gets the lock after the mark writes into the new file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cw.h"
#include "l1_int.h"

struct cw_l1 *
cw_l1_int_follow(struct cw_l1 *l1)
{
	struct cw_l1 *next = __atomic_load_n(&l1->next, __ATOMIC_ACQUIRE);
	struct stat was, now;

	if (next == NULL) {
		pthread_mutex_lock(&l1->next_lock);
		if ((next = l1->next) == NULL &&
		    cw_l1_open(&next, &l1->reopen, NULL) == CW_OK) {
			/* The same file again (its mark set by a damaged
			 * header, say): stay, and never look again. */
			if (fstat(l1->fd, &was) == 0 &&
			    fstat(next->fd, &now) == 0 &&
			    was.st_ino == now.st_ino &&
			    was.st_dev == now.st_dev) {
				cw_l1_close(next);
				next = l1;
			}
			__atomic_store_n(&l1->next, next, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&l1->next_lock);
		/* Cannot open the path now: the old mapping still answers,
		 * and the next operation tries again. */
		if (next == NULL)
			return l1;
	}
	return next == l1 ? l1 : l1_live(next);
}

/* The counters go with the entries, so cw-stats goes on where it was. */
static void
copy_counters(struct cw_l1 *to, const struct cw_l1 *from)
{
	struct l1_header *t = to->hdr;
	const struct l1_header *f = from->hdr;

	l1_store(&t->sets, l1_load(&f->sets));
	l1_store(&t->evictions, l1_load(&f->evictions));
	l1_store(&t->expirations, l1_load(&f->expirations));
	l1_store(&t->damaged, l1_load(&f->damaged));
	l1_store(&t->too_big, l1_load(&f->too_big));
	l1_store(&t->repairs, l1_load(&f->repairs));
	l1_store(&t->stale_served, l1_load(&f->stale_served));
	l1_store((uint64_t *)&t->reset_ns,
	    l1_load((const uint64_t *)&f->reset_ns));
	if (to->stripe_bytes != from->stripe_bytes)
		return;
	/* Other processes count into these meanwhile: a count or two may
	 * be lost, as with a reset. */
	L1_RACY_READS_BEGIN();
	memcpy(to->stripes, from->stripes, L1_STRIPES * from->stripe_bytes);
	L1_RACY_READS_END();
}

/* The old file's fresh entries into the new one, hottest first, each
 * only where there is room (no eviction: what does not fit is colder
 * than what did). */
static int
copy_entries(struct cw_l1 *to, struct cw_l1 *from,
    struct cw_l1_resize_result *out, struct cw_err *err)
{
	struct cw_buf keys = { 0 }, val = { 0 };
	struct cw_l1_entry *list = NULL;
	size_t n;
	int rc;

	if ((rc = cw_l1_int_collect(from, 1, &list, &n, &keys, err)) != CW_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct cw_l1_entry_info info;
		int64_t now = cw_clock_calendar_ns(&from->clock), ttl_ms;
		unsigned flags;

		if (cw_l1_get(from, list[i].key, list[i].key_len, &val, &info,
		    NULL) != CW_OK || (ttl_ms = (info.expires_ns - now) /
		    1000000) <= 0)
			continue;
		out->live++;
		/* What sat in main goes to main: it earned its place. */
		flags = (info.flags & (CW_L1_NEGATIVE | CW_L1_WARM)) |
		    (list[i].in_main ? CW_L1_WARM : 0) | CW_L1_NO_EVICT;
		rc = cw_l1_set(to, list[i].key, list[i].key_len, val.data,
		    val.len, ttl_ms, flags, err);
		if (rc == CW_ETOOBIG)
			continue;
		if (rc != CW_OK)
			goto out;
		out->kept++;
		/* Its access count too, read back as often as it was read:
		 * the hot list of the new file is the old one's. */
		for (unsigned r = 0; r < list[i].reads; r++)
			cw_l1_get(to, list[i].key, list[i].key_len, &val, NULL,
			    NULL);
	}
	rc = CW_OK;
out:
	free(list);
	cw_buf_free(&keys);
	cw_buf_free(&val);
	return rc;
}

/* Build the new file at tmp, of o's capacity, with old's mode and group,
 * and everything that fits. */
static int
build(const struct cw_l1_opts *o, struct cw_l1 *old, const char *tmp,
    struct cw_l1_resize_result *out, struct cw_err *err)
{
	struct cw_l1_opts no = *o;
	struct cw_l1 *new;
	struct stat st;
	int rc;

	if (fstat(old->fd, &st) != 0)
		return cw_err_set(err, CW_EIO, errno, "stat %s", old->path);
	if (unlink(tmp) != 0 && errno != ENOENT)
		return cw_err_set(err, CW_EIO, errno, "remove %s", tmp);
	no.path = tmp;
	no.must_exist = 0;
	no.read_only = 0;
	no.mode = st.st_mode & 0777;
	if ((rc = cw_l1_open(&new, &no, err)) != CW_OK)
		return rc;
	out->new_entries = new->hdr->max_entries;
	out->new_bytes = new->hdr->max_bytes;
	if (fchown(new->fd, (uid_t)-1, st.st_gid) != 0) {
		rc = cw_err_set(err, CW_EIO, errno, "give %s group %ld", tmp,
		    (long)st.st_gid);
	} else if ((rc = copy_entries(new, old, out, err)) == CW_OK) {
		copy_counters(new, old);
		if (msync(new->map, new->map_bytes, MS_SYNC) != 0 ||
		    fsync(new->fd) != 0)
			rc = cw_err_set(err, CW_EIO, errno, "sync %s", tmp);
	}
	cw_l1_close(new);
	return rc;
}

int
cw_l1_resize(const struct cw_l1_opts *o, struct cw_l1_resize_result *out,
    struct cw_err *err)
{
	struct cw_l1_opts oo = *o;
	struct cw_l1 *old;
	char tmp[CW_PATH_MAX + 8];
	int rc;

	memset(out, 0, sizeof(*out));
	if (snprintf(tmp, sizeof(tmp), "%s.resize", o->path) >=
	    (int)sizeof(tmp))
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", o->path);
	oo.must_exist = 1;
	oo.read_only = 0;
	if ((rc = cw_l1_open(&old, &oo, err)) != CW_OK)
		return rc;
	out->old_entries = old->hdr->max_entries;
	out->old_bytes = old->hdr->max_bytes;
	if (out->old_entries == o->max_entries &&
	    out->old_bytes == o->max_bytes) {
		out->new_entries = out->old_entries;
		out->new_bytes = out->old_bytes;
		out->unchanged = 1;
		cw_l1_close(old);
		return CW_OK;
	}
	/* One resizer at a time, and no writer between the copy and the
	 * mark: both go through this lock. */
	if ((rc = cw_l1_int_lock(old, err)) != CW_OK) {
		cw_l1_close(old);
		return rc;
	}
	if ((rc = build(o, old, tmp, out, err)) != CW_OK) {
		unlink(tmp);
	} else if (rename(tmp, o->path) != 0) {
		rc = cw_err_set(err, CW_EIO, errno, "rename %s to %s", tmp,
		    o->path);
		unlink(tmp);
	} else {
		__atomic_store_n(&old->hdr->moved, 1, __ATOMIC_RELEASE);
	}
	cw_l1_int_unlock(old);
	cw_l1_close(old);
	return rc;
}
