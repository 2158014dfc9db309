/*
 * l2fence URL: the fence on a real Redis (one, a cluster, Sentinel's).
 * Two lock holders of one key, as two processes would be: A takes the
 * lock and stalls past its lease, B takes it over and stores its answer,
 * then A wakes and stores its older one. A's store must be refused and
 * B's answer stay. Then a holder that stalls with no one taking over
 * still stores, and a remembered miss is fenced as a value is. Prints a
 * line per check; exits 1 when one fails, 2 when Redis cannot be used.
 */
#include <stdio.h>
#include <string.h>

#include "cw.h"
#include "l2_int.h"

#define LEASE_MS 200

static int failed;

static void
check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAILED", what);
	failed |= !ok;
}

static int
open_holder(struct cw_l2 **l2, const char *url, uint64_t seed)
{
	struct cw_l2_opts o = { 0 };
	struct cw_err e;

	o.url = url;
	o.prefix = "fence:";
	o.ttl_ms = 60000;
	o.connect_timeout_ms = 1000;
	o.timeout_ms = 2000;
	o.failover_ms = 2000;
	o.clock = cw_clock_system();
	o.clock.seed = seed;	/* two holders, two tokens */
	if (cw_l2_open(l2, &o, &e) != CW_OK) {
		fprintf(stderr, "l2fence: %s\n", e.msg);
		return 0;
	}
	return 1;
}

static int
lock(struct cw_l2 *l2, const char *key, struct cw_buf *val)
{
	struct cw_l2_lookup q = { key, strlen(key), val, 0, 0, 0 };
	struct cw_err e;
	int held = 0;

	if (cw_l2_lock(l2, &q, LEASE_MS, &held, &e) != CW_OK) {
		fprintf(stderr, "l2fence: %s\n", e.msg);
		return -1;
	}
	return held;
}

/* A holder's store; 1 stored, 0 refused, -1 failed. */
static int
store(struct cw_l2 *l2, const char *key, const char *val, unsigned flags)
{
	struct cw_l2_write w = { key, strlen(key), val, strlen(val), 60000,
		CW_L2_UNLOCK | flags, 0, 0, 0 };
	struct cw_err e;

	if (cw_l2_set_many(l2, &w, 1, &e) != CW_OK) {
		fprintf(stderr, "l2fence: %s\n", e.msg);
		return -1;
	}
	return !w.refused;
}

/* What L2 holds for key: "value:BYTES", "none" or "absent". */
static const char *
held_by(struct cw_l2 *l2, const char *key, char *out, size_t cap)
{
	struct cw_buf val = { 0 };
	struct cw_l2_lookup q = { key, strlen(key), &val, 0, 0, 0 };
	struct cw_err e;

	if (cw_l2_get(l2, &q, 1, 0, &e) != CW_OK)
		snprintf(out, cap, "error: %s", e.msg);
	else if (q.rc == CW_OK)
		snprintf(out, cap, "value:%.*s", (int)val.len, val.data);
	else
		snprintf(out, cap, "%s", q.negative ? "none" : "absent");
	cw_buf_free(&val);
	return out;
}

int
main(int argc, char **argv)
{
	struct cw_l2 *a = NULL, *b = NULL;
	struct cw_buf val = { 0 };
	struct cw_clock clock = cw_clock_system();
	char got[512];
	const char *k1 = "stall:A:B:2024-01-02", *k2 = "late:A:B:2024-01-02",
	    *k3 = "miss:A:B:2024-01-02";

	if (argc != 2) {
		fprintf(stderr, "usage: l2fence URL\n");
		return 2;
	}
	if (!open_holder(&a, argv[1], 1) || !open_holder(&b, argv[1], 2))
		return 2;

	check(lock(a, k1, &val) == 1, "A takes the lock");
	cw_clock_sleep_ns(&clock, (LEASE_MS + 50) * 1000000LL);
	check(lock(b, k1, &val) == 1, "past A's lease, B takes it over");
	check(store(b, k1, "new", 0) == 1, "B stores its answer");
	check(store(a, k1, "old", 0) == 0, "A wakes: its older answer is "
	    "refused");
	check(strcmp(held_by(b, k1, got, sizeof(got)), "value:new") == 0,
	    "B's answer stays");

	check(lock(a, k2, &val) == 1, "A takes another key's lock");
	cw_clock_sleep_ns(&clock, (LEASE_MS + 50) * 1000000LL);
	check(store(a, k2, "late", 0) == 1, "past its lease, no one took "
	    "over: A's answer is stored");
	check(strcmp(held_by(b, k2, got, sizeof(got)), "value:late") == 0,
	    "and read back");

	check(lock(a, k3, &val) == 1 && (cw_clock_sleep_ns(&clock, (LEASE_MS +
	    50) * 1000000LL), lock(b, k3, &val) == 1) &&
	    store(b, k3, "fresh", 0) == 1, "a third key taken over by B");
	check(store(a, k3, "", CW_L2_NEGATIVE) == 0, "A's older 'not found' "
	    "is refused too");
	check(strcmp(held_by(b, k3, got, sizeof(got)), "value:fresh") == 0,
	    "B's value stays");

	cw_buf_free(&val);
	cw_l2_close(a);
	cw_l2_close(b);
	return failed;
}
