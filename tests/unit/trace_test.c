#include <criterion/criterion.h>
#include <stdio.h>

#include "helpers.h"
#include "trace_int.h"

static struct cw_trace *
trace_of(const char *text)
{
	char path[4096];
	struct cw_trace *t;
	struct cw_err e;
	FILE *f = fopen(tpath(path, sizeof(path), "trace.csv"), "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(cw_trace_load(&t, path, &e), CW_OK, "%s", e.msg);
	return t;
}

TestSuite(trace, .init = tmpdir_setup, .fini = tmpdir_teardown);

Test(trace, loads_skipping_header_and_bad_lines)
{
	struct cw_trace *t = trace_of("ts,key,size\n10,a,1\nnot a line\n"
	    "11.5,b\n9,c\n");

	cr_assert_eq(cw_trace_len(t), 3);
	cr_assert_eq(cw_trace_keys(t), 3);
	cw_trace_free(t);
}

/* The benchmark keeps the reads its first strategy got through: the
 * keys are those the kept reads name, and the offline figures theirs. */
Test(trace, cut_keeps_the_first_reads_and_their_keys)
{
	struct cw_trace *t = trace_of("1,a\n2,b\n3,a\n4,b\n5,c\n6,a\n");
	uint64_t lru, belady;
	struct cw_err e;

	cw_trace_cut(t, 0);
	cr_assert_eq(cw_trace_len(t), 6);
	cw_trace_cut(t, 7);
	cr_assert_eq(cw_trace_len(t), 6);
	cr_assert_eq(cw_trace_keys(t), 3);
	cw_trace_cut(t, 4);
	cr_assert_eq(cw_trace_len(t), 4);
	cr_assert_eq(cw_trace_keys(t), 2);
	cr_assert_eq(cw_trace_offline(t, 2, &lru, &belady, &e), CW_OK);
	cr_assert_eq(lru, 2);
	cr_assert_eq(belady, 2);
	cw_trace_free(t);
}

Test(trace, an_empty_trace_is_bad_data)
{
	char path[4096];
	struct cw_trace *t;
	struct cw_err e;
	FILE *f = fopen(tpath(path, sizeof(path), "empty.csv"), "w");

	fputs("ts,key\n", f);
	fclose(f);
	cr_assert_eq(cw_trace_load(&t, path, &e), CW_EDATA);
	cr_assert_eq(cw_trace_load(&t, "/nonexistent/x", &e), CW_EIO);
}

/* Worked by hand, capacity 2: a b c a b c a.
 * LRU: every access misses (each key is evicted just before its reuse).
 * Belady: a b c (evicts b, next used after a) a (hit) b (evicts a:
 * c comes back first) c (hit) a (miss): 2 hits. */
Test(trace, offline_hits_by_hand)
{
	struct cw_trace *t = trace_of("1,a\n2,b\n3,c\n4,a\n5,b\n6,c\n7,a\n");
	uint64_t lru, belady;
	struct cw_err e;

	cr_assert_eq(cw_trace_offline(t, 2, &lru, &belady, &e), CW_OK);
	cr_assert_eq(lru, 0);
	cr_assert_eq(belady, 2);
	cr_assert_eq(cw_trace_offline(t, 3, &lru, &belady, &e), CW_OK);
	cr_assert_eq(lru, 4);
	cr_assert_eq(belady, 4);
	cw_trace_free(t);
}

/* Belady's MIN is optimal: never fewer hits than LRU, at any size, on
 * the production traces. */
Test(trace, belady_never_below_lru_on_real_traces, .timeout = 60)
{
	static const char *const traces[] = {
		"../shared/traces/cache2k_web12.csv",
		"../shared/traces/cloudphysics_io.csv",
	};

	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		struct cw_trace *t;
		struct cw_err e;

		cr_assert_eq(cw_trace_load(&t, traces[i], &e), CW_OK, "%s",
		    e.msg);
		for (size_t cap = 10; cap <= 100000; cap *= 10) {
			uint64_t lru, belady;

			cr_assert_eq(cw_trace_offline(t, cap, &lru, &belady,
			    &e), CW_OK);
			cr_assert_geq(belady, lru, "%s at %zu: %llu < %llu",
			    traces[i], cap, (unsigned long long)belady,
			    (unsigned long long)lru);
			cr_assert_leq(belady, cw_trace_len(t) -
			    cw_trace_keys(t));
		}
		cw_trace_free(t);
	}
}

/* A line stamped before the one above it is counted and taken at the
 * time above: a replay's clock never runs backwards. */
Test(trace, a_line_out_of_order_is_counted_and_clamped)
{
	char path[PATH_MAX];
	struct cw_trace *t;
	FILE *f;

	tpath(path, sizeof(path), "order.csv");
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("ts,key\n100,a\n50,b\n200,c\n", f);
	fclose(f);
	cr_assert_eq(cw_trace_load(&t, path, NULL), CW_OK);
	cr_assert_eq(cw_trace_len(t), 3);
	cr_assert_eq(t->reordered, 1);
	cr_assert_eq(t->ts_ms[1], 100000);
	cr_assert_eq(t->ts_ms[2], 200000);
	cw_trace_free(t);
}

/* The interning under the trace: many names, each its own id, found
 * again, named back (colliding slots included: 5000 names in a table
 * that grows from a few). */
Test(trace, interned_names_keep_their_own_ids)
{
	struct cw_intern t;
	char name[32];

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "key:%d", i);
		cr_assert_eq(cw_intern_id(&t, name, strlen(name), 1), i);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "key:%d", i);
		cr_assert_eq(cw_intern_id(&t, name, strlen(name), 0), i);
		cr_assert_str_eq(cw_intern_name(&t, (size_t)i), name);
	}
	cr_assert_eq(cw_intern_id(&t, "absent", 6, 0), -1);
	cw_intern_free(&t);
}
