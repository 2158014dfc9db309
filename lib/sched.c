/*
 * sched: which warming task runs next. A pure module: no I/O, time is
 * handed in, and it knows tasks only by number.
 *
 * Ready tasks wait in a binary heap ordered by (priority class, deadline,
 * insertion number): higher classes first, the earliest deadline first
 * within a class, and the order of input among equals, so the same input
 * always runs in the same order (git's prio-queue breaks ties the same
 * way). A task that failed and may retry (critical ones) sleeps in a
 * second heap ordered by when its back-off ends, then rejoins the first
 * with its original place. At most `slots` tasks run at once. Past the
 * run's deadline nothing starts: what is left is reported as expired.
 */
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "sched_int.h"

struct task {
	int prio;
	int64_t deadline_ns;
	uint64_t seq;		/* insertion order: the tie-break */
	int64_t retry_at_ns;
	int64_t backoff_ns;	/* the next back-off */
	unsigned tries;
	int state;
};

enum { T_QUEUED, T_RUNNING, T_SLEEPING, T_DONE };

/* A heap of task numbers; before() decides the order. */
struct heap {
	size_t *v;
	size_t n, cap;
};

struct cw_sched {
	struct cw_sched_opts o;
	struct task *t;
	size_t n, cap;
	struct heap ready, sleeping;
	unsigned running;
};

static int
ready_before(const struct cw_sched *s, size_t a, size_t b)
{
	const struct task *x = &s->t[a], *y = &s->t[b];

	if (x->prio != y->prio)
		return x->prio < y->prio;
	if (x->deadline_ns != y->deadline_ns)
		return x->deadline_ns < y->deadline_ns;
	return x->seq < y->seq;
}

static int
sleep_before(const struct cw_sched *s, size_t a, size_t b)
{
	const struct task *x = &s->t[a], *y = &s->t[b];

	if (x->retry_at_ns != y->retry_at_ns)
		return x->retry_at_ns < y->retry_at_ns;
	return ready_before(s, a, b);
}

typedef int before_fn(const struct cw_sched *, size_t, size_t);

static int
heap_push(struct cw_sched *s, struct heap *h, before_fn *before, size_t id)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		void *p = realloc(h->v, cap * sizeof(*h->v));

		if (p == NULL)
			return CW_ENOMEM;
		h->v = p;
		h->cap = cap;
	}
	for (i = h->n++; i > 0 && before(s, id, h->v[(i - 1) / 2]);
	    i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i] = id;
	return CW_OK;
}

static size_t
heap_pop(struct cw_sched *s, struct heap *h, before_fn *before)
{
	size_t top = h->v[0], last = h->v[--h->n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(s, h->v[c + 1], h->v[c]))
			c++;
		if (!before(s, h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

static const char *const prio_names[CW_PRIO_COUNT] = {
	"critical", "high", "medium", "low",
};

const char *
cw_prio_name(int prio)
{
	return prio >= 0 && prio < CW_PRIO_COUNT ? prio_names[prio] : "?";
}

int
cw_prio_parse(const char *s, size_t len, int *prio)
{
	for (int i = 0; i < CW_PRIO_COUNT; i++)
		if (strlen(prio_names[i]) == len &&
		    memcmp(prio_names[i], s, len) == 0) {
			*prio = i;
			return CW_OK;
		}
	return CW_EDATA;
}

int
cw_sched_new(struct cw_sched **out, const struct cw_sched_opts *o,
    struct cw_err *err)
{
	struct cw_sched *s;

	*out = NULL;
	if (o->slots == 0)
		return cw_err_set(err, CW_EUSAGE, 0, "scheduler: no slots");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "scheduler");
	s->o = *o;
	*out = s;
	return CW_OK;
}

void
cw_sched_free(struct cw_sched *s)
{
	if (s == NULL)
		return;
	free(s->ready.v);
	free(s->sleeping.v);
	free(s->t);
	free(s);
}

int
cw_sched_add(struct cw_sched *s, int prio, int64_t deadline_ns, size_t *id,
    struct cw_err *err)
{
	struct task *t;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *p = realloc(s->t, cap * sizeof(*s->t));

		if (p == NULL)
			return cw_err_set(err, CW_ENOMEM, 0, "scheduler");
		s->t = p;
		s->cap = cap;
	}
	t = &s->t[s->n];
	memset(t, 0, sizeof(*t));
	t->prio = prio;
	t->deadline_ns = deadline_ns < s->o.deadline_ns ? deadline_ns :
	    s->o.deadline_ns;
	t->seq = s->n;
	t->backoff_ns = s->o.retry_first_ns;
	if (heap_push(s, &s->ready, ready_before, s->n) != CW_OK)
		return cw_err_set(err, CW_ENOMEM, 0, "scheduler");
	*id = s->n++;
	return CW_OK;
}

/* Tasks whose back-off ended by now go back in line. */
static void
wake_sleepers(struct cw_sched *s, int64_t now_ns)
{
	while (s->sleeping.n > 0 &&
	    s->t[s->sleeping.v[0]].retry_at_ns <= now_ns) {
		size_t id = heap_pop(s, &s->sleeping, sleep_before);

		s->t[id].state = T_QUEUED;
		/* Cannot fail: the ready heap once held it, and never
		 * shrinks its array. */
		(void)heap_push(s, &s->ready, ready_before, id);
	}
}

int
cw_sched_next(struct cw_sched *s, int64_t now_ns, size_t *id)
{
	if (now_ns >= s->o.deadline_ns || s->running >= s->o.slots)
		return 0;
	wake_sleepers(s, now_ns);
	if (s->ready.n == 0)
		return 0;
	*id = heap_pop(s, &s->ready, ready_before);
	s->t[*id].state = T_RUNNING;
	s->t[*id].tries++;
	s->running++;
	return 1;
}

int
cw_sched_done(struct cw_sched *s, size_t id, int failed, int64_t now_ns)
{
	struct task *t = &s->t[id];

	s->running--;
	if (!failed || t->prio != CW_PRIO_CRITICAL ||
	    now_ns + t->backoff_ns >= s->o.deadline_ns) {
		t->state = T_DONE;
		return 0;
	}
	t->retry_at_ns = now_ns + t->backoff_ns;
	t->backoff_ns = t->backoff_ns * 2 < s->o.retry_max_ns ?
	    t->backoff_ns * 2 : s->o.retry_max_ns;
	t->state = T_SLEEPING;
	/* Cannot fail: the task was in the ready heap before. */
	(void)heap_push(s, &s->sleeping, sleep_before, id);
	return 1;
}

unsigned
cw_sched_tries(const struct cw_sched *s, size_t id)
{
	return s->t[id].tries;
}

int64_t
cw_sched_wake_ns(const struct cw_sched *s)
{
	int64_t wake = s->o.deadline_ns;

	if (s->sleeping.n > 0 && s->t[s->sleeping.v[0]].retry_at_ns < wake)
		wake = s->t[s->sleeping.v[0]].retry_at_ns;
	return wake;
}

size_t
cw_sched_left(const struct cw_sched *s)
{
	return s->ready.n + s->sleeping.n + s->running;
}

size_t
cw_sched_expire(struct cw_sched *s, size_t *ids, size_t cap)
{
	size_t n = 0;

	while (n < cap && s->ready.n > 0) {
		size_t id = heap_pop(s, &s->ready, ready_before);

		s->t[id].state = T_DONE;
		ids[n++] = id;
	}
	while (n < cap && s->sleeping.n > 0) {
		size_t id = heap_pop(s, &s->sleeping, sleep_before);

		s->t[id].state = T_DONE;
		ids[n++] = id;
	}
	return n;
}
