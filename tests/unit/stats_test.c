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
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
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

Test(stats, the_eviction_policy_in_force_and_its_switches)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));
	struct cw_buf out = { 0 }, v = { 0 };
	char k[32];

	/* A loop over 150 keys in a cache of 100 freezes it. */
	for (int i = 0; i < 150 * 12; i++) {
		snprintf(k, sizeof(k), "k%d", i % 150);
		if (cw_l1_get(l1, k, strlen(k), &v, NULL, NULL) != CW_OK)
			cr_assert_eq(cw_l1_set(l1, k, strlen(k), "v", 1,
			    3600000, 0, NULL), CW_OK);
	}
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_eq(cw_stats_format(l1, r, CW_STATS_TABLE, &out, NULL),
	    CW_OK);
	cr_assert_eq(cw_stats_format(l1, r, CW_STATS_JSON, &out, NULL),
	    CW_OK);
	cr_assert_eq(cw_stats_format(l1, r, CW_STATS_PROM, &out, NULL),
	    CW_OK);
	cw_buf_append(&out, "", 1, NULL);
	cr_assert(strstr(out.data, "\neviction    s3-fifo-frozen, 1 switches\n")
	    != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "\"eviction\":\"s3-fifo-frozen\","
	    "\"policy_switches\":1,") != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "\ncw_l1_eviction_policy{policy=\"s3-fifo\"} 0\n"
	    "cw_l1_eviction_policy{policy=\"s3-fifo-narrow\"} 0\n"
	    "cw_l1_eviction_policy{policy=\"s3-fifo-frozen\"} 1\n"
	    "cw_l1_eviction_policy{policy=\"tinylfu\"} 0\n"
	    ) != NULL, "%s", out.data);
	cr_assert(strstr(out.data, "\ncw_l1_policy_switches_total 1\n")
	    != NULL, "%s", out.data);
	cw_buf_free(&out);
	cw_buf_free(&v);
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
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
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

Test(stats, throughput_counts_whole_minutes_of_each_window)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));

	/* 600 lookups every 10 s for three whole minutes. */
	tenv.now_ns = 1704067200LL * 1000000000;
	for (int tick = 0; tick < 18; tick++) {
		for (int i = 0; i < 600; i++) {
			cw_l1_record(l1, CW_LEVEL_L1, CW_RESULT_HIT, 100);
			cw_l1_record_lookup(l1, 100);
		}
		tenv.now_ns += 10LL * 1000000000;
	}
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_float_eq(r->rate_1m, 60.0, 1e-9);
	cr_assert_float_eq(r->rate_5m, 18 * 600 / 300.0, 1e-9);
	cr_assert_float_eq(r->rate_15m, 18 * 600 / 900.0, 1e-9);
	/* An hour later the ring holds nothing current. */
	tenv.now_ns += 3600LL * 1000000000;
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_float_eq(r->rate_15m, 0.0, 1e-9);
	free(r);
	cw_l1_close(l1);
}

/* The check of a report whose window has these figures; its line in
 * line (freed by the caller) when not NULL. */
static int
check_line(double hit_rate, int64_t p99_ns, double fill_pct,
    struct cw_buf *line)
{
	struct cw_stats_report r;
	struct cw_stats_thresholds t;
	struct cw_buf mine = { 0 };
	struct cw_buf *b = line != NULL ? line : &mine;
	int status;

	memset(&r, 0, sizeof(r));
	cw_stats_thresholds_default(&t);
	r.window_s = 300;
	r.window.hit_rate = hit_rate;
	r.window.lookups = isnan(hit_rate) ? 0 : 100;
	r.window.latency.count = isnan(hit_rate) ? 0 : 100;
	r.window.latency.p99_ns = p99_ns;
	r.lookups = 1000;
	r.hit_rate = 0.5;	/* all time: never judged */
	r.latency.count = 1000;
	r.latency.p99_ns = 900000000;
	r.fill_pct = fill_pct;
	status = cw_stats_check(&r, &t, b);
	cr_assert_eq(strncmp(b->data, "CACHEWARM ", 10), 0);
	cr_assert_not_null(memchr(b->data, '|', b->len), "perfdata");
	cw_buf_free(&mine);
	return status;
}

static int
check(double hit_rate, int64_t p99_ns, double fill_pct)
{
	return check_line(hit_rate, p99_ns, fill_pct, NULL);
}

Test(stats, check_at_below_and_above_every_threshold)
{
	cr_assert_eq(check(0.96, 1000000, 10), 0);
	cr_assert_eq(check(0.95, 1000000, 10), 0, "at the warning limit");
	cr_assert_eq(check(0.9499, 1000000, 10), 1, "below: warning");
	cr_assert_eq(check(0.90, 1000000, 10), 1, "at the critical limit");
	cr_assert_eq(check(0.8999, 1000000, 10), 2, "below: critical");
	cr_assert_eq(check(0.96, 50000000, 10), 0, "at the p99 warning");
	cr_assert_eq(check(0.96, 50100000, 10), 1, "above: warning");
	cr_assert_eq(check(0.96, 100000000, 10), 1, "at the p99 limit");
	cr_assert_eq(check(0.96, 100100000, 10), 2, "above: critical");
	cr_assert_eq(check(0.96, 1000000, 85), 0, "at the memory limit");
	cr_assert_eq(check(0.96, 1000000, 85.1), 1, "above: warning");
	cr_assert_eq(check(0.5, 1000000, 99), 2, "critical beats warning");
	cr_assert_eq(check(NAN, 0, 10), 0, "no lookups yet: no alarm");
}

Test(stats, check_line_and_perfdata_exactly)
{
	struct cw_buf b = { 0 };

	cr_assert_eq(check_line(0.96, 450, 10, &b), 0);
	cr_assert_str_eq(b.data, "CACHEWARM OK - all within thresholds | "
	    "hit_rate=96.00%;95.00:;90.00: p99=0.450us;50000;100000 "
	    "l1_fill=10.0%;85.0 lookups=1000c\n",
	    "a sub-microsecond P99 shows; the window is judged, not all time");
	b.len = 0;
	cr_assert_eq(check_line(0.93, 60000000, 10, &b), 1);
	cr_assert_str_eq(b.data, "CACHEWARM WARNING - hit rate 93.0% < "
	    "95.0% in the last 5m; p99 60.00 ms > 50.00 ms in the last 5m | "
	    "hit_rate=93.00%;95.00:;90.00: p99=60000.000us;50000;100000 "
	    "l1_fill=10.0%;85.0 lookups=1000c\n");
	b.len = 0;
	cr_assert_eq(check_line(0.5, 200000000, 10, &b), 2);
	cr_assert_str_eq(b.data, "CACHEWARM CRITICAL - hit rate 50.0% < "
	    "90.0% in the last 5m; p99 200.00 ms > 100.00 ms in the last 5m | "
	    "hit_rate=50.00%;95.00:;90.00: p99=200000.000us;50000;100000 "
	    "l1_fill=10.0%;85.0 lookups=1000c\n");
	b.len = 0;
	cr_assert_eq(check_line(NAN, 0, 10, &b), 0);
	cr_assert_str_eq(b.data, "CACHEWARM OK - no lookups in the last 5m | "
	    "hit_rate=U;95.00:;90.00: p99=U;50000;100000 l1_fill=10.0%;85.0 "
	    "lookups=1000c\n", "no data is U everywhere");
	cw_buf_free(&b);
}

/* n readers' lookups at L1 with this result and latency, at now. */
static void
reads(struct cw_l1 *l1, int n, enum cw_result result, int64_t ns)
{
	for (int i = 0; i < n; i++) {
		cw_l1_record(l1, CW_LEVEL_L1, result, ns);
		cw_l1_record_lookup(l1, ns);
	}
}

Test(stats, the_window_judges_recent_minutes_and_a_bad_hour_passes)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));
	struct cw_stats_thresholds t;
	struct cw_buf line = { 0 };
	const int64_t min = 60LL * 1000000000;

	cw_stats_thresholds_default(&t);
	/* A bad hour: every lookup a miss, slow. */
	tenv.now_ns = 1704067200LL * 1000000000;
	for (int m = 0; m < 60; m++, tenv.now_ns += min)
		reads(l1, 10, CW_RESULT_MISS, 300000000);
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_eq(r->window_s, 300);
	cr_assert_eq(r->window.lookups, 40, "the running minute and 4 whole");
	cr_assert_eq(cw_stats_check(r, &t, &line), 2);
	/* Then five good minutes: the check clears, all time still bad. */
	for (int m = 0; m < 5; m++, tenv.now_ns += min)
		reads(l1, 20, CW_RESULT_HIT, 1000);
	tenv.now_ns -= min;	/* within the fifth good minute */
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_eq(r->window.lookups, 100);
	cr_assert_float_eq(r->window.hit_rate, 1.0, 1e-12);
	cr_assert_lt(r->window.latency.p99_ns, 2000);
	cr_assert_eq(r->lookups, 700);
	cr_assert_float_eq(r->hit_rate, 100.0 / 700, 1e-12);
	line.len = 0;
	cr_assert_eq(cw_stats_check(r, &t, &line), 0, "%s", line.data);
	/* A 15-minute window still sees the tail of the bad hour. */
	cr_assert_eq(cw_stats_collect(l1, 900, r, NULL), CW_OK);
	cr_assert_eq(r->window_s, 900);
	cr_assert_eq(r->window.lookups, 100 + 10 * 10);
	line.len = 0;
	cr_assert_eq(cw_stats_check(r, &t, &line), 2);
	/* Out of range windows are brought within; an hour on, none. */
	cr_assert_eq(cw_stats_collect(l1, 5, r, NULL), CW_OK);
	cr_assert_eq(r->window_s, 60);
	cr_assert_eq(r->window.lookups, 20);
	cr_assert_eq(cw_stats_collect(l1, 7200, r, NULL), CW_OK);
	cr_assert_eq(r->window_s, 900);
	tenv.now_ns += 3600 * 1000000000LL;
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_eq(r->window.lookups, 0);
	cr_assert(isnan(r->window.hit_rate));
	cw_buf_free(&line);
	free(r);
	cw_l1_close(l1);
}

Test(stats, a_slot_left_mid_restart_is_taken_over_next_time)
{
	struct cw_l1 *l1 = open_l1();
	struct cw_stats_report *r = malloc(sizeof(*r));
	const int64_t min = 60LL * 1000000000;
	uint64_t minute;

	tenv.now_ns = 1704067200LL * 1000000000;
	minute = (uint64_t)(tenv.now_ns / min);
	reads(l1, 3, CW_RESULT_HIT, 1000);
	/* A process killed while restarting this slot for the next round
	 * of the ring: its minute is marked, its counts half cleared. */
	tenv.now_ns += L1_WINDOWS * min;
	l1->stripe->window[minute % L1_WINDOWS].minute = L1_WINDOW_RESTART |
	    (minute + L1_WINDOWS - 1);
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_eq(r->window.lookups, 0, "a marked slot is in no window");
	reads(l1, 2, CW_RESULT_MISS, 1000);
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
	cr_assert_eq(r->window.lookups, 2, "taken over and restarted");
	cr_assert_eq(r->window.level[CW_LEVEL_L1].misses, 2);
	cr_assert_eq(r->lookups, 5);
	free(r);
	cw_l1_close(l1);
}

Test(stats, a_warmers_lookups_are_counted_apart)
{
	struct cw_l1 *reader = open_l1(), *warmer;
	struct cw_stats_report *r = malloc(sizeof(*r));
	char path[PATH_MAX];
	struct cw_l1_opts o = { .path = tpath(path, sizeof(path), "l1"),
	    .clock = cw_clock_manual(&tenv.now_ns), .role = CW_ROLE_WARMER };

	cr_assert_eq(cw_l1_open(&warmer, &o, NULL), CW_OK);
	reads(reader, 9, CW_RESULT_HIT, 1000);
	/* A warm-up: 50 fetches from the source, 10 of them not found. */
	for (int i = 0; i < 50; i++)
		cw_l1_record(warmer, CW_LEVEL_L3, i < 10 ? CW_RESULT_MISS :
		    CW_RESULT_HIT, 40000000);
	cw_l1_record_lookups(warmer, 40000000, 50);
	cr_assert_eq(cw_stats_collect(reader, 0, r, NULL), CW_OK);
	cr_assert_eq(r->lookups, 9);
	cr_assert_eq(r->level[CW_LEVEL_L3].requests, 0);
	cr_assert_float_eq(r->hit_rate, 1.0, 1e-12);
	cr_assert_eq(r->latency.count, 9, "a warmer's waits are not latency");
	cr_assert_eq(r->window.level[CW_LEVEL_L3].requests, 0);
	cr_assert_eq(r->warm_level[CW_LEVEL_L3].requests, 50);
	cr_assert_eq(r->warm_level[CW_LEVEL_L3].misses, 10);
	cr_assert_eq(r->warm_level[CW_LEVEL_L1].requests, 0);
	free(r);
	cw_l1_close(warmer);
	cw_l1_close(reader);
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
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
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
	cr_assert_eq(cw_stats_collect(l1, 0, r, NULL), CW_OK);
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
