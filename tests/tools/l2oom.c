/*
 * l2oom CONF DIR [KEY...]: out of memory at every allocation path of the
 * levels with a real L2 (one Redis or a cluster, as CONF's l2.url says)
 * and CONF's source (twelve keys of the synthetic bars unless KEYs are
 * given, at most twelve), the
 * way tests/unit/oom_test.c does it without one: cw-get's batch (misses
 * through every level, then L2's answers, then L1's), a warming run (its
 * fresh check, L1 filled from L2, a refresh, a drop) and --quick's L2
 * probe, again and again, each run with a new L1 file in DIR and its own
 * key prefix, until a run fails no allocation. A failed run must end
 * with CW_ENOMEM or carry on (L2 given up, a count lost). Prints one
 * line; exits 1 when a run ended otherwise, 2 when CONF cannot be used.
 * Linked with the allocator wrapped (tests/fault.h); under ASan,
 * LeakSanitizer fails the exit on anything a run leaked.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"
#include "../fault.h"

#define NKEYS 12

struct ctx {
	struct cw_cfg *cfg;
	const char *dir;
	unsigned run;
	size_t nkeys;
	char keys[NKEYS][CW_KEY_MAX + 1];
	char scratch[CW_PATH_MAX];
};

static void
close_and_free(struct cw_hier *h, struct cw_hier_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cw_buf_free(&items[i].val);
	cw_hier_close(h);
}

/* A batch of every key through the levels: CW_OK, or the first code
 * that is neither that nor "not found". */
static int
lookups(struct ctx *c, struct cw_err *err)
{
	struct cw_hier_opts ho = { .cfg = c->cfg, .clock = cw_clock_system() };
	struct cw_hier_item items[NKEYS];
	struct cw_hier *h = NULL;
	int rc;

	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < c->nkeys; i++) {
		items[i].key = c->keys[i];
		items[i].klen = strlen(c->keys[i]);
	}
	if ((rc = cw_hier_open(&h, &ho, err)) == CW_OK &&
	    (rc = cw_hier_get_batch(h, items, c->nkeys)) != CW_OK)
		cw_err_set(err, rc, 0, "cw_hier_get_batch");
	for (size_t i = 0; i < c->nkeys && rc == CW_OK; i++)
		if (items[i].rc != CW_OK && items[i].rc != CW_ENOTFOUND) {
			rc = items[i].rc;
			*err = items[i].err;
		}
	close_and_free(h, items, c->nkeys);
	return rc;
}

static int
warm(struct ctx *c, struct cw_err *err)
{
	struct cw_warm_opts wo = { .cfg = c->cfg, .jobs = 3 };
	struct cw_warm_plan plan = { 0 };
	struct cw_warm_totals tot;
	int rc = CW_OK;

	wo.clock = cw_clock_system();
	wo.deadline_ns = cw_clock_elapsed_ns(&wo.clock) + 20000000000LL;
	wo.refresh_below = 0.25;
	for (size_t i = 0; i < c->nkeys && rc == CW_OK; i++)
		rc = cw_warm_plan_line(&plan, c->keys[i], strlen(c->keys[i]),
		    CW_PRIO_HIGH, i == 0 ? CW_WARM_REFRESH : i == 1 ?
		    CW_WARM_DROP : 0, err);
	if (rc == CW_OK) {
		cw_warm_plan_finish(&plan);
		rc = cw_warm_run(&wo, plan.t, plan.n, &tot, err);
	}
	for (size_t i = 0; i < plan.n && rc == CW_OK; i++)
		if (plan.t[i].result == CW_WARM_FAILED &&
		    plan.t[i].rc != CW_ENOTFOUND) {
			rc = plan.t[i].rc;
			*err = plan.t[i].err;
		}
	cw_warm_plan_free(&plan);
	return rc;
}

static int
once(struct ctx *c, struct cw_err *err)
{
	struct cw_buf report = { 0 };
	int passed, rc;

	/* A run of its own: nothing in L1 or under its prefix in L2. */
	snprintf(c->cfg->l2_prefix, sizeof(c->cfg->l2_prefix), "oom%u:",
	    c->run);
	unlink(c->cfg->l1_file);
	if ((rc = lookups(c, err)) != CW_OK)	/* misses, to the source */
		return rc;
	unlink(c->cfg->l1_file);
	if ((rc = lookups(c, err)) != CW_OK ||	/* L2 answers, fills L1 */
	    (rc = lookups(c, err)) != CW_OK)	/* L1 answers */
		return rc;
	unlink(c->cfg->l1_file);
	if ((rc = warm(c, err)) == CW_OK)
		rc = cw_quick_run(c->cfg, cw_clock_system(), c->scratch,
		    c->keys[c->nkeys - 1], &report, &passed, err);
	unlink(c->scratch);
	cw_buf_free(&report);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct cw_cfg cfg;
	struct ctx c = { .cfg = &cfg };
	struct cw_err e;
	unsigned failed = 0;

	if (argc < 3 || argc > 3 + NKEYS) {
		fprintf(stderr, "usage: l2oom CONF DIR [KEY...]\n");
		return 2;
	}
	if (cw_cfg_load(&cfg, argv[1], &e) != CW_OK) {
		fprintf(stderr, "l2oom: %s\n", e.msg);
		return 2;
	}
	c.dir = argv[2];
	snprintf(cfg.l1_file, sizeof(cfg.l1_file), "%s/oom.l1", c.dir);
	snprintf(c.scratch, sizeof(c.scratch), "%s/quick.l1", c.dir);
	cfg.log_file[0] = '\0';
	/* Small files: --quick's scratch file is made anew each run. */
	cfg.l1_max_entries = 1000;
	cfg.l1_max_bytes = 4 << 20;
	for (c.nkeys = 0; c.nkeys < (size_t)argc - 3; c.nkeys++)
		snprintf(c.keys[c.nkeys], sizeof(c.keys[c.nkeys]), "%s",
		    argv[3 + c.nkeys]);
	for (; argc == 3 && c.nkeys < NKEYS; c.nkeys++)
		snprintf(c.keys[c.nkeys], sizeof(c.keys[c.nkeys]),
		    "ohlc:%s:D:2024-03-%02zu", c.nkeys % 2 ? "EUR_USD" :
		    "GBP_USD", 1 + c.nkeys);
	for (;; c.run++) {
		int rc, fired;

		memset(&e, 0, sizeof(e));
		fault_arm(FAULT_ALLOC);
		rc = once(&c, &e);
		fired = fault_disarm();
		if (!fired && rc != CW_OK) {
			printf("FAILED: with every allocation served: %s\n",
			    e.msg);
			return 1;
		}
		if (!fired)
			break;
		failed++;
		if (rc != CW_OK && (rc != CW_ENOMEM || e.msg[0] == '\0')) {
			printf("FAILED: run %u: %d (%s), not CW_ENOMEM\n",
			    c.run, rc, e.msg);
			return 1;
		}
	}
	printf("ok: %u runs failed an allocation, each ended well\n", failed);
	return 0;
}
