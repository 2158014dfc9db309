/*
 * src_synth: a synthetic source, "synthetic:LATENCY" (synthetic:2ms).
 *
 * It answers every structured key whose date is not in the future (by
 * the clock's calendar) with bars of that day, as the CSV source would
 * return them: one row per bar of the granularity (1440 for M1, one for
 * D), so values have the sizes real ones have; any other key (a
 * production trace's numbers) with 1 KiB. The bytes are a pure
 * function of the key. Each answer comes LATENCY of elapsed time after
 * it was asked for, many at once like ClickHouse's: what lets cw-bench
 * replay a workload anywhere, with a stated cost for a miss.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "hash_int.h"
#include "src_int.h"
#include "cal_int.h"
#include "key_int.h"
#include "num_int.h"

struct pending {
	void *tag;
	int rc;
	int64_t due_ns;
};

struct synth_src {
	int64_t latency_ns;
	uint64_t max_value_bytes;
	struct cw_clock clock;
	struct pending *q;		/* in order of due_ns: one latency */
	size_t head, n, cap;
};

static int
synth_open(void **self, const char *rest, const struct cw_src_opts *o,
    struct cw_err *err)
{
	struct synth_src *s;
	int64_t ms;

	if (cw_num_parse_duration_ms(rest[0] != '\0' ? rest : "0", "source "
	    "synthetic: latency", &ms, err) != CW_OK)
		return CW_ECONFIG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "synthetic source");
	s->latency_ns = ms * 1000000;
	s->max_value_bytes = o->max_value_bytes;
	s->clock = o->clock;
	*self = s;
	return CW_OK;
}

/* Bars a day at a granularity; 0 for one this source does not know. */
static unsigned
bars_a_day(const char *g)
{
	static const struct { const char *name; unsigned bars; } known[] = {
		{ "M1", 1440 }, { "M5", 288 }, { "M15", 96 }, { "M30", 48 },
		{ "H1", 24 }, { "H4", 6 }, { "D", 1 },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(g, known[i].name) == 0)
			return known[i].bars;
	return 0;
}

#define OPAQUE_VALUE_BYTES 1024

/* A price of the bars, its ten-thousandths given: "%u.%04u". */
static size_t
put_price(char *p, unsigned v)
{
	size_t n = cw_num_put_u64(p, v / 10000);

	p[n++] = '.';
	return n + cw_num_put_fixed(p + n, v % 10000, 4);
}

/* The day's bars: header, then "timestamp,open,high,low,close". Written
 * without printf: a day of M1 bars is 1440 rows, and a replay makes
 * hundreds of thousands of values, where formatting them was most of
 * its time. */
static int
make_value(const struct cw_key *k, unsigned bars, struct cw_buf *out,
    struct cw_err *err)
{
	static const char header[] = "timestamp,open,high,low,close\n";
	/* A row past the date: "THH:MM:00Z", four prices of at most
	 * 20 + 1 + 4 bytes and their commas, the newline. */
	enum { ROW_ROOM = 10 + 4 * 26 + 1 };
	uint64_t h = cw_hash_seeded(k->raw, k->len, 0x5eed);
	unsigned step = bars > 0 ? 1440 / bars : 1;
	size_t date_len = strlen(k->date);
	int rc;

	if (bars == 0) {
		while (out->len < OPAQUE_VALUE_BYTES && (rc = cw_buf_appendf(out,
		    err, "%016llx", (unsigned long long)(h = h *
		    6364136223846793005ULL + 1)) == CW_OK))
			;
		return out->len >= OPAQUE_VALUE_BYTES ? CW_OK : CW_ENOMEM;
	}
	if ((rc = cw_buf_reserve(out, out->len + sizeof(header) - 1 +
	    (size_t)bars * (date_len + ROW_ROOM), err)) != CW_OK)
		return rc;
	memcpy(out->data + out->len, header, sizeof(header) - 1);
	out->len += sizeof(header) - 1;
	for (unsigned i = 0; i < bars; i++) {
		unsigned m = i * step, base;
		char *p = out->data + out->len;

		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
		base = 10000 + (unsigned)(h >> 52);
		memcpy(p, k->date, date_len);
		p += date_len;
		*p++ = 'T';
		p += cw_num_put_fixed(p, m / 60, 2);
		*p++ = ':';
		p += cw_num_put_fixed(p, m % 60, 2);
		memcpy(p, ":00Z", 4);
		p += 4;
		*p++ = ',';
		p += put_price(p, base);
		*p++ = ',';
		p += put_price(p, base + 7);
		*p++ = ',';
		p += put_price(p, base - 5);
		*p++ = ',';
		p += put_price(p, base + 2);
		*p++ = '\n';
		out->len = (size_t)(p - out->data);
	}
	return CW_OK;
}

static int
answer(struct synth_src *s, const struct cw_key *k, struct cw_buf *out,
    struct cw_err *err)
{
	int64_t day = cw_cal_floor_div(cw_clock_calendar_ns(&s->clock),
	    86400000000000LL);
	unsigned bars = k->structured ? bars_a_day(k->granularity) : 0;
	int rc;

	if (k->structured && (bars == 0 || cw_cal_days_from_civil(k->year,
	    k->month, k->day) > day))
		return CW_ENOTFOUND;
	if ((rc = make_value(k, bars, out, err)) != CW_OK)
		return rc;
	if (out->len > s->max_value_bytes)
		return cw_err_set(err, CW_ETOOBIG, 0, "source synthetic: %s: "
		    "%zu bytes, more than source.max_value_size", k->raw,
		    out->len);
	return CW_OK;
}

static int
synth_submit(void *self, const struct cw_key *k, struct cw_buf *out,
    void *tag, struct cw_err *err)
{
	struct synth_src *s = self;
	struct pending *p;
	int rc = answer(s, k, out, err);

	if (rc != CW_OK && rc != CW_ENOTFOUND)
		return rc;
	if (s->head + s->n == s->cap) {
		if (s->head > 0) {
			memmove(s->q, s->q + s->head, s->n * sizeof(*s->q));
			s->head = 0;
		} else {
			size_t cap = s->cap ? 2 * s->cap : 16;

			if ((p = realloc(s->q, cap * sizeof(*p))) == NULL)
				return cw_err_set(err, CW_ENOMEM, 0,
				    "synthetic source");
			s->q = p;
			s->cap = cap;
		}
	}
	p = &s->q[s->head + s->n++];
	p->tag = tag;
	p->rc = rc;
	p->due_ns = cw_clock_elapsed_ns(&s->clock) + s->latency_ns;
	return CW_OK;
}

static size_t
synth_poll(void *self, int64_t wait_ns, struct cw_src_done *done, size_t cap)
{
	struct synth_src *s = self;
	size_t got = 0;
	int64_t now;

	if (s->n == 0)
		return 0;
	now = cw_clock_elapsed_ns(&s->clock);
	if (s->q[s->head].due_ns > now) {
		int64_t until = s->q[s->head].due_ns - now;

		if (wait_ns >= 0 && wait_ns < until)
			until = wait_ns;
		cw_clock_sleep_ns(&s->clock, until);
		now = cw_clock_elapsed_ns(&s->clock);
	}
	while (got < cap && s->n > 0 && s->q[s->head].due_ns <= now) {
		done[got].tag = s->q[s->head].tag;
		done[got].rc = s->q[s->head].rc;
		memset(&done[got].err, 0, sizeof(done[got].err));
		got++;
		s->head++;
		s->n--;
	}
	return got;
}

static size_t
synth_pending(const void *self)
{
	return ((const struct synth_src *)self)->n;
}

static void
synth_close(void *self)
{
	struct synth_src *s = self;

	free(s->q);
	free(s);
}

const struct cw_src_ops cw_src_synthetic_ops = {
	"synthetic", synth_open, synth_submit, synth_poll, synth_pending,
	synth_close,
};
