#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "l1_int.h"

TestSuite(stats, .init = tmpdir_setup, .fini = tmpdir_teardown,
    .timeout = 60);

static struct cw_l1 *
open_l1(void)
{
	char path[PATH_MAX];
	struct cw_l1_opts o = {
		.path = tpath(path, sizeof(path), "l1"), .max_entries = 100,
		.max_bytes = 1 << 20, .mode = 0600,
		.clock = cw_clock_manual(&tenv.now_ns),
	};
	struct cw_l1 *l1;

	cr_assert_eq(cw_l1_open(&l1, &o, NULL), CW_OK);
	return l1;
}

Test(stats, counters_match_a_known_sequence_exactly)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));

	/* 7 lookups: 5 L1 hits, 2 misses of which the source had 1. */
	for (int i = 0; i < 5; i++) {
		cw_l1_record(l1, CW_LEVEL_L1, CW_RESULT_HIT, 1000);
		cw_l1_record_lookup(l1, 1000);
	}
	for (int i = 0; i < 2; i++) {
		cw_l1_record(l1, CW_LEVEL_L1, CW_RESULT_MISS, 1000);
		cw_l1_record(l1, CW_LEVEL_L3, i == 0 ? CW_RESULT_HIT :
		    CW_RESULT_MISS, 5000000);
		cw_l1_record_lookup(l1, 5001000);
	}
	cw_l1_record(l1, CW_LEVEL_L3, CW_RESULT_TIMEOUT, 9000000);
	cr_assert_eq(cw_stats_collect(l1, r, NULL), CW_OK);
	cr_assert_eq(r->lookups, 7);
	cr_assert_eq(r->level[CW_LEVEL_L1].hits, 5);
	cr_assert_eq(r->level[CW_LEVEL_L1].misses, 2);
	cr_assert_eq(r->level[CW_LEVEL_L3].requests, 3);
	cr_assert_eq(r->level[CW_LEVEL_L3].hits, 1);
	cr_assert_eq(r->level[CW_LEVEL_L3].timeouts, 1);
	cr_assert_eq(r->level[CW_LEVEL_L2].requests, 0);
	cr_assert(isnan(r->level[CW_LEVEL_L2].hit_rate));
	cr_assert_float_eq(r->hit_rate, 5.0 / 7, 1e-12);
	cr_assert_float_eq(r->level[CW_LEVEL_L1].hit_rate, 5.0 / 7, 1e-12);
	free(r);
	cw_l1_close(l1);
}

Test(stats, percentiles_within_the_stated_error)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));

	/* 1000 lookups of 1..1000 us. */
	for (int i = 1; i <= 1000; i++)
		cw_l1_record_lookup(l1, (int64_t)i * 1000);
	cr_assert_eq(cw_stats_collect(l1, r, NULL), CW_OK);
	cr_assert_eq(r->latency.count, 1000);
	cr_assert_leq(fabs((double)r->latency.p50_ns - 500e3) / 500e3,
	    CW_HIST_REL_ERROR);
	cr_assert_leq(fabs((double)r->latency.p90_ns - 900e3) / 900e3,
	    CW_HIST_REL_ERROR);
	cr_assert_leq(fabs((double)r->latency.p99_ns - 990e3) / 990e3,
	    CW_HIST_REL_ERROR);
	cr_assert_leq(fabs((double)r->latency.p999_ns - 999e3) / 999e3,
	    CW_HIST_REL_ERROR);
	cr_assert_leq(fabs((double)r->latency.max_ns - 1000e3) / 1000e3,
	    CW_HIST_REL_ERROR);
	cr_assert_leq(fabs(r->latency.mean_ns - 500.5e3) / 500.5e3,
	    CW_HIST_REL_ERROR);
	free(r);
	cw_l1_close(l1);
}

Test(stats, throughput_counts_whole_ticks_of_each_window)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));

	/* 600 lookups in each of the 18 ticks of three minutes. */
	tenv.now_ns = 1704067200LL * 1000000000;
	for (int tick = 0; tick < 18; tick++) {
		for (int i = 0; i < 600; i++)
			cw_l1_record_lookup(l1, 100);
		tenv.now_ns += 10LL * 1000000000;
	}
	cr_assert_eq(cw_stats_collect(l1, r, NULL), CW_OK);
	cr_assert_float_eq(r->rate_1m, 60.0, 1e-9);
	cr_assert_float_eq(r->rate_5m, 18 * 600 / 300.0, 1e-9);
	cr_assert_float_eq(r->rate_15m, 18 * 600 / 900.0, 1e-9);
	/* An hour later the ring holds nothing current. */
	tenv.now_ns += 3600LL * 1000000000;
	cr_assert_eq(cw_stats_collect(l1, r, NULL), CW_OK);
	cr_assert_float_eq(r->rate_15m, 0.0, 1e-9);
	free(r);
	cw_l1_close(l1);
}

static int
check(double hit_rate, int64_t p99_ns, double fill_pct)
{
	struct cw_stats_report r;
	struct cw_stats_thresholds t;
	struct cw_buf line = { 0 };
	int status;

	memset(&r, 0, sizeof(r));
	cw_stats_thresholds_default(&t);
	r.hit_rate = hit_rate;
	r.lookups = 100;
	r.latency.count = 100;
	r.latency.p99_ns = p99_ns;
	r.fill_pct = fill_pct;
	status = cw_stats_check(&r, &t, &line);
	cr_assert_eq(strncmp(line.data, "CACHEWARM ", 10), 0);
	cr_assert_not_null(memchr(line.data, '|', line.len), "perfdata");
	cw_buf_free(&line);
	return status;
}

Test(stats, check_at_below_and_above_every_threshold)
{
	cr_assert_eq(check(0.95, 1000000, 10), 0);
	cr_assert_eq(check(0.90, 1000000, 10), 0, "at the hit-rate limit");
	cr_assert_eq(check(0.8999, 1000000, 10), 2, "below: critical");
	cr_assert_eq(check(0.95, 100000000, 10), 0, "at the p99 limit");
	cr_assert_eq(check(0.95, 100100000, 10), 2, "above: critical");
	cr_assert_eq(check(0.95, 1000000, 85), 0, "at the memory limit");
	cr_assert_eq(check(0.95, 1000000, 85.1), 1, "above: warning");
	cr_assert_eq(check(0.5, 1000000, 99), 2, "critical beats warning");
	cr_assert_eq(check(NAN, 0, 10), 0, "no lookups yet: no alarm");
}

Test(stats, concurrent_processes_lose_no_counts)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));
	char path[PATH_MAX];
	pid_t pids[4];
	int status;

	tpath(path, sizeof(path), "l1");
	for (int p = 0; p < 4; p++) {
		if ((pids[p] = fork()) == 0) {
			struct cw_l1_opts o = { .path = path,
			    .clock = cw_clock_manual(&tenv.now_ns) };
			struct cw_l1 *mine;

			if (cw_l1_open(&mine, &o, NULL) != CW_OK)
				_exit(3);
			for (int i = 0; i < 50000; i++) {
				cw_l1_record(mine, CW_LEVEL_L1, CW_RESULT_HIT,
				    i);
				cw_l1_record_lookup(mine, i);
			}
			cw_l1_close(mine);
			_exit(0);
		}
	}
	for (int p = 0; p < 4; p++) {
		cr_assert_eq(waitpid(pids[p], &status, 0), pids[p]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	cr_assert_eq(cw_stats_collect(l1, r, NULL), CW_OK);
	cr_assert_eq(r->level[CW_LEVEL_L1].hits, 200000);
	cr_assert_eq(r->latency.count, 200000);
	free(r);
	cw_l1_close(l1);
}

Test(stats, reset_zeroes_counters_and_keeps_entries)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));
	struct cw_buf b = { 0 };

	cr_assert_eq(cw_l1_set(l1, "k", 1, "v", 1, 60000, 0, NULL), CW_OK);
	cw_l1_record(l1, CW_LEVEL_L1, CW_RESULT_HIT, 10);
	cw_l1_record_lookup(l1, 10);
	tenv.now_ns += 5000000000LL;
	cr_assert_eq(cw_l1_stats_reset(l1, NULL), CW_OK);
	cr_assert_eq(cw_stats_collect(l1, r, NULL), CW_OK);
	cr_assert_eq(r->lookups, 0);
	cr_assert_eq(r->latency.count, 0);
	cr_assert_eq(r->sets, 0);
	cr_assert_eq(r->reset_ns, tenv.now_ns);
	cr_assert_eq(r->entries, 1);
	cr_assert_eq(r->nlargest, 1);
	cr_assert_str_eq(r->largest[0].key, "k");
	cr_assert_eq(cw_l1_get(l1, "k", 1, &b, NULL, NULL), CW_OK);
	cw_buf_free(&b);
	free(r);
	cw_l1_close(l1);
}

Test(stats, verify_finds_damage_without_repairing)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_l1_verify v;
	char *p;

	cr_assert_eq(cw_l1_set(l1, "a", 1, "alpha-value", 11, 60000, 0, NULL),
	    CW_OK);
	cr_assert_eq(cw_l1_set(l1, "b", 1, "beta", 4, 60000, 0, NULL), CW_OK);
	cr_assert_eq(cw_l1_verify(l1, &v, NULL), CW_OK);
	cr_assert_eq(v.checked, 2);
	cr_assert_eq(v.damaged, 0);
	cr_assert_not(v.count_mismatch);
	p = memmem(l1->map, l1->map_bytes,
	    "alpha-value", 11);
	cr_assert_not_null(p);
	p[0] = 'A';
	cr_assert_eq(cw_l1_verify(l1, &v, NULL), CW_OK);
	cr_assert_eq(v.damaged, 1);
	cr_assert_eq(cw_l1_verify(l1, &v, NULL), CW_OK);
	cr_assert_eq(v.damaged, 1, "verify changes nothing");
	cw_l1_close(l1);
}
