/*
 * Opening an arbitrary L1 file, then using it every way there is: a
 * good file (some entries in both rings, some expired) is damaged by the
 * input, read as patches of four bytes (a 24-bit offset into the file,
 * then the byte to write there), and then opened, read, written,
 * listed, reclaimed and verified. (The counters are read at fixed offsets
 * that the header check pins; reading their megabyte each run would make
 * the harness ten times slower.) A damaged file must be refused, or
 * used without a crash, a hang or a wrong value. The lock's own line is
 * left alone: a lock word naming a live process is a two-second wait by
 * design, which the unit tests cover.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "l1_int.h"

#define START_NS (1704196800LL * 1000000000)
static int64_t now_ns = START_NS;

static struct cw_l1_opts
opts(const char *path)
{
	struct cw_l1_opts o = {
		.path = path, .max_entries = 16, .max_bytes = 8192,
		.mode = 0600, .clock = cw_clock_manual(&now_ns),
		.must_exist = 1,
	};

	return o;
}

/* A value that says whose it is: the key, then a letter. */
static size_t
value_of(char *v, size_t cap, const char *key, int i)
{
	return (size_t)snprintf(v, cap, "%s=%c%0*d", key, 'a' + i % 26,
	    i * 37 % 300, 0);
}

static struct cw_buf good;

static void
make_good(void)
{
	const char *path = fuzz_file("good.l1", NULL, 0);
	struct cw_l1_opts o = opts(path);
	struct cw_l1 *l1;
	char key[16], v[512];
	int fd;

	unlink(path);
	o.must_exist = 0;
	FUZZ_ASSERT(cw_l1_open(&l1, &o, NULL) == CW_OK);
	for (int i = 0; i < 40; i++) {
		struct cw_buf b = { 0 };

		snprintf(key, sizeof(key), "k%d", i % 24);
		cw_l1_set(l1, key, strlen(key), v,
		    value_of(v, sizeof(v), key, i), i % 5 == 0 ? 1 : 60000,
		    i % 7 == 0 ? CW_L1_WARM : 0, NULL);
		cw_l1_get(l1, key, strlen(key), &b, NULL, NULL);
		cw_buf_free(&b);
	}
	cw_l1_close(l1);
	FUZZ_ASSERT((fd = open(path, O_RDONLY)) >= 0);
	FUZZ_ASSERT(cw_buf_read_fd(&good, fd, path, NULL) == CW_OK);
	close(fd);
}

static int
ignore(const struct cw_l1_entry *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 0;
}

/* Put back what a run may have changed: everything but the counters'
 * stripes (which only the patches touch), then each patched byte. The
 * whole file is a megabyte of mostly counters; rewriting it every run
 * would be most of the time spent. */
static void
restore(int fd, const uint8_t *data, size_t size)
{
	const struct l1_header *h = (const struct l1_header *)good.data;

	FUZZ_ASSERT(pwrite(fd, good.data, h->stats_off, 0) ==
	    (ssize_t)h->stats_off);
	FUZZ_ASSERT(pwrite(fd, good.data + h->ring[0].off, good.len -
	    h->ring[0].off, (off_t)h->ring[0].off) ==
	    (ssize_t)(good.len - h->ring[0].off));
	for (size_t i = 0; i + 4 <= size; i += 4) {
		size_t off = ((size_t)data[i] | (size_t)data[i + 1] << 8 |
		    (size_t)data[i + 2] << 16) % good.len;

		FUZZ_ASSERT(pwrite(fd, good.data + off, 1, (off_t)off) == 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static const char *path;
	struct cw_buf b = { 0 };
	struct cw_l1_lookup q[24];
	struct cw_buf vals[24];
	char keys[24][16], v[512];
	struct cw_l1_opts o;
	struct cw_l1_verify vf;
	struct cw_l1 *l1;
	uint64_t n;

	now_ns = START_NS;	/* each input alone decides what happens */
	if (fd < 0) {
		make_good();
		path = fuzz_file("fuzz.l1", (const uint8_t *)good.data,
		    good.len);
		FUZZ_ASSERT((fd = open(path, O_RDWR)) >= 0);
	}
	for (size_t i = 0; i + 4 <= size; i += 4) {
		size_t off = ((size_t)data[i] | (size_t)data[i + 1] << 8 |
		    (size_t)data[i + 2] << 16) % good.len;

		if (off < offsetof(struct l1_header, lock) ||
		    off >= offsetof(struct l1_header, ring))
			FUZZ_ASSERT(pwrite(fd, &data[i + 3], 1, (off_t)off) ==
			    1);
	}
	o = opts(path);
	if (cw_l1_open(&l1, &o, NULL) != CW_OK) {
		restore(fd, data, size);
		return 0;
	}
	/* Every value read is one that was written for its key. */
	for (int i = 0; i < 24; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		memset(&vals[i], 0, sizeof(vals[i]));
		q[i].key = keys[i];
		q[i].klen = strlen(keys[i]);
		q[i].val = &vals[i];
	}
	cw_l1_get_batch(l1, q, 24);
	for (int i = 0; i < 24; i++) {
		if (q[i].rc == CW_OK)
			FUZZ_ASSERT(vals[i].len > q[i].klen &&
			    memcmp(vals[i].data, keys[i], q[i].klen) == 0 &&
			    vals[i].data[q[i].klen] == '=');
		cw_buf_free(&vals[i]);
	}
	if (cw_l1_get(l1, "k3", 2, &b, NULL, NULL) == CW_OK)
		FUZZ_ASSERT(b.len > 3 && memcmp(b.data, "k3=", 3) == 0);
	for (int i = 0; i < 8; i++)
		cw_l1_set(l1, keys[i], q[i].klen, v,
		    value_of(v, sizeof(v), keys[i], i), 60000, 0, NULL);
	cw_l1_del(l1, "k9", 2, NULL);
	cw_l1_scan(l1, ignore, NULL, NULL);
	now_ns += 2000000;
	cw_l1_reclaim(l1, &n, NULL);
	/* After any of that, a repair leaves a file that verifies whole. */
	FUZZ_ASSERT(cw_l1_verify(l1, &vf, NULL) == CW_OK);
	FUZZ_ASSERT(cw_l1_int_lock(l1, NULL) == CW_OK);
	cw_l1_int_repair(l1);
	cw_l1_int_unlock(l1);
	FUZZ_ASSERT(cw_l1_verify(l1, &vf, NULL) == CW_OK);
	FUZZ_ASSERT(vf.damaged == 0 && vf.bad_rings == 0 &&
	    !vf.count_mismatch);
	cw_l1_close(l1);
	cw_buf_free(&b);
	restore(fd, data, size);
	return 0;
}
