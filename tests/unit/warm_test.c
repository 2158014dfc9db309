#include "helpers.h"
#include "warm_int.h"

TestSuite(warm);

static void
line(struct cw_warm_plan *p, const char *text, int prio, unsigned flags)
{
	struct cw_err e;

	cr_assert_eq(cw_warm_plan_line(p, text, strlen(text), prio, flags, &e),
	    CW_OK, "%s: %s", text, e.msg);
}

/* The same key twice in a run's input (a session's keys and the
 * forecast's overlap): warmed once, at its first place, in the most
 * urgent class it was given, by the earliest deadline, with every
 * flag; the others keep their order. */
Test(warm, a_key_given_twice_is_one_task_with_the_most_urgent_terms)
{
	struct cw_warm_plan p = { 0 };

	line(&p, "labels:EUR_USD:H1:2024-01-02", CW_PRIO_LOW, 0);
	line(&p, "labels:GBP_USD:H1:2024-01-02", CW_PRIO_HIGH, 0);
	line(&p, "labels:EUR_USD:H1:2024-01-02", CW_PRIO_CRITICAL, 4);
	line(&p, "labels:USD_JPY:H1:2024-01-02", CW_PRIO_MEDIUM, 0);
	line(&p, "labels:EUR_USD:H1:2024-01-02", CW_PRIO_MEDIUM, 1);
	p.t[0].deadline_ns = 0;
	p.t[2].deadline_ns = 5000;
	p.t[4].deadline_ns = 3000;
	cw_warm_plan_finish(&p);
	cr_assert_eq(p.n, 3);
	cr_assert_str_eq(p.t[0].key, "labels:EUR_USD:H1:2024-01-02");
	cr_assert_eq(p.t[0].prio, CW_PRIO_CRITICAL);
	cr_assert_eq(p.t[0].deadline_ns, 3000);
	cr_assert_eq(p.t[0].flags, 5u);
	cr_assert_str_eq(p.t[1].key, "labels:GBP_USD:H1:2024-01-02");
	cr_assert_str_eq(p.t[2].key, "labels:USD_JPY:H1:2024-01-02");
	cr_assert_eq(p.t[2].prio, CW_PRIO_MEDIUM);
	cw_warm_plan_free(&p);
}

/* A line of text, the default class low. */
static int
parse(const char *text, struct cw_warm_task *t, struct cw_err *e)
{
	return cw_warm_parse_line(text, strlen(text), CW_PRIO_LOW, t, e);
}

/* Lines from Windows (CRLF), cw-predict's TSV with its priority column
 * or only its probability, and a bad key. */
Test(warm, input_lines_in_every_form)
{
	struct cw_warm_task t;
	struct cw_err e;
	const char *crlf = "labels:EUR_USD:H1:2024-01-02\r";

	cr_assert_eq(cw_warm_parse_line(crlf, strlen(crlf), CW_PRIO_HIGH, &t,
	    &e), CW_OK, "%s", e.msg);
	cr_assert_str_eq(t.key, "labels:EUR_USD:H1:2024-01-02");
	cr_assert_eq(t.prio, CW_PRIO_HIGH);
	cr_assert_eq(parse("k:A:B:2024-01-02\t3.2\t0.9\tcritical", &t, &e),
	    CW_OK, "%s", e.msg);
	cr_assert_str_eq(t.key, "k:A:B:2024-01-02");
	cr_assert_eq(t.prio, CW_PRIO_CRITICAL);
	cr_assert_eq(parse("k:A:B:2024-01-02\t3.2\t0.9", &t, &e), CW_OK, "%s",
	    e.msg);
	cr_assert_eq(t.prio, CW_PRIO_HIGH, "above 0.7: high");
	cr_assert_eq(parse("k:A:B:2024-01-02\t0.1\t0.3", &t, &e), CW_OK, "%s",
	    e.msg);
	cr_assert_eq(t.prio, CW_PRIO_MEDIUM, "below: medium");
	cr_assert_eq(parse("k:A:B:2024-02-30", &t, &e), CW_EDATA);
}
