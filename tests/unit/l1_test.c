#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "fs_int.h"
#include "hash_int.h"
#include "l1_int.h"
#include "trace_int.h"
#include "hist_int.h"

static struct cw_l1 *
open_l1(const char *name, uint64_t entries, uint64_t bytes)
{
	char path[PATH_MAX];
	struct cw_l1_opts o = {
		.path = tpath(path, sizeof(path), name),
		.max_entries = entries,
		.max_bytes = bytes,
		.mode = 0600,
		.clock = cw_clock_manual(&tenv.now_ns),
	};
	struct cw_l1 *l1 = NULL;
	struct cw_err e;

	cr_assert_eq(cw_l1_open(&l1, &o, &e), CW_OK, "%s", e.msg);
	return l1;
}

static int
open_err(const char *path, struct cw_err *e)
{
	struct cw_l1_opts o = {
		.path = path, .max_entries = 10, .max_bytes = 1 << 16,
		.mode = 0600, .clock = cw_clock_manual(&tenv.now_ns),
	};
	struct cw_l1 *l1 = NULL;
	int rc = cw_l1_open(&l1, &o, e);

	cw_l1_close(l1);
	return rc;
}

static void
set_str(struct cw_l1 *l1, const char *k, const char *v, int64_t ttl_ms)
{
	struct cw_err e;

	cr_assert_eq(cw_l1_set(l1, k, strlen(k), v, strlen(v), ttl_ms, 0, &e),
	    CW_OK, "%s", e.msg);
}

static int
get_str(struct cw_l1 *l1, const char *k, struct cw_buf *b)
{
	return cw_l1_get(l1, k, strlen(k), b, NULL, NULL);
}

TestSuite(l1, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 60);

Test(l1, set_then_get_returns_the_value)
{
	struct cw_l1 *l1 = open_l1("l1", 100, 1 << 20);
	struct cw_buf b = { 0 };
	struct cw_l1_entry_info info;

	set_str(l1, "a", "alpha", 1000);
	cr_assert_eq(cw_l1_get(l1, "a", 1, &b, &info, NULL), CW_OK);
	cr_assert_eq(b.len, 5);
	cr_assert_arr_eq(b.data, "alpha", 5);
	cr_assert_eq(info.expires_ns, tenv.now_ns + 1000 * 1000000LL);
	cr_assert_eq(get_str(l1, "b", &b), CW_ENOTFOUND);
	set_str(l1, "a", "replaced", 1000);
	cr_assert_eq(get_str(l1, "a", &b), CW_OK);
	cr_assert_eq(b.len, 8);
	cr_assert_eq(cw_l1_del(l1, "a", 1, NULL), CW_OK);
	cr_assert_eq(get_str(l1, "a", &b), CW_ENOTFOUND);
	cr_assert_eq(cw_l1_del(l1, "a", 1, NULL), CW_ENOTFOUND);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, values_are_opaque_bytes)
{
	struct cw_l1 *l1 = open_l1("l1", 100, 1 << 20);
	struct cw_buf b = { 0 };
	const char v[] = "a\0b\tc\nd";

	cr_assert_eq(cw_l1_set(l1, "k", 1, v, sizeof(v), 1000, 0, NULL), CW_OK);
	cr_assert_eq(cw_l1_set(l1, "empty", 5, "", 0, 1000, 0, NULL), CW_OK);
	cr_assert_eq(get_str(l1, "k", &b), CW_OK);
	cr_assert_eq(b.len, sizeof(v));
	cr_assert_arr_eq(b.data, v, sizeof(v));
	cr_assert_eq(get_str(l1, "empty", &b), CW_OK);
	cr_assert_eq(b.len, 0);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, expired_entry_reads_as_miss)
{
	struct cw_l1 *l1 = open_l1("l1", 100, 1 << 20);
	struct cw_buf b = { 0 };

	set_str(l1, "k", "v", 300 * 1000);
	tenv.now_ns += 299 * 1000000000LL;
	cr_assert_eq(get_str(l1, "k", &b), CW_OK);
	tenv.now_ns += 1000000000LL;
	cr_assert_eq(get_str(l1, "k", &b), CW_ENOTFOUND);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, entry_bound_holds)
{
	struct cw_l1 *l1 = open_l1("l1", 50, 1 << 20);
	struct cw_l1_stats *st = malloc(sizeof(*st));
	struct cw_buf b = { 0 };
	char k[32];
	int found = 0;

	for (int i = 0; i < 500; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		set_str(l1, k, "value", 60000);
		cw_l1_stats(l1, 0, st);
		cr_assert_leq(st->entries, 50, "at %d: %llu entries", i,
		    (unsigned long long)st->entries);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		found += get_str(l1, k, &b) == CW_OK;
	}
	cw_l1_stats(l1, 0, st);
	cr_assert_eq((uint64_t)found, st->entries);
	cr_assert_geq(found, 40);
	cr_assert_eq(st->sets, 500);
	cr_assert_eq(st->evictions, 500 - st->entries);
	free(st);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, byte_bound_holds)
{
	struct cw_l1 *l1 = open_l1("l1", 10000, 64 * 1024);
	struct cw_l1_stats st;
	char k[32], v[1000];
	struct cw_buf b = { 0 };

	memset(v, 'x', sizeof(v));
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "key%d", i);
		cr_assert_eq(cw_l1_set(l1, k, strlen(k), v, sizeof(v), 60000,
		    CW_L1_WARM, NULL), CW_OK);
		cw_l1_stats(l1, 0, &st);
		cr_assert_leq(st.bytes, 64 * 1024);
	}
	cr_assert_gt(st.entries, 30);
	cr_assert_eq(get_str(l1, "key999", &b), CW_OK);
	cr_assert_eq(b.len, sizeof(v));
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, reread_entries_survive_a_scan)
{
	/* S3-FIFO: entries read again are kept while one-time keys
	 * stream through; plain FIFO or LRU would lose the hot set. */
	struct cw_l1 *l1 = open_l1("l1", 100, 1 << 20);
	struct cw_buf b = { 0 };
	char k[32];

	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "hot%d", i);
		set_str(l1, k, "h", 60000);
	}
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 50; i++) {
			snprintf(k, sizeof(k), "hot%d", i);
			cr_assert_eq(get_str(l1, k, &b), CW_OK);
		}
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "scan%d", i);
		set_str(l1, k, "s", 60000);
	}
	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "hot%d", i);
		cr_assert_eq(get_str(l1, k, &b), CW_OK, "lost %s", k);
	}
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, one_hit_keys_leave_first)
{
	struct cw_l1 *l1 = open_l1("l1", 20, 1 << 20);
	struct cw_buf b = { 0 };
	char k[32];

	for (int i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		set_str(l1, k, "v", 60000);
	}
	/* k10..k19 are read; k0..k9 are not. */
	for (int i = 10; i < 20; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		cr_assert_eq(get_str(l1, k, &b), CW_OK);
	}
	for (int i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "new%d", i);
		set_str(l1, k, "v", 60000);
	}
	for (int i = 10; i < 20; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		cr_assert_eq(get_str(l1, k, &b), CW_OK, "%s evicted", k);
	}
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, unread_demand_fills_stay_on_probation_warmed_ones_do_not)
{
	struct cw_l1 *l1 = open_l1("l1", 100, 1 << 20);
	struct cw_buf b = { 0 };
	char k[32];
	int warm_kept = 0, demand_kept = 0;

	/* 60 warmed entries, then 200 one-time demand fills. */
	for (int i = 0; i < 60; i++) {
		snprintf(k, sizeof(k), "warm%d", i);
		cr_assert_eq(cw_l1_set(l1, k, strlen(k), "w", 1, 60000,
		    CW_L1_WARM, NULL), CW_OK);
	}
	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "once%d", i);
		set_str(l1, k, "d", 60000);
	}
	for (int i = 0; i < 60; i++) {
		snprintf(k, sizeof(k), "warm%d", i);
		warm_kept += get_str(l1, k, &b) == CW_OK;
	}
	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "once%d", i);
		demand_kept += get_str(l1, k, &b) == CW_OK;
	}
	cr_assert_eq(warm_kept, 60, "one-time fills pushed out warmed entries");
	cr_assert_eq(demand_kept, 40, "the rest of the cache holds the latest");
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, reopen_keeps_entries_and_geometry)
{
	struct cw_l1 *l1 = open_l1("l1", 100, 1 << 20);
	struct cw_buf b = { 0 };
	struct cw_l1_stats st;

	set_str(l1, "persist", "yes", 60000);
	cw_l1_close(l1);
	l1 = open_l1("l1", 5, 1 << 16);	/* geometry of the file wins */
	cr_assert_eq(get_str(l1, "persist", &b), CW_OK);
	cr_assert_arr_eq(b.data, "yes", 3);
	cw_l1_stats(l1, 0, &st);
	cr_assert_eq(st.max_entries, 100);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, value_too_big_is_refused_and_old_value_dropped)
{
	struct cw_l1 *l1 = open_l1("l1", 100, 64 * 1024);
	struct cw_buf b = { 0 };
	struct cw_l1_stats st;
	size_t big = 128 * 1024;
	char *v = calloc(1, big);
	struct cw_err e;

	set_str(l1, "k", "small", 60000);
	set_str(l1, "other", "kept", 60000);
	cr_assert_eq(cw_l1_set(l1, "k", 1, v, big, 60000, 0, &e), CW_ETOOBIG);
	cr_assert(strstr(e.msg, "does not fit") != NULL);
	cr_assert_eq(get_str(l1, "k", &b), CW_ENOTFOUND);
	cr_assert_eq(get_str(l1, "other", &b), CW_OK);
	cw_l1_stats(l1, 0, &st);
	cr_assert_eq(st.too_big, 1);
	free(v);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

/* A batch stores what the same sets one by one would, across the lock's
 * chunks: a later write of a key wins, and a refused store is that
 * store's outcome alone. */
Test(l1, a_batch_of_sets_is_the_same_sets_one_by_one)
{
	enum { N = 700 };
	struct cw_l1 *l1 = open_l1("l1", 2000, 4 << 20);
	struct cw_l1 *one = open_l1("one", 2000, 4 << 20);
	static struct cw_l1_write w[N];
	static char keys[N][16], vals[N][32];
	struct cw_buf a = { 0 }, b = { 0 };
	struct cw_l1_entry_info ia, ib;
	size_t big = 8 << 20;
	char *huge = calloc(1, big);

	for (int i = 0; i < N; i++) {
		/* Key 600 is key 10 again, with another value. */
		snprintf(keys[i], sizeof(keys[i]), "k%d", i == 600 ? 10 : i);
		snprintf(vals[i], sizeof(vals[i]), "value %d", i);
		w[i] = (struct cw_l1_write){ keys[i], strlen(keys[i]), vals[i],
		    strlen(vals[i]), 1000 + i, i % 3 ? CW_L1_WARM : 0, -1 };
	}
	w[300].klen = 0;			/* refused: no key */
	w[301].val = huge;			/* refused: too big */
	w[301].vlen = big;
	cw_l1_set_batch(l1, w, N);
	for (int i = 0; i < N; i++) {
		int want = i == 300 ? CW_EDATA : i == 301 ? CW_ETOOBIG : CW_OK;

		cr_assert_eq(w[i].rc, want, "store %d: %d", i, w[i].rc);
		if (want == CW_OK)
			cr_assert_eq(cw_l1_set(one, w[i].key, w[i].klen,
			    w[i].val, w[i].vlen, w[i].ttl_ms, w[i].flags,
			    NULL), CW_OK);
	}
	for (int i = 0; i < N; i++) {
		int ra = cw_l1_get(l1, keys[i], strlen(keys[i]), &a, &ia, NULL);
		int rb = cw_l1_get(one, keys[i], strlen(keys[i]), &b, &ib,
		    NULL);

		cr_assert_eq(ra, rb, "key %s", keys[i]);
		if (ra != CW_OK)
			continue;
		cr_assert_eq(a.len, b.len);
		cr_assert_arr_eq(a.data, b.data, a.len);
		cr_assert_eq(ia.expires_ns, ib.expires_ns);
		cr_assert_eq(ia.flags, ib.flags);
	}
	cr_assert_eq(get_str(l1, "k10", &a), CW_OK);
	cr_assert_eq(a.len, 9);
	cr_assert_arr_eq(a.data, "value 600", 9);
	cr_assert_eq(get_str(l1, "k301", &a), CW_ENOTFOUND);
	free(huge);
	cw_buf_free(&a);
	cw_buf_free(&b);
	cw_l1_close(one);
	cw_l1_close(l1);
}

Test(l1, created_with_mode_0600)
{
	char path[PATH_MAX];
	struct cw_l1 *l1 = open_l1("sub/dir/l1", 10, 1 << 16);
	struct stat st;

	cr_assert_eq(stat(tpath(path, sizeof(path), "sub/dir/l1"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cw_l1_close(l1);
}

Test(l1, foreign_file_is_refused_and_untouched)
{
	char path[PATH_MAX], back[64];
	const char text[] = "this is somebody else's data, not a cache\n";
	struct cw_err e;
	FILE *f;

	tpath(path, sizeof(path), "foreign");
	f = fopen(path, "w");
	for (int i = 0; i < 200; i++)
		fputs(text, f);
	fclose(f);
	cr_assert_eq(open_err(path, &e), CW_EFOREIGN);
	cr_assert(strstr(e.msg, "not a cachewarm L1 file") != NULL, "%s",
	    e.msg);
	f = fopen(path, "r");
	cr_assert_not_null(fgets(back, sizeof(back), f));
	fclose(f);
	cr_assert_str_eq(back, text);
}

Test(l1, empty_and_truncated_files_are_refused)
{
	char path[PATH_MAX];
	struct cw_l1 *l1 = open_l1("l1", 10, 1 << 16);
	struct cw_err e;
	struct stat st;

	cw_l1_close(l1);
	tpath(path, sizeof(path), "l1");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(truncate(path, st.st_size / 2), 0);
	cr_assert_eq(open_err(path, &e), CW_EFOREIGN);
	cr_assert(strstr(e.msg, "damaged or file truncated") != NULL);
	cr_assert_eq(truncate(path, 0), 0);
	cr_assert_eq(open_err(path, &e), CW_EFOREIGN);
}

Test(l1, other_version_is_refused)
{
	char path[PATH_MAX];
	struct cw_l1 *l1 = open_l1("l1", 10, 1 << 16);
	uint32_t v = 99;
	struct cw_err e;
	int fd;

	cw_l1_close(l1);
	fd = open(tpath(path, sizeof(path), "l1"), O_WRONLY);
	cr_assert_eq(pwrite(fd, &v, 4, offsetof(struct l1_header, version)), 4);
	close(fd);
	cr_assert_eq(open_err(path, &e), CW_EVERSION);
	cr_assert(strstr(e.msg, "version 99") != NULL, "%s", e.msg);
}

Test(l1, damaged_geometry_is_refused)
{
	char path[PATH_MAX];
	struct cw_l1 *l1 = open_l1("l1", 10, 1 << 16);
	uint64_t n = 1u << 30;
	struct cw_err e;
	int fd;

	cw_l1_close(l1);
	fd = open(tpath(path, sizeof(path), "l1"), O_WRONLY);
	cr_assert_eq(pwrite(fd, &n, 8, offsetof(struct l1_header, nslots)), 8);
	close(fd);
	cr_assert_eq(open_err(path, &e), CW_EFOREIGN);
}

Test(l1, symlink_is_refused)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct cw_l1 *l1 = open_l1("real", 10, 1 << 16);
	struct cw_err e;

	cw_l1_close(l1);
	cr_assert_eq(symlink(tpath(path, sizeof(path), "real"),
	    tpath(link, sizeof(link), "link")), 0);
	cr_assert_eq(open_err(link, &e), CW_EIO);
	cr_assert(strstr(e.msg, "symbolic link") != NULL, "%s", e.msg);
}

Test(l1, damaged_value_reads_as_miss_and_is_counted)
{
	struct cw_l1 *l1 = open_l1("l1", 10, 1 << 16);
	struct cw_buf b = { 0 };
	struct cw_l1_stats st;
	char *p;

	set_str(l1, "victim", "precious-value", 60000);
	set_str(l1, "bystander", "fine", 60000);
	/* Flip one byte of the value inside the map. */
	p = memmem(l1->map, l1->map_bytes, "precious-value", 14);
	cr_assert_not_null(p);
	p[3] ^= 0x20;
	cr_assert_eq(get_str(l1, "victim", &b), CW_ENOTFOUND);
	cr_assert_eq(get_str(l1, "bystander", &b), CW_OK);
	cw_l1_stats(l1, 0, &st);
	cr_assert_geq(st.damaged, 1);
	/* A repair drops it for good; the rest stays. */
	cr_assert_eq(cw_l1_int_repair(l1), 1);
	cr_assert_eq(get_str(l1, "bystander", &b), CW_OK);
	set_str(l1, "victim", "restored", 60000);
	cr_assert_eq(get_str(l1, "victim", &b), CW_OK);
	cr_assert_arr_eq(b.data, "restored", 8);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

/*
 * A batch answers every key exactly as a single get would: values, "not
 * found", remembered misses, expired and damaged entries, in any order
 * and repeated, for batches shorter and longer than its pipeline.
 */
Test(l1, batch_answers_as_single_gets_do)
{
	struct cw_l1 *l1 = open_l1("l1", 200, 1 << 20);
	struct cw_l1_lookup q[150];
	struct cw_buf got[150], one = { 0 };
	struct cw_l1_entry_info info;
	char keys[150][16], v[64];
	const size_t sizes[] = { 0, 1, 2, 16, 17, 33, 150 };
	char *p;

	for (int i = 0; i < 120; i++) {
		snprintf(keys[0], sizeof(keys[0]), "key%d", i);
		snprintf(v, sizeof(v), "value of %d", i);
		cr_assert_eq(cw_l1_set(l1, keys[0], strlen(keys[0]), v,
		    strlen(v), i % 10 == 3 ? 1000 : 60000,
		    i % 10 == 7 ? CW_L1_NEGATIVE : 0, NULL), CW_OK);
	}
	p = memmem(l1->map, l1->map_bytes, "value of 42", 11);
	cr_assert_not_null(p);
	p[3] ^= 0x20;			/* key42: damaged */
	tenv.now_ns += 2000 * 1000000LL;	/* key3, key13, ...: expired */
	memset(got, 0, sizeof(got));
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		size_t n = sizes[z];

		for (size_t k = 0; k < n; k++) {
			/* Keys 0..139 in a scrambled order, some twice. */
			snprintf(keys[k], sizeof(keys[k]), "key%zu",
			    (k * 37 + z) % 140);
			q[k].key = keys[k];
			q[k].klen = strlen(keys[k]);
			q[k].val = &got[k];
			q[k].rc = -1;
		}
		cw_l1_get_batch(l1, q, n);
		for (size_t k = 0; k < n; k++) {
			int rc = cw_l1_get(l1, keys[k], q[k].klen, &one,
			    &info, NULL);

			cr_assert_eq(q[k].rc, rc, "batch of %zu, %s: %d, not %d",
			    n, keys[k], q[k].rc, rc);
			if (rc != CW_OK)
				continue;
			cr_assert_eq(got[k].len, one.len, "%s", keys[k]);
			cr_assert_arr_eq(got[k].data, one.data, one.len);
			cr_assert_eq(q[k].info.flags, info.flags);
			cr_assert_eq(q[k].info.expires_ns, info.expires_ns);
		}
	}
	/* The cases above were all there. */
	cr_assert_eq(cw_l1_get(l1, "key1", 4, &one, &info, NULL), CW_OK);
	cr_assert_eq(cw_l1_get(l1, "key7", 4, &one, &info, NULL), CW_OK);
	cr_assert_eq(info.flags & CW_L1_NEGATIVE, CW_L1_NEGATIVE);
	cr_assert_eq(cw_l1_get(l1, "key3", 4, &one, NULL, NULL), CW_ENOTFOUND);
	cr_assert_eq(cw_l1_get(l1, "key42", 5, &one, NULL, NULL), CW_ENOTFOUND);
	cr_assert_eq(cw_l1_get(l1, "key130", 6, &one, NULL, NULL),
	    CW_ENOTFOUND);
	for (size_t k = 0; k < 150; k++)
		cw_buf_free(&got[k]);
	cw_buf_free(&one);
	cw_l1_close(l1);
}

Test(l1, stats_count_recorded_outcomes)
{
	struct cw_l1 *l1 = open_l1("l1", 10, 1 << 16);
	struct cw_l1_stats *st = malloc(sizeof(*st));

	cw_l1_record(l1, CW_LEVEL_L1, CW_RESULT_HIT, 100);
	cw_l1_record(l1, CW_LEVEL_L1, CW_RESULT_HIT, 300);
	cw_l1_record(l1, CW_LEVEL_L1, CW_RESULT_MISS, 200);
	cw_l1_record(l1, CW_LEVEL_L3, CW_RESULT_HIT, 2000000);
	cw_l1_record_lookup(l1, 2000300);
	cw_l1_stats(l1, 0, st);
	cr_assert_eq(st->level[CW_LEVEL_L1].results[CW_RESULT_HIT], 2);
	cr_assert_eq(st->level[CW_LEVEL_L1].results[CW_RESULT_MISS], 1);
	cr_assert_eq(st->level[CW_LEVEL_L3].results[CW_RESULT_HIT], 1);
	cr_assert_eq(cw_hist_total(st->level[CW_LEVEL_L1].latency), 3);
	cr_assert_leq(labs(cw_hist_quantile(st->level[CW_LEVEL_L1].latency,
	    1.0) - 300), 300 * CW_HIST_REL_ERROR);
	cr_assert_eq(cw_hist_total(st->overall), 1);
	free(st);
	cw_l1_close(l1);
}

/* ---- many processes ---- */

/* A value that carries its own check: 8 bytes of hash over key and
 * payload, then the payload, whose length varies with the seed. */
static size_t
make_value(char *v, const char *key, uint64_t seed)
{
	size_t n = 16 + seed % 700;
	uint64_t h;

	for (size_t i = 8; i < n; i++)
		v[i] = (char)('a' + (seed + i) % 26);
	h = cw_hash_seeded(v + 8, n - 8, cw_hash(key, strlen(key)));
	memcpy(v, &h, 8);
	return n;
}

static int
value_intact(const char *key, const struct cw_buf *b)
{
	uint64_t h;

	if (b->len < 16)
		return 0;
	memcpy(&h, b->data, 8);
	return h == cw_hash_seeded(b->data + 8, b->len - 8,
	    cw_hash(key, strlen(key)));
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mixed reads and writes on a small cache, so records are evicted and
 * their bytes reused while others read them. Exits 1 on a torn read. */
static void
hammer(const char *path, uint64_t seed, int ops)
{
	struct cw_l1_opts o = {
		.path = path, .max_entries = 64, .max_bytes = 32 * 1024,
		.mode = 0600, .clock = cw_clock_system(),
	};
	struct cw_l1 *l1;
	struct cw_buf b = { 0 }, bb[8] = { { 0 } };
	char key[32], v[1024];

	if (cw_l1_open(&l1, &o, NULL) != CW_OK)
		_exit(3);
	for (int i = 0; i < ops; i++) {
		uint64_t r = rnd(&seed);

		snprintf(key, sizeof(key), "key%llu",
		    (unsigned long long)(r % 200));
		if (r % 4 == 0) {
			size_t n = make_value(v, key, r >> 8);

			if (cw_l1_set(l1, key, strlen(key), v, n, 60000, 0,
			    NULL) != CW_OK)
				_exit(4);
		} else if (r % 4 == 1) {
			/* A batch of keys near this one: the pipelined path
			 * must refuse torn values as the single one does. */
			char bkeys[8][32];
			struct cw_l1_lookup q[8];

			for (int k = 0; k < 8; k++) {
				snprintf(bkeys[k], sizeof(bkeys[k]), "key%llu",
				    (unsigned long long)((r + (uint64_t)k) %
				    200));
				q[k].key = bkeys[k];
				q[k].klen = strlen(bkeys[k]);
				q[k].val = &bb[k];
			}
			cw_l1_get_batch(l1, q, 8);
			for (int k = 0; k < 8; k++)
				if (q[k].rc == CW_OK &&
				    !value_intact(bkeys[k], &bb[k]))
					_exit(1);
		} else if (cw_l1_get(l1, key, strlen(key), &b, NULL,
		    NULL) == CW_OK && !value_intact(key, &b)) {
			_exit(1);
		}
	}
	cw_buf_free(&b);
	for (int k = 0; k < 8; k++)
		cw_buf_free(&bb[k]);
	cw_l1_close(l1);
	_exit(0);
}

Test(l1, concurrent_processes_never_see_torn_values, .timeout = 120)
{
	char path[PATH_MAX];
	struct cw_l1 *l1 = open_l1("shared", 64, 32 * 1024);
	struct cw_l1_stats st;
	pid_t pids[4];
	int status;

	tpath(path, sizeof(path), "shared");
	for (int p = 0; p < 4; p++) {
		pids[p] = fork();
		cr_assert_neq(pids[p], -1);
		if (pids[p] == 0)
			hammer(path, 0x9e3779b97f4a7c15ull * (p + 1), 60000);
	}
	for (int p = 0; p < 4; p++) {
		cr_assert_eq(waitpid(pids[p], &status, 0), pids[p]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %d (seed %d): status %#x (1 = torn read)", p, p + 1,
		    status);
	}
	cw_l1_stats(l1, 0, &st);
	cr_assert_leq(st.entries, 64);
	cr_assert_gt(st.sets, 40000);
	cr_assert_eq(st.repairs, 0);
	cw_l1_close(l1);
}

/* Reads and writes large values without pause until killed: mostly a
 * loop over more keys than the cache holds, so that the miniature caches
 * are fed and the policy switches (l1_adapt.c) while it is killed, as
 * well as the stores and evictions. */
static void
writer_until_killed(const char *path, uint64_t seed)
{
	struct cw_l1_opts o = {
		.path = path, .max_entries = 64, .max_bytes = 64 * 1024,
		.mode = 0600, .clock = cw_clock_system(),
	};
	struct cw_l1 *l1;
	struct cw_buf b = { 0 };
	char key[32], v[1024];
	uint64_t pos = 0;

	if (cw_l1_open(&l1, &o, NULL) != CW_OK)
		_exit(3);
	for (;;) {
		uint64_t r = rnd(&seed);
		size_t n;

		snprintf(key, sizeof(key), "key%llu", (unsigned long long)
		    (r % 4 == 0 ? r % 100 : pos++ % 100));
		if (r % 8 != 1 &&
		    cw_l1_get(l1, key, strlen(key), &b, NULL, NULL) == CW_OK)
			continue;
		n = make_value(v, key, r >> 8);
		cw_l1_set(l1, key, strlen(key), v, n, 60000, 0, NULL);
	}
}

Test(l1, writer_killed_mid_write_leaves_a_usable_file, .timeout = 120)
{
	char path[PATH_MAX], key[32];
	struct cw_buf b = { 0 };
	uint64_t seed = 12345;
	int kills = 0, frozen = 0, status;

	tpath(path, sizeof(path), "killed");
	for (int round = 0; round < 150; round++) {
		struct timespec ts = { 0, (long)(50000 + rnd(&seed) % 1000000) };
		struct cw_l1 *l1;
		struct cw_l1_stats st;
		pid_t pid = fork();

		cr_assert_neq(pid, -1);
		if (pid == 0)
			writer_until_killed(path, seed + (uint64_t)round);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status), "round %d: child %#x", round,
		    status);
		kills++;
		l1 = open_l1("killed", 64, 64 * 1024);
		frozen += l1->adapt->policy == L1_POLICY_FREEZE;
		/* Every value that reads at all reads intact. */
		for (int k = 0; k < 100; k++) {
			snprintf(key, sizeof(key), "key%d", k);
			if (cw_l1_get(l1, key, strlen(key), &b, NULL, NULL) ==
			    CW_OK)
				cr_assert(value_intact(key, &b),
				    "round %d: %s torn", round, key);
		}
		/* The next writer recovers the lock if it was held. */
		cr_assert_eq(cw_l1_set(l1, "after", 5, "ok", 2, 60000, 0,
		    NULL), CW_OK, "round %d", round);
		cr_assert_eq(cw_l1_get(l1, "after", 5, &b, NULL, NULL), CW_OK);
		cw_l1_stats(l1, 0, &st);
		cr_assert_leq(st.entries, 64);
		cw_l1_close(l1);
	}
	cr_assert_eq(kills, 150);
	/* Killed while the policy was being chosen, not only before. */
	cr_assert_gt(frozen, 0);
	cw_buf_free(&b);
}

/* Open a copy of a file with the header byte at off changed, and use it
 * every way there is: in a child, so that a crash or a hang (the alarm)
 * is a failure the parent sees. */
static int
use_damaged_copy(const char *good, const char *bad, size_t off, uint8_t x)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		struct cw_l1_opts o = {
			.path = bad, .max_entries = 64, .max_bytes = 1 << 16,
			.mode = 0600, .clock = cw_clock_manual(&tenv.now_ns),
			.must_exist = 1,
		};
		struct cw_l1_stats *st1 = malloc(sizeof(*st1));
		struct cw_buf b = { 0 }, file = { 0 };
		struct cw_l1_verify v;
		struct cw_l1 *l1;
		char k[32];
		int fd;

		alarm(10);
		fd = open(good, O_RDONLY);
		cw_buf_read_fd(&file, fd, "good", NULL);
		close(fd);
		file.data[off] ^= x;
		fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (write(fd, file.data, file.len) != (ssize_t)file.len)
			_exit(3);
		close(fd);
		if (cw_l1_open(&l1, &o, NULL) != CW_OK)
			_exit(0);	/* refused: fine */
		for (int i = 0; i < 200; i++) {
			snprintf(k, sizeof(k), "k%d", i % 80);
			(void)cw_l1_get(l1, k, strlen(k), &b, NULL, NULL);
			(void)cw_l1_set(l1, k, strlen(k), "value", 5, 1000, 0,
			    NULL);
		}
		(void)cw_l1_verify(l1, &v, NULL);
		cw_l1_stats(l1, 0, st1);
		(void)cw_l1_del(l1, "k1", 2, NULL);
		/* A key reads back as set now (a set may have failed),
		 * as set before, or not at all: never anything else. */
		if (cw_l1_get(l1, "k79", 3, &b, NULL, NULL) == CW_OK &&
		    !(b.len == 5 && memcmp(b.data, "value", 5) == 0) &&
		    !(b.len == 10 && memcmp(b.data, "some value", 10) == 0))
			_exit(4);
		cw_l1_close(l1);
		_exit(0);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

Test(l1, no_header_byte_damaged_crashes_or_hangs, .timeout = 300)
{
	struct cw_l1 *l1 = open_l1("good", 64, 1 << 16);
	char good[PATH_MAX], bad[PATH_MAX];
	static const uint8_t flips[] = { 0xff, 0x01 };

	for (int i = 0; i < 100; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		set_str(l1, k, "some value", 60000);
	}
	cw_l1_close(l1);
	tpath(good, sizeof(good), "good");
	tpath(bad, sizeof(bad), "bad");
	for (size_t off = 0; off < sizeof(struct l1_header); off++)
		for (size_t f = 0; f < sizeof(flips); f++) {
			int st = use_damaged_copy(good, bad, off, flips[f]);

			cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			    "header byte %zu ^ 0x%02x: %s %d", off, flips[f],
			    WIFSIGNALED(st) ? "signal" : "exit",
			    WIFSIGNALED(st) ? WTERMSIG(st) :
			    WEXITSTATUS(st));
		}
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(l1, a_lock_left_by_a_thread_that_is_gone_is_recovered)
{
	struct cw_l1 *l1 = open_l1("l1", 64, 1 << 16);
	struct cw_l1_stats *st = malloc(sizeof(*st));
	struct cw_buf b = { 0 };
	struct cw_err e;
	pid_t dead;
	int64_t t0;

	set_str(l1, "before", "kept", 60000);
	/* The file as restored from a copy taken while a writer held the
	 * lock: the owner is an id no thread has any more. */
	if ((dead = fork()) == 0)
		_exit(0);
	cr_assert_eq(waitpid(dead, NULL, 0), dead);
	l1->hdr->lock.mutex.__data.__lock = dead;
	l1->hdr->lock.mutex.__data.__owner = dead;
	t0 = mono_ms();
	cr_assert_eq(cw_l1_set(l1, "after", 5, "new", 3, 60000, 0, &e), CW_OK,
	    "%s", e.msg);
	cr_assert_lt(mono_ms() - t0, 1000, "recovered without waiting");
	cr_assert_eq(get_str(l1, "after", &b), CW_OK);
	cr_assert_eq(get_str(l1, "before", &b), CW_OK);
	cr_assert_arr_eq(b.data, "kept", 4);
	cw_l1_stats(l1, 0, st);
	cr_assert_eq(st->repairs, 1);
	cw_l1_close(l1);
	cw_buf_free(&b);
	free(st);
}

Test(l1, a_stopped_lock_holder_is_an_error_not_a_hang, .timeout = 30)
{
	struct cw_l1 *l1 = open_l1("l1", 64, 1 << 16);
	struct cw_buf b = { 0 };
	struct cw_err e;
	char want[64];
	pid_t holder;
	int64_t t0;
	int st;

	set_str(l1, "k", "v", 60000);
	if ((holder = fork()) == 0) {
		pthread_mutex_lock(&l1->hdr->lock.mutex);
		raise(SIGSTOP);
		_exit(0);
	}
	cr_assert_eq(waitpid(holder, &st, WUNTRACED), holder);
	cr_assert(WIFSTOPPED(st));
	t0 = mono_ms();
	cr_assert_eq(cw_l1_set(l1, "x", 1, "y", 1, 60000, 0, &e), CW_ETIMEOUT);
	cr_assert_geq(mono_ms() - t0, L1_LOCK_WAIT_MS - 50);
	snprintf(want, sizeof(want), "held by process %d for over", holder);
	cr_assert(strstr(e.msg, want) != NULL, "%s", e.msg);
	/* The next writer of this handle does not wait again. */
	t0 = mono_ms();
	cr_assert_eq(cw_l1_set(l1, "x", 1, "y", 1, 60000, 0, &e), CW_ETIMEOUT);
	cr_assert_lt(mono_ms() - t0, 100);
	/* Readers never wait for the lock. */
	cr_assert_eq(get_str(l1, "k", &b), CW_OK);
	/* The holder killed: its lock is recovered at the next try. */
	kill(holder, SIGKILL);
	cr_assert_eq(waitpid(holder, &st, 0), holder);
	cr_assert_eq(cw_l1_set(l1, "x", 1, "y", 1, 60000, 0, &e), CW_OK,
	    "%s", e.msg);
	cr_assert_eq(get_str(l1, "x", &b), CW_OK);
	cw_l1_close(l1);
	cw_buf_free(&b);
}

/* The slot holding key (it must be there). */
static uint64_t
slot_of(struct cw_l1 *l1, const char *key)
{
	uint64_t hash = cw_hash(key, strlen(key));

	for (uint64_t i = 0; i < l1->nslots; i++)
		if ((l1->slots[i] & L1_SLOT_LIVE) && (l1->slots[i] &
		    L1_TAG_MASK) == ((hash >> 43) << L1_TAG_SHIFT))
			return i;
	cr_assert_fail("%s not in the index", key);
	return 0;
}

Test(l1, an_index_with_every_slot_marked_live_does_not_hang_a_writer,
    .timeout = 20)
{
	struct cw_l1 *l1 = open_l1("l1", 64, 1 << 16);
	struct cw_buf b = { 0 };
	struct cw_err e;
	uint64_t copy;

	/* Garbage: repaired away, and the set goes on. */
	for (uint64_t i = 0; i < l1->nslots; i++)
		l1->slots[i] = L1_SLOT_LIVE | (i * 0x9e3779b97f4a7c15ull >> 30);
	set_str(l1, "k", "v", 60000);
	cr_assert_eq(get_str(l1, "k", &b), CW_OK);
	/* Every slot a valid copy of one entry's: nothing to repair, no
	 * room; the set fails with a reason instead of probing forever. */
	copy = l1->slots[slot_of(l1, "k")];
	for (uint64_t i = 0; i < l1->nslots; i++)
		l1->slots[i] = copy;
	cr_assert_eq(cw_l1_set(l1, "other", 5, "w", 1, 60000, 0, &e), CW_EIO);
	cr_assert(strstr(e.msg, "index full") != NULL, "%s", e.msg);
	cw_l1_close(l1);
	cw_buf_free(&b);
}

static int
count_entry(const struct cw_l1_entry *e, void *ctx)
{
	(void)e;
	(*(int *)ctx)++;
	return 0;
}

Test(l1, read_only_handle_reads_lists_and_refuses_writes)
{
	char path[PATH_MAX];
	struct cw_l1 *rw = open_l1("ro", 16, 1 << 16), *ro = NULL;
	struct cw_l1_opts o = {
		.path = tpath(path, sizeof(path), "ro"),
		.clock = cw_clock_manual(&tenv.now_ns), .read_only = 1,
	};
	struct cw_l1_stats *st = malloc(sizeof(*st));
	struct cw_l1_verify v;
	struct cw_buf b = { 0 };
	struct cw_err e;
	uint64_t reclaimed;
	int listed = 0;

	set_str(rw, "a", "alpha", 60000);
	set_str(rw, "b", "beta", 60000);
	cr_assert_eq(chmod(path, 0400), 0);
	cr_assert_eq(cw_l1_open(&ro, &o, &e), CW_OK, "%s", e.msg);
	cr_assert_eq(get_str(ro, "a", &b), CW_OK);
	cr_assert_arr_eq(b.data, "alpha", 5);
	cw_l1_stats(ro, 0, st);
	cr_assert_eq(st->entries, 2);
	cr_assert_eq(st->sets, 2);
	cr_assert_eq(cw_l1_scan(ro, count_entry, &listed, &e), CW_OK);
	cr_assert_eq(listed, 2);
	/* Everything that writes says so, and writes nothing. */
	cr_assert_eq(cw_l1_set(ro, "c", 1, "x", 1, 1000, 0, &e), CW_EIO);
	cr_assert(strstr(e.msg, "opened read-only") != NULL, "%s", e.msg);
	cr_assert_eq(cw_l1_del(ro, "a", 1, NULL), CW_EIO);
	cr_assert_eq(cw_l1_reclaim(ro, &reclaimed, NULL), CW_EIO);
	cr_assert_eq(cw_l1_stats_reset(ro, NULL), CW_EIO);
	cr_assert_eq(cw_l1_verify(ro, &v, NULL), CW_EIO);
	cw_l1_record(ro, CW_LEVEL_L1, CW_RESULT_HIT, 1000);
	cw_l1_record_lookup(ro, 1000);
	cw_l1_stats(rw, 0, st);
	cr_assert_eq(st->level[CW_LEVEL_L1].results[CW_RESULT_HIT], 0);
	cr_assert_eq(get_str(rw, "a", &b), CW_OK);
	cw_l1_close(ro);
	/* A reader never creates. */
	o.path = tpath(path, sizeof(path), "absent");
	cr_assert_eq(cw_l1_open(&ro, &o, NULL), CW_EIO);
	cr_assert_eq(access(path, F_OK), -1);
	free(st);
	cw_buf_free(&b);
	cw_l1_close(rw);
}

/* S3-FIFO's promotion threshold, exactly: leaving the small queue, an
 * entry read once there is evicted (as plain FIFO would), one read twice
 * moves to main and outlives forty newcomers read never. */
Test(l1, read_twice_in_small_moves_to_main_read_once_does_not)
{
	struct cw_l1 *l1 = open_l1("s3", 20, 64 * 1024);
	struct cw_buf b = { 0 };
	char key[16];

	set_str(l1, "once", "1", 60000);
	cr_assert_eq(get_str(l1, "once", &b), CW_OK);
	set_str(l1, "twice", "2", 60000);
	cr_assert_eq(get_str(l1, "twice", &b), CW_OK);
	cr_assert_eq(get_str(l1, "twice", &b), CW_OK);
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		set_str(l1, key, "n", 60000);
	}
	cr_assert_eq(get_str(l1, "once", &b), CW_ENOTFOUND);
	cr_assert_eq(get_str(l1, "twice", &b), CW_OK);
	cr_assert_eq(get_str(l1, "new0", &b), CW_ENOTFOUND);
	cr_assert_eq(get_str(l1, "new39", &b), CW_OK);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

/* Main's second chance: at main's tail an entry read since it came is
 * given another round (one read less), one never read is evicted. */
Test(l1, main_gives_read_entries_another_round)
{
	struct cw_l1 *l1 = open_l1("main", 10, 64 * 1024);
	struct cw_buf b = { 0 };
	char key[16];

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		cr_assert_eq(cw_l1_set(l1, key, strlen(key), "v", 1, 60000,
		    CW_L1_WARM, NULL), CW_OK);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		cr_assert_eq(get_str(l1, key, &b), CW_OK);
	}
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		cr_assert_eq(cw_l1_set(l1, key, strlen(key), "v", 1, 60000,
		    CW_L1_WARM, NULL), CW_OK);
	}
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		cr_assert_eq(get_str(l1, key, &b), i < 5 ? CW_OK :
		    CW_ENOTFOUND, "%s", key);
	}
	cw_buf_free(&b);
	cw_l1_close(l1);
}

/* Deletes leave tombstones, which the index sweeps once they and the
 * live entries fill three quarters of it: after churn through many
 * more keys than slots, empty slots remain to end a probe (without the
 * sweep every slot becomes a tombstone and every miss scans them all). */
Test(l1, churn_leaves_empty_slots_to_end_probes)
{
	struct cw_l1 *l1 = open_l1("churn", 16, 64 * 1024);
	uint64_t empty = 0;
	char key[16];

	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		set_str(l1, key, "v", 60000);
		cr_assert_eq(cw_l1_del(l1, key, strlen(key), NULL), CW_OK);
	}
	for (uint64_t i = 0; i < l1->nslots; i++)
		empty += l1->slots[i] == L1_SLOT_EMPTY;
	cr_assert_geq(empty, l1->nslots / 4, "%llu of %llu slots empty",
	    (unsigned long long)empty, (unsigned long long)l1->nslots);
	cw_l1_close(l1);
}

/* An expired entry at a queue's tail is dropped as expired, whatever its
 * reads: not moved to main, not counted as an eviction. */
Test(l1, eviction_drops_expired_entries_as_expired)
{
	struct cw_l1 *l1 = open_l1("expiry", 10, 64 * 1024);
	struct cw_l1_stats *st = malloc(sizeof(*st));
	struct cw_buf b = { 0 };
	char key[16];

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		set_str(l1, key, "v", 1000);
		cr_assert_eq(get_str(l1, key, &b), CW_OK);
		cr_assert_eq(get_str(l1, key, &b), CW_OK);
	}
	tenv.now_ns += 2000000000LL;
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		set_str(l1, key, "v", 60000);
	}
	cw_l1_stats(l1, 0, st);
	cr_assert_eq(st->expirations, 10);
	cr_assert_eq(st->evictions, 0);
	cr_assert_eq(st->entries, 10);
	free(st);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

/* ---- resize ---- */

#define RZ_KEYS 150

static void
rz_key(char *k, size_t n, int i)
{
	snprintf(k, n, "rz:%03d", i);
}

/* Each key's own value, long enough to span cache lines. */
static void
rz_value(char *v, size_t n, int i)
{
	snprintf(v, n, "value of rz:%03d, %0*d", i, 80, i);
}

/* A reader with its own handle, opened before the resize: every value it
 * gets must be its key's, and once told the resize is done, one round
 * must find every key. Exit 0, or 1 for a wrong value, 2 for an error,
 * 3 for a key missing after the resize. */
static int
rz_reader(int done_fd)
{
	struct cw_l1 *l1 = open_l1("l1", 200, 1 << 20);
	struct cw_buf b = { 0 };
	char k[32], v[128];

	for (int last = 0;; ) {
		char c;

		last = read(done_fd, &c, 1) == 0;	/* closed: done */
		for (int i = 0; i < RZ_KEYS; i++) {
			int rc;

			rz_key(k, sizeof(k), i);
			rz_value(v, sizeof(v), i);
			rc = get_str(l1, k, &b);
			if (rc == CW_OK && (b.len != strlen(v) ||
			    memcmp(b.data, v, b.len) != 0))
				return 1;
			if (rc != CW_OK && rc != CW_ENOTFOUND)
				return 2;
			if (rc != CW_OK && last)
				return 3;
		}
		if (last)
			break;
	}
	cw_l1_close(l1);
	cw_buf_free(&b);
	return 0;
}

Test(l1, resize_under_readers_keeps_every_value_and_the_hottest,
    .timeout = 60)
{
	struct cw_l1 *l1 = open_l1("l1", 200, 1 << 20);
	struct cw_l1_resize_result r;
	struct cw_l1_stats *st = malloc(sizeof(*st));
	struct cw_buf b = { 0 };
	char k[32], v[128], path[PATH_MAX];
	struct cw_l1_opts o = {
		.path = tpath(path, sizeof(path), "l1"),
		.max_entries = 400, .max_bytes = 4 << 20, .mode = 0600,
		.clock = cw_clock_manual(&tenv.now_ns),
	};
	struct cw_err e;
	int done[2], status;
	pid_t pid[2];

	cr_assert_not_null(st);
	for (int i = 0; i < RZ_KEYS; i++) {
		rz_key(k, sizeof(k), i);
		rz_value(v, sizeof(v), i);
		cr_assert_eq(cw_l1_set(l1, k, strlen(k), v, strlen(v),
		    3600 * 1000, CW_L1_WARM, &e), CW_OK, "%s", e.msg);
	}
	/* The first 20 are read: the hottest. */
	for (int i = 0; i < 20; i++) {
		rz_key(k, sizeof(k), i);
		cr_assert_eq(get_str(l1, k, &b), CW_OK);
	}
	cr_assert_eq(pipe(done), 0);
	cr_assert_eq(fcntl(done[0], F_SETFL, O_NONBLOCK), 0);
	for (int p = 0; p < 2; p++)
		if ((pid[p] = fork()) == 0) {
			close(done[1]);
			_exit(rz_reader(done[0]));
		}
	usleep(20000);
	/* Larger: every entry comes along, in the same file's place. */
	cr_assert_eq(cw_l1_resize(&o, &r, &e), CW_OK, "%s", e.msg);
	cr_expect_eq(r.old_entries, 200);
	cr_expect_eq(r.new_entries, 400);
	cr_expect_eq(r.live, RZ_KEYS);
	cr_expect_eq(r.kept, RZ_KEYS);
	cr_expect_eq(r.unchanged, 0);
	/* The handle opened before follows on its next operation. */
	for (int i = 0; i < RZ_KEYS; i++) {
		rz_key(k, sizeof(k), i);
		cr_expect_eq(get_str(l1, k, &b), CW_OK, "%s", k);
	}
	cw_l1_stats(l1, 0, st);
	cr_expect_eq(st->max_entries, 400, "the handle is on the new file");
	cr_expect_eq(st->entries, RZ_KEYS);
	/* And what it writes lands there, for a handle opened now. */
	set_str(l1, "after", "resize", 3600 * 1000);
	{
		struct cw_l1 *fresh = open_l1("l1", 200, 1 << 20);

		cr_expect_eq(get_str(fresh, "after", &b), CW_OK);
		cw_l1_close(fresh);
	}
	usleep(20000);
	close(done[1]);
	for (int p = 0; p < 2; p++) {
		cr_assert_eq(waitpid(pid[p], &status, 0), pid[p]);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "reader %d: status %d", p, status);
	}
	/* The same capacity again: nothing to do. */
	cr_assert_eq(cw_l1_resize(&o, &r, &e), CW_OK, "%s", e.msg);
	cr_expect_eq(r.unchanged, 1);
	/* Smaller: the hottest that fit, and the read ones first. */
	o.max_entries = 40;
	o.max_bytes = 1 << 20;
	cr_assert_eq(cw_l1_resize(&o, &r, &e), CW_OK, "%s", e.msg);
	cr_expect_eq(r.live, RZ_KEYS + 1);
	cr_expect(r.kept > 20 && r.kept <= 40, "kept %llu",
	    (unsigned long long)r.kept);
	for (int i = 0; i < 20; i++) {
		rz_key(k, sizeof(k), i);
		cr_expect_eq(get_str(l1, k, &b), CW_OK, "hot %s kept", k);
	}
	cw_l1_stats(l1, 0, st);
	cr_expect_eq(st->max_entries, 40);
	cr_expect_eq(st->entries, r.kept);
	/* The counters came along: every set made through the handles. */
	cr_expect_eq(st->sets, RZ_KEYS + 1);
	cr_expect_eq(access(tpath(path, sizeof(path), "l1.resize"), F_OK), -1,
	    "no temporary left");
	close(done[0]);
	cw_l1_close(l1);
	cw_buf_free(&b);
	free(st);
}

/* The hot list: keys of values, hottest first, remembered misses left
 * out; a list written whole. */
Test(l1, the_hot_list_is_the_read_keys_first)
{
	struct cw_l1 *l1 = open_l1("l1", 100, 1 << 20);
	struct cw_buf b = { 0 }, list = { 0 };
	char path[PATH_MAX], text[256];
	struct cw_fs_part part;
	struct cw_err e;
	size_t n;
	FILE *f;

	set_str(l1, "cold", "c", 1000);
	set_str(l1, "warm", "w", 1000);
	set_str(l1, "hot", "h", 2000);
	cr_assert_eq(cw_l1_set(l1, "gone", 4, "", 0, 1000, CW_L1_NEGATIVE,
	    &e), CW_OK);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(get_str(l1, "hot", &b), CW_OK);
	cr_assert_eq(get_str(l1, "warm", &b), CW_OK);
	cr_assert_eq(cw_l1_hot_list(l1, 0, &list, &n, &e), CW_OK, "%s", e.msg);
	cr_expect_eq(n, 3);
	cr_expect_eq(list.len, 14);
	cr_expect_arr_eq(list.data, "hot\nwarm\ncold\n", 14);
	list.len = 0;
	cr_assert_eq(cw_l1_hot_list(l1, 1, &list, &n, &e), CW_OK, "%s", e.msg);
	cr_expect_eq(n, 1);
	cr_expect_arr_eq(list.data, "hot\n", 4, "the hottest one");
	/* Written whole, then replaced whole. */
	part.data = list.data;
	part.len = list.len;
	cr_assert_eq(cw_fs_write_atomic(tpath(path, sizeof(path), "d/hot.keys"),
	    &part, 1, 0600, &e), CW_OK, "%s", e.msg);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	cr_expect_str_eq(text, "hot\n");
	/* A directory that cannot be written: an error, nothing left. */
	cr_assert_eq(cw_fs_write_atomic("/proc/hot.keys", &part, 1, 0600, &e),
	    CW_EIO);
	cw_l1_close(l1);
	cw_buf_free(&b);
	cw_buf_free(&list);
}

/* ---- the policy's choice (l1_adapt.c) ---- */

/* One pass of reads over keys first..last-1 in order, a miss filled as
 * a reader's miss is; the misses, and which keys hit into hit (or
 * NULL). */
static size_t
pass(struct cw_l1 *l1, size_t first, size_t last, uint8_t *hit)
{
	struct cw_buf b = { 0 };
	size_t misses = 0;
	char k[32];

	for (size_t i = first; i < last; i++) {
		snprintf(k, sizeof(k), "k%zu", i);
		tenv.now_ns += 1000;
		if (hit != NULL)
			hit[i] = get_str(l1, k, &b) == CW_OK;
		else if (get_str(l1, k, &b) == CW_OK)
			continue;
		if (hit == NULL || !hit[i]) {
			misses++;
			set_str(l1, k, "v", 3600000);
		}
	}
	cw_buf_free(&b);
	return misses;
}

Test(l1, a_loop_larger_than_the_cache_keeps_part_of_it)
{
	struct cw_l1 *l1 = open_l1("loop", 1000, 1 << 22);
	uint8_t before[1500], after[1500];
	size_t misses = 0, same = 0;

	/* S3-FIFO on a loop of 1.5 times the cache: each key is evicted
	 * just before its reuse. */
	cr_assert_eq(pass(l1, 0, 1500, NULL), 1500);
	cr_assert_eq(l1->adapt->policy, L1_POLICY_S3FIFO);
	pass(l1, 0, 1500, NULL);
	pass(l1, 0, 1500, NULL);
	/* It freezes first: the loop's lead is large and sudden. */
	cr_assert_eq(l1->adapt->policy, L1_POLICY_FREEZE);
	cr_assert_eq(l1->adapt->switches, 1);
	for (int p = 0; p < 8; p++)
		pass(l1, 0, 1500, NULL);
	/* Frozen, or tinylfu (its door keeps out keys seen no more often
	 * than main's), main keeps 99% of the cache's keys of the loop,
	 * the same ones pass after pass: the optimum misses a third, and
	 * this at most 35%. */
	cr_assert(l1->adapt->policy == L1_POLICY_FREEZE ||
	    l1->adapt->policy == L1_POLICY_TINYLFU, "%llu",
	    (unsigned long long)l1->adapt->policy);
	misses = pass(l1, 0, 1500, before);
	cr_assert_leq(misses, 1500 * 35 / 100, "missed %zu", misses);
	pass(l1, 0, 1500, after);
	for (size_t i = 0; i < 1500; i++)
		same += before[i] && after[i];
	cr_assert_geq(same, 950, "%zu kept", same);
	cr_assert_leq(l1->adapt->switches, 2);
	cw_l1_close(l1);
}

Test(l1, a_loop_beyond_the_ghosts_reach_still_fills_a_frozen_main)
{
	struct cw_l1 *l1 = open_l1("longloop", 200, 1 << 22);
	size_t misses;

	/* Ten times the cache: no key comes back while the ghost remembers
	 * it, so what fills main once frozen is small's own evictions. */
	for (int p = 0; p < 4; p++)
		pass(l1, 0, 2000, NULL);
	cr_assert_eq(l1->adapt->policy, L1_POLICY_FREEZE);
	misses = pass(l1, 0, 2000, NULL);
	cr_assert_leq(misses, 2000 - 195, "missed %zu: main holds %zu", misses,
	    (size_t)l1->hdr->ring[L1_MAIN].entries);
	cw_l1_close(l1);
}

Test(l1, a_return_to_reuse_thaws_main)
{
	struct cw_l1 *l1 = open_l1("thaw", 1000, 1 << 22);
	uint64_t seed = 99;
	struct cw_buf b = { 0 };
	size_t misses = 0;
	char k[32];

	for (int p = 0; p < 12; p++)
		pass(l1, 0, 1500, NULL);
	cr_assert(l1->adapt->policy == L1_POLICY_FREEZE ||
	    l1->adapt->policy == L1_POLICY_TINYLFU);
	/* Then 600 other keys, read at random: main holds the loop's keys,
	 * and a small queue of 10 lets few of these in. */
	for (int i = 0; i < 60000; i++) {
		snprintf(k, sizeof(k), "hot%llu",
		    (unsigned long long)(rnd(&seed) % 600));
		tenv.now_ns += 1000;
		if (get_str(l1, k, &b) == CW_OK)
			continue;
		set_str(l1, k, "v", 3600000);
		misses += i >= 50000;
	}
	cr_assert(l1->adapt->policy == L1_POLICY_S3FIFO ||
	    l1->adapt->policy == L1_POLICY_NARROW, "%llu after %llu switches",
	    (unsigned long long)l1->adapt->policy,
	    (unsigned long long)l1->adapt->switches);
	/* Back to a split, the 600 keys fit. */
	cr_assert_leq(misses, 100, "missed %zu of the last 10000", misses);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

/* Zipf(1.0)'s distribution over n keys. */
static void
zipf_cdf(double *cdf, int n)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		cdf[i] = sum += 1.0 / (i + 1);
	for (int i = 0; i < n; i++)
		cdf[i] /= sum;
}

/* A Zipf(1.0) key of n: its distribution inverted by bisection. */
static int
zipf_key(const double *cdf, int n, uint64_t *seed)
{
	double u = (double)(rnd(seed) % 1000000) / 1e6;
	int lo = 0, hi = n - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One read of k, stored on a miss: 1 if it missed. */
static int
read_through(struct cw_l1 *l1, const char *k, struct cw_buf *b)
{
	tenv.now_ns += 1000;
	if (get_str(l1, k, b) == CW_OK)
		return 0;
	set_str(l1, k, "v", 3600000);
	return 1;
}

Test(l1, the_split_narrows_for_zipf_widens_for_a_burst_and_back)
{
	struct cw_l1 *l1 = open_l1("split", 1000, 1 << 22);
	double cdf[10000];
	struct cw_buf b = { 0 };
	uint64_t seed = 7;
	size_t misses;
	char k[32];

	zipf_cdf(cdf, 10000);
	for (int round = 0; round < 2; round++) {
		/* Zipf traffic over ten times the cache: a narrower small
		 * queue leaves main more room for keys read often. */
		for (int i = 0; i < 60000; i++) {
			snprintf(k, sizeof(k), "z%d", zipf_key(cdf, 10000,
			    &seed));
			read_through(l1, k, &b);
		}
		cr_assert_eq(l1->adapt->policy, L1_POLICY_NARROW,
		    "round %d: %llu", round,
		    (unsigned long long)l1->adapt->policy);
		cr_assert_eq(l1->adapt->switches, 2 * (uint64_t)round + 1);
		/* A burst of new keys, each read again 100 new keys later:
		 * within S3-FIFO's small queue (15% of 1000), past the
		 * narrow one's (5%). The recency side grows back. */
		misses = 0;
		for (int i = 0; i < 30000; i++) {
			int x = 100000 * (round + 1) + i;

			snprintf(k, sizeof(k), "b%d", x);
			misses += (size_t)read_through(l1, k, &b) * (i >= 20000);
			snprintf(k, sizeof(k), "b%d", x - 100);
			misses += (size_t)read_through(l1, k, &b) *
			    (i >= 20000);
		}
		cr_assert_eq(l1->adapt->policy, L1_POLICY_S3FIFO);
		cr_assert_eq(l1->adapt->switches, 2 * (uint64_t)round + 2);
		/* Each second read hits once the split is back. */
		cr_assert_leq(misses, 10000 + 200, "missed %zu of 20000",
		    misses);
	}
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, a_loop_mixed_with_zipf_reads_takes_tinylfu)
{
	struct cw_l1 *l1 = open_l1("mixed", 1000, 1 << 22);
	double cdf[10000];
	struct cw_buf b = { 0 };
	uint64_t seed = 7;
	size_t misses = 0;
	int at = 0;
	char k[32];

	zipf_cdf(cdf, 10000);
	/* Half the reads sweep a loop of twice the cache, half are Zipf
	 * over ten times it: frozen keeps part of the loop but shuts out
	 * the hot keys that come later; tinylfu's door lets in what is
	 * read more often than what it would evict, from either. */
	for (int i = 0; i < 300000; i++) {
		if (rnd(&seed) % 2 == 0) {
			snprintf(k, sizeof(k), "l%d", at);
			at = (at + 1) % 2000;
		} else {
			snprintf(k, sizeof(k), "z%d", zipf_key(cdf, 10000,
			    &seed));
		}
		misses += (size_t)read_through(l1, k, &b) * (i >= 250000);
	}
	cr_assert_eq(l1->adapt->policy, L1_POLICY_TINYLFU, "%llu",
	    (unsigned long long)l1->adapt->policy);
	/* Frozen misses 0.57 here, S3-FIFO 0.64 (their miniatures). */
	cr_assert_leq(misses, 50000 * 55 / 100, "missed %zu of the last "
	    "50000", misses);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

/* n new keys through the window, each read once: none read again. */
static void
churn(struct cw_l1 *l1, const char *prefix, int n, struct cw_buf *b)
{
	char k[32];

	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%s%d", prefix, i);
		read_through(l1, k, b);
	}
}

Test(l1, the_sketch_counts_halves_and_survives_a_damaged_count)
{
	uint8_t counters[4 * L1_SKETCH_LINE] = { 0 };
	uint64_t adds = 0, key = 0x123456789abcdef0ull;
	struct l1_sketch s = { counters, 4, 10, &adds };

	cw_l1_int_sketch_add(&s, key, 7);
	cw_l1_int_sketch_add(&s, key, 20);	/* saturates at 15 */
	cr_assert_eq(cw_l1_int_sketch_estimate(&s, key), 15);
	cr_assert_eq(cw_l1_int_sketch_estimate(&s, key + 1), 0);
	/* Ten adds an entry (here 100): every counter halves, and so does
	 * the count. */
	adds = 99;
	cw_l1_int_sketch_add(&s, key, 1);
	cr_assert_eq(cw_l1_int_sketch_estimate(&s, key), 7);
	cr_assert_eq(adds, 50);
	/* A count no writer leaves starts over after one halving. */
	adds = UINT64_MAX - 5;
	cw_l1_int_sketch_add(&s, key, 1);
	cr_assert_eq(adds, 0);
	cr_assert_eq(cw_l1_int_sketch_estimate(&s, key), 4);
}

Test(l1, tinylfus_door_lets_in_a_key_missed_often_and_not_a_new_one)
{
	struct cw_l1 *l1 = open_l1("door", 100, 1 << 20);
	struct cw_buf b = { 0 };
	struct cw_err e;

	l1->adapt->policy = L1_POLICY_TINYLFU;
	churn(l1, "m", 100, &b);	/* main full of keys seen once */
	/* "often" missed five times (stored, then deleted): the sketch
	 * counts each store of a key not in the cache. */
	for (int i = 0; i < 5; i++) {
		set_str(l1, "often", "v", 3600000);
		cr_assert_eq(cw_l1_del(l1, "often", 5, &e), CW_OK);
	}
	read_through(l1, "often", &b);
	read_through(l1, "once", &b);
	/* Ten more keys push both out of the window of one: main's
	 * victims were seen once, as "once" was, and only "often" was
	 * seen more. */
	churn(l1, "n", 10, &b);
	cr_assert_eq(l1->adapt->policy, L1_POLICY_TINYLFU);	/* still */
	cr_assert_eq(get_str(l1, "often", &b), CW_OK);
	cr_assert_neq(get_str(l1, "once", &b), CW_OK);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, bursty_traffic_does_not_flap_between_the_splits)
{
	struct cw_l1 *l1 = open_l1("bursty", 300, 1 << 22);
	struct cw_buf b = { 0 };
	struct cw_trace *t;
	struct cw_err e;
	size_t n;

	/* The first 100,000 reads of the shipped database trace: which
	 * split misses less changes from epoch to epoch, a large lead one
	 * way then the other, and a switch on each would cost the cache
	 * more than it gains (bench/RESULTS.md, issue 19): 20 switches
	 * without the steadiness test, 2 with it. */
	cr_assert_eq(cw_trace_load(&t,
	    "../shared/traces/cache2k_orm_busy_1m.csv", &e), CW_OK, "%s",
	    e.msg);
	n = cw_trace_len(t) < 100000 ? cw_trace_len(t) : 100000;
	for (size_t i = 0; i < n; i++) {
		size_t kl;
		const char *k = cw_trace_key(t, cw_trace_ids(t)[i], &kl);

		tenv.now_ns += 1000;
		if (cw_l1_get(l1, k, kl, &b, NULL, NULL) != CW_OK)
			cr_assert_eq(cw_l1_set(l1, k, kl, "v", 1, 3600000, 0,
			    &e), CW_OK, "%s", e.msg);
	}
	cr_assert_leq(l1->adapt->switches, 6, "%llu switches",
	    (unsigned long long)l1->adapt->switches);
	cw_trace_free(t);
	cw_buf_free(&b);
	cw_l1_close(l1);
}

Test(l1, damaged_adaptation_state_costs_no_entry)
{
	struct cw_l1 *l1 = open_l1("scribbled", 64, 64 * 1024);
	uint64_t seed = 7, *p = (uint64_t *)l1->adapt;
	struct cw_buf b = { 0 };
	char key[32], v[1024];

	/* Every byte of the choice's state, the samples and both
	 * miniatures: anything at all. */
	for (size_t i = 0; i < cw_l1_int_adapt_bytes(l1->hdr->max_entries,
	    l1->mini_cap) / 8; i++)
		p[i] = rnd(&seed);
	for (int round = 0; round < 20000; round++) {
		uint64_t r = rnd(&seed);
		size_t n;

		snprintf(key, sizeof(key), "key%llu",
		    (unsigned long long)(round % 100));
		if (cw_l1_get(l1, key, strlen(key), &b, NULL, NULL) == CW_OK) {
			cr_assert(value_intact(key, &b), "%s torn", key);
			continue;
		}
		n = make_value(v, key, r >> 8);
		cr_assert_eq(cw_l1_set(l1, key, strlen(key), v, n, 60000, 0,
		    NULL), CW_OK);
		cr_assert_eq(cw_l1_get(l1, key, strlen(key), &b, NULL, NULL),
		    CW_OK);
	}
	cr_assert_leq(l1->hdr->live_entries, 64);
	cw_buf_free(&b);
	cw_l1_close(l1);
}
