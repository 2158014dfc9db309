/*
 * lmdb: the L1 beside LMDB, the embedded store closest to it (a shared
 * memory-mapped file, lock-free readers), in one run.
 *
 * usage: lmdb [DIR]
 *
 * Both hold the same entries and are read in the same random order:
 * lone gets of 100-byte and 8 KB values (LMDB's with its copy into the
 * caller's buffer, as ours makes, and without), batches of 128 (LMDB:
 * one read transaction, zero-copy, and with one copy), and stores of
 * 100k values of 100 bytes one at a time and in batches (LMDB: 1000 puts
 * per write transaction, without fsync: the L1 does not sync either),
 * into new stores and into stores that hold the keys already.
 * Prints medians of several runs, in ns per operation, and the ratios.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "timing.h"
#include "l1_int.h"

#define RUNS 3
#define LOOKUPS 1000000
#define BATCH 128
#define PUTS 100000
#define PUT_TXN 1000

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "lmdb: %s: %s\n", what, why);
	exit(70);
}

static void
check(int rc, const char *what)
{
	if (rc != MDB_SUCCESS)
		die(what, mdb_strerror(rc));
}

struct store {
	struct cw_l1 *l1;
	MDB_env *env;
	MDB_dbi dbi;
	char l1_path[512], lmdb_dir[512];
};

/* An L1 sized for twice the entries it will hold, as for its bytes. */
static void
store_open(struct store *s, const char *dir, const char *name,
    uint64_t entries, size_t bytes)
{
	struct cw_l1_opts o = {
		.path = s->l1_path, .max_entries = 2 * entries,
		.max_bytes = bytes, .mode = 0600, .clock = cw_clock_system(),
	};
	struct cw_err e;
	MDB_txn *txn;

	snprintf(s->l1_path, sizeof(s->l1_path), "%s/%s.l1", dir, name);
	snprintf(s->lmdb_dir, sizeof(s->lmdb_dir), "%s/%s.lmdb", dir, name);
	unlink(s->l1_path);
	if (cw_l1_open(&s->l1, &o, &e) != CW_OK)
		die(s->l1_path, e.msg);
	mkdir(s->lmdb_dir, 0700);
	check(mdb_env_create(&s->env), "env");
	check(mdb_env_set_mapsize(s->env, bytes * 2), "mapsize");
	check(mdb_env_open(s->env, s->lmdb_dir, MDB_NOSYNC | MDB_WRITEMAP,
	    0600), s->lmdb_dir);
	check(mdb_txn_begin(s->env, NULL, 0, &txn), "txn");
	check(mdb_dbi_open(txn, NULL, 0, &s->dbi), "dbi");
	check(mdb_txn_commit(txn), "commit");
}

static void
store_close(struct store *s)
{
	char path[600];

	cw_l1_close(s->l1);
	mdb_env_close(s->env);
	unlink(s->l1_path);
	snprintf(path, sizeof(path), "%s/data.mdb", s->lmdb_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", s->lmdb_dir);
	unlink(path);
	rmdir(s->lmdb_dir);
}

static char (*keys)[24];
static int *order;

static void
make_keys(int n)
{
	keys = malloc((size_t)n * sizeof(*keys));
	order = malloc(LOOKUPS * sizeof(*order));
	if (keys == NULL || order == NULL)
		die("keys", "out of memory");
	for (int i = 0; i < n; i++)
		snprintf(keys[i], sizeof(keys[i]), "bench:%08d", i);
}

/* The same random order of lookups over the first n keys, for both. */
static void
make_order(int n)
{
	uint64_t x = 42;

	for (int i = 0; i < LOOKUPS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		order[i] = (int)(x % (uint64_t)n);
	}
}

static MDB_val
mval(const void *p, size_t n)
{
	MDB_val v = { n, (void *)p };

	return v;
}

/* Both stores get n entries of vlen bytes. */
static void
fill(struct store *s, int n, size_t vlen)
{
	char *v = malloc(vlen);
	MDB_txn *txn;

	memset(v, 'v', vlen);
	check(mdb_txn_begin(s->env, NULL, 0, &txn), "txn");
	for (int i = 0; i < n; i++) {
		MDB_val k = mval(keys[i], strlen(keys[i])), d = mval(v, vlen);

		check(mdb_put(txn, s->dbi, &k, &d, 0), "put");
		if (cw_l1_set(s->l1, keys[i], strlen(keys[i]), v, vlen,
		    3600000, CW_L1_WARM, NULL) != CW_OK)
			die("l1", "set");
	}
	check(mdb_txn_commit(txn), "commit");
	free(v);
}

static double
l1_lone(struct store *s, struct cw_buf *b, size_t vlen)
{
	double t0 = now_s();

	for (int i = 0; i < LOOKUPS; i++) {
		const char *k = keys[order[i]];

		if (cw_l1_get(s->l1, k, strlen(k), b, NULL, NULL) != CW_OK ||
		    b->len != vlen)
			die("l1", "get");
	}
	return (now_s() - t0) * 1e9 / LOOKUPS;
}

/* LMDB's lone get: a read transaction renewed for each, as a process
 * serving one lookup at a time does; copy says whether the value is
 * copied out, as a caller that keeps it past the transaction must. */
static double
lmdb_lone(struct store *s, char *out, size_t vlen, int copy)
{
	double t0 = now_s();
	MDB_txn *txn;

	check(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), "txn");
	mdb_txn_reset(txn);
	for (int i = 0; i < LOOKUPS; i++) {
		MDB_val k = mval(keys[order[i]], strlen(keys[order[i]])), d;

		check(mdb_txn_renew(txn), "renew");
		check(mdb_get(txn, s->dbi, &k, &d), "get");
		if (d.mv_size != vlen)
			die("lmdb", "size");
		if (copy)
			memcpy(out, d.mv_data, d.mv_size);
		else
			__asm__ volatile("" : : "r"(d.mv_data) : "memory");
		mdb_txn_reset(txn);
	}
	mdb_txn_abort(txn);
	return (now_s() - t0) * 1e9 / LOOKUPS;
}

static double
l1_batch(struct store *s, struct cw_buf *bufs, size_t vlen)
{
	struct cw_l1_lookup q[BATCH];
	double t0 = now_s();

	for (int n = 0; n + BATCH <= LOOKUPS; n += BATCH) {
		for (int j = 0; j < BATCH; j++) {
			q[j].key = keys[order[n + j]];
			q[j].klen = strlen(q[j].key);
			q[j].val = &bufs[j];
		}
		cw_l1_get_batch(s->l1, q, BATCH);
		for (int j = 0; j < BATCH; j++)
			if (q[j].rc != CW_OK || bufs[j].len != vlen)
				die("l1", "batch");
	}
	return (now_s() - t0) * 1e9 / (LOOKUPS / BATCH * BATCH);
}

static double
lmdb_batch(struct store *s, char *out, size_t vlen, int copy)
{
	double t0 = now_s();
	MDB_txn *txn;

	check(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), "txn");
	mdb_txn_reset(txn);
	for (int n = 0; n + BATCH <= LOOKUPS; n += BATCH) {
		check(mdb_txn_renew(txn), "renew");
		for (int j = 0; j < BATCH; j++) {
			const char *key = keys[order[n + j]];
			MDB_val k = mval(key, strlen(key)), d;

			check(mdb_get(txn, s->dbi, &k, &d), "get");
			if (d.mv_size != vlen)
				die("lmdb", "size");
			if (copy)
				memcpy(out + (size_t)j * vlen, d.mv_data,
				    d.mv_size);
			else
				__asm__ volatile("" : : "r"(d.mv_data) :
				    "memory");
		}
		mdb_txn_reset(txn);
	}
	mdb_txn_abort(txn);
	return (now_s() - t0) * 1e9 / (LOOKUPS / BATCH * BATCH);
}

/* One line of gets: the L1's, LMDB's with its copy and without. */
static void
report_gets(const char *label, const char *how, double *l1, double *lm,
    double *zero_copy)
{
	double a = median(l1, RUNS), b = median(lm, RUNS),
	    c = median(zero_copy, RUNS);

	printf("%s_%s_get_ns l1 %.0f lmdb %.0f lmdb_zero_copy %.0f "
	    "(l1 over lmdb %.2f, over lmdb zero-copy %.2f)\n", label, how, a,
	    b, c, a / b, a / c);
}

/* Gets of vlen-byte values from n entries: lone and batched, both. */
static void
gets(const char *dir, int n, size_t vlen, const char *label)
{
	double l1l[RUNS], mc[RUNS], mz[RUNS], l1b[RUNS], bc[RUNS], bz[RUNS];
	struct cw_buf b = { 0 }, bufs[BATCH];
	char *out = malloc(vlen * BATCH);
	struct store s;

	memset(bufs, 0, sizeof(bufs));
	make_order(n);
	store_open(&s, dir, label, (uint64_t)n, (size_t)n * (vlen + 128) * 2);
	fill(&s, n, vlen);
	l1_lone(&s, &b, vlen);		/* the pages in, for both */
	lmdb_lone(&s, out, vlen, 1);
	for (int r = 0; r < RUNS; r++) {
		l1l[r] = l1_lone(&s, &b, vlen);
		mc[r] = lmdb_lone(&s, out, vlen, 1);
		mz[r] = lmdb_lone(&s, out, vlen, 0);
		l1b[r] = l1_batch(&s, bufs, vlen);
		bc[r] = lmdb_batch(&s, out, vlen, 1);
		bz[r] = lmdb_batch(&s, out, vlen, 0);
	}
	report_gets(label, "lone", l1l, mc, mz);
	report_gets(label, "batch", l1b, bc, bz);
	store_close(&s);
	cw_buf_free(&b);
	for (int j = 0; j < BATCH; j++)
		cw_buf_free(&bufs[j]);
	free(out);
}

static double
l1_sets(struct store *s, const char *v, size_t vlen, int batched)
{
	static struct cw_l1_write w[PUT_TXN];
	double t0 = now_s();

	for (int i = 0; i < PUTS && !batched; i++)
		if (cw_l1_set(s->l1, keys[i], strlen(keys[i]), v, vlen, 3600000,
		    CW_L1_WARM, NULL) != CW_OK)
			die("l1", "set");
	for (int i = 0; i < PUTS && batched; i += PUT_TXN) {
		for (int j = 0; j < PUT_TXN; j++)
			w[j] = (struct cw_l1_write){ keys[i + j],
			    strlen(keys[i + j]), v, vlen, 3600000, CW_L1_WARM,
			    0 };
		cw_l1_set_batch(s->l1, w, PUT_TXN);
		for (int j = 0; j < PUT_TXN; j++)
			if (w[j].rc != CW_OK)
				die("l1", "set batch");
	}
	return (now_s() - t0) * 1e9 / PUTS;
}

static double
lmdb_sets(struct store *s, const char *v, size_t vlen)
{
	double t0 = now_s();
	MDB_txn *txn;

	for (int i = 0; i < PUTS; i += PUT_TXN) {
		check(mdb_txn_begin(s->env, NULL, 0, &txn), "txn");
		for (int j = 0; j < PUT_TXN; j++) {
			MDB_val k = mval(keys[i + j], strlen(keys[i + j])),
			    d = mval(v, vlen);

			check(mdb_put(txn, s->dbi, &k, &d, 0), "put");
		}
		check(mdb_txn_commit(txn), "commit");
	}
	return (now_s() - t0) * 1e9 / PUTS;
}

/*
 * Stores of PUTS values of 100 bytes: into new, empty stores (where
 * both pay a page fault for every page they touch first), then as a
 * warmer finds them, the keys there already and, for the L1, every page
 * of the file touched (its rings wrapped once).
 */
static void
sets(const char *dir)
{
	double fb[RUNS], fl[RUNS], one[RUNS], many[RUNS], lm[RUNS];
	char v[100];

	memset(v, 's', sizeof(v));
	for (int r = 0; r < RUNS; r++) {
		struct store s;

		store_open(&s, dir, "set", PUTS, 64 << 20);
		fb[r] = l1_sets(&s, v, sizeof(v), 1);
		fl[r] = lmdb_sets(&s, v, sizeof(v));
		for (int pass = 0; pass < 3; pass++)
			l1_sets(&s, v, sizeof(v), 1);
		one[r] = l1_sets(&s, v, sizeof(v), 0);
		many[r] = l1_sets(&s, v, sizeof(v), 1);
		lm[r] = lmdb_sets(&s, v, sizeof(v));
		store_close(&s);
	}
	printf("set_100b_new_store_ns l1_batch %.0f lmdb_txn_of_%d %.0f "
	    "(l1 batch over lmdb %.2f)\n", median(fb, RUNS), PUT_TXN,
	    median(fl, RUNS), median(fb, RUNS) / median(fl, RUNS));
	printf("set_100b_ns l1 %.0f l1_batch %.0f lmdb_txn_of_%d %.0f "
	    "(l1 batch over lmdb %.2f)\n", median(one, RUNS),
	    median(many, RUNS), PUT_TXN, median(lm, RUNS),
	    median(many, RUNS) / median(lm, RUNS));
}

int
main(int argc, char *argv[])
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";

	make_keys(PUTS);
	gets(dir, 100000, 100, "v100b");
	gets(dir, 10000, 8192, "v8k");
	sets(dir);
	free(keys);
	free(order);
	return 0;
}
