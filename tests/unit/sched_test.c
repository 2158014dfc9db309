#include "helpers.h"
#include "sched_int.h"
#include "warm_int.h"

TestSuite(sched);

#define S 1000000000LL

static struct cw_sched *
new_sched(unsigned slots, int64_t deadline)
{
	struct cw_sched_opts o = { slots, deadline, S, 4 * S };
	struct cw_sched *s;

	cr_assert_eq(cw_sched_new(&s, &o, NULL), CW_OK);
	return s;
}

static size_t
add(struct cw_sched *s, int prio, int64_t deadline)
{
	size_t id;

	cr_assert_eq(cw_sched_add(s, prio, deadline, &id, NULL), CW_OK);
	return id;
}

Test(sched, class_first_then_deadline_then_input_order)
{
	struct cw_sched *s = new_sched(100, 1000 * S);
	size_t id, got[8], n = 0;
	const size_t want[] = { 5, 1, 4, 6, 0, 3, 2, 7 };

	add(s, CW_PRIO_MEDIUM, 50 * S);		/* 0 */
	add(s, CW_PRIO_CRITICAL, 20 * S);	/* 1 */
	add(s, CW_PRIO_LOW, 10 * S);		/* 2 */
	add(s, CW_PRIO_MEDIUM, 50 * S);		/* 3: ties 0, after it */
	add(s, CW_PRIO_CRITICAL, 20 * S);	/* 4: ties 1, after it */
	add(s, CW_PRIO_CRITICAL, 5 * S);	/* 5: earliest critical */
	add(s, CW_PRIO_HIGH, 2000 * S);		/* 6: capped at the run's */
	add(s, CW_PRIO_LOW, 10 * S);		/* 7 */
	while (cw_sched_next(s, 0, &id))
		got[n++] = id;
	cr_assert_eq(n, 8);
	cr_assert_arr_eq(got, want, sizeof(want));
	cw_sched_free(s);
}

Test(sched, the_same_input_gives_the_same_order)
{
	size_t a[200], b[200];

	for (int run = 0; run < 2; run++) {
		struct cw_sched *s = new_sched(3, 1000 * S);
		size_t id, n = 0;

		for (int i = 0; i < 200; i++)
			add(s, (i * 7) % 4, (int64_t)((i * 13) % 5) * S);
		while (n < 200) {
			cr_assert(cw_sched_next(s, 0, &id));
			(run ? b : a)[n++] = id;
			cw_sched_done(s, id, 0, 0);
		}
		cw_sched_free(s);
	}
	cr_assert_arr_eq(a, b, sizeof(a));
}

Test(sched, at_most_slots_run_at_once)
{
	struct cw_sched *s = new_sched(2, 1000 * S);
	size_t x, y, z;

	for (int i = 0; i < 5; i++)
		add(s, CW_PRIO_HIGH, 0);
	cr_assert(cw_sched_next(s, 0, &x));
	cr_assert(cw_sched_next(s, 0, &y));
	cr_assert_not(cw_sched_next(s, 0, &z), "both slots taken");
	cw_sched_done(s, x, 0, 0);
	cr_assert(cw_sched_next(s, 0, &z));
	cr_assert_eq(z, 2);
	cr_assert_eq(cw_sched_left(s), 4);
	cw_sched_free(s);
}

Test(sched, a_failed_critical_task_retries_with_backoff_until_the_deadline)
{
	struct cw_sched *s = new_sched(1, 10 * S);
	size_t crit = add(s, CW_PRIO_CRITICAL, 0), high = add(s, CW_PRIO_HIGH, 0);
	size_t id;

	cr_assert(cw_sched_next(s, 0, &id));
	cr_assert_eq(id, crit);
	cr_assert_eq(cw_sched_done(s, id, 1, 0), 1, "retried");
	/* While it backs off (1 s), the others run. */
	cr_assert(cw_sched_next(s, 0, &id));
	cr_assert_eq(id, high);
	cr_assert_eq(cw_sched_done(s, id, 1, 0), 0, "high: no retry");
	cr_assert_not(cw_sched_next(s, S / 2, &id));
	cr_assert_eq(cw_sched_wake_ns(s), S);
	cr_assert(cw_sched_next(s, S, &id));
	cr_assert_eq(id, crit);
	cr_assert_eq(cw_sched_done(s, id, 1, S), 1);
	cr_assert_eq(cw_sched_wake_ns(s), 3 * S, "the back-off doubles");
	cr_assert(cw_sched_next(s, 3 * S, &id));
	cr_assert_eq(cw_sched_done(s, id, 1, 3 * S), 1);
	cr_assert_eq(cw_sched_wake_ns(s), 7 * S);
	cr_assert(cw_sched_next(s, 7 * S, &id));
	/* The next back-off (4 s, capped) would end past the deadline. */
	cr_assert_eq(cw_sched_done(s, id, 1, 7 * S), 0);
	cr_assert_eq(cw_sched_tries(s, crit), 4);
	cr_assert_eq(cw_sched_left(s), 0);
	cw_sched_free(s);
}

Test(sched, nothing_starts_past_the_deadline_and_the_rest_expires)
{
	struct cw_sched *s = new_sched(1, 10 * S);
	size_t id, ids[8], n;

	add(s, CW_PRIO_LOW, 0);
	add(s, CW_PRIO_CRITICAL, 0);
	add(s, CW_PRIO_HIGH, 0);
	cr_assert(cw_sched_next(s, 0, &id));
	cr_assert_eq(id, 1);
	cr_assert_eq(cw_sched_done(s, id, 1, 9 * S), 0,
	    "no retry: the back-off ends past the deadline");
	cr_assert_not(cw_sched_next(s, 10 * S, &id));
	n = cw_sched_expire(s, ids, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(ids[0], 2);
	cr_assert_eq(ids[1], 0);
	cr_assert_eq(cw_sched_left(s), 0);
	cw_sched_free(s);
}

Test(sched, names_of_the_classes)
{
	int p;

	for (int i = 0; i < CW_PRIO_COUNT; i++) {
		const char *n = cw_prio_name(i);

		cr_assert_eq(cw_prio_parse(n, strlen(n), &p), CW_OK);
		cr_assert_eq(p, i);
	}
	cr_assert_eq(cw_prio_parse("urgent", 6, &p), CW_EDATA);
	cr_assert_eq(cw_prio_parse("hig", 3, &p), CW_EDATA);
}

/* A forecast without a class of its own is high above probability 0.7,
 * medium at or below it; one with a class keeps it. */
Test(sched, forecast_classes_by_probability)
{
	struct cw_forecast f[4];
	struct cw_warm_plan p = { 0 };
	const double prob[4] = { 0.95, 0.71, 0.7, 0.2 };
	const int want[4] = { CW_PRIO_HIGH, CW_PRIO_HIGH, CW_PRIO_MEDIUM,
		CW_PRIO_CRITICAL };

	memset(f, 0, sizeof(f));
	for (int i = 0; i < 4; i++) {
		snprintf(f[i].key, sizeof(f[i].key), "k%d", i);
		f[i].probability = prob[i];
		f[i].priority = i == 3 ? "critical" : "";
	}
	cr_assert_eq(cw_warm_plan_forecast(&p, f, 4, -1, NULL), CW_OK);
	cr_assert_eq(p.n, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(p.t[i].prio, want[i], "probability %.2f",
		    prob[i]);
	cw_warm_plan_free(&p);
}
