/*
 * trace: an access trace in memory, and what L1 alone would make of it
 * offline (LRU, and Belady's MIN: the best any eviction can do).
 *
 * A trace is "ts,key[,...]" lines, ts in Unix seconds (fractions
 * allowed): cw-get's access log, cw-bench generate's output, or a
 * production trace. A header line and malformed lines are counted and
 * skipped; a line stamped before the one above it counts at the time of
 * the one above, so simulated time never runs backwards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "trace_int.h"
#include "predict_int.h"

static int
push(struct cw_trace *t, int64_t ts_ms, const char *key, size_t klen,
    struct cw_err *err)
{
	int64_t id;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		int64_t *ts = realloc(t->ts_ms, cap * sizeof(*ts));
		uint32_t *k;

		if (ts == NULL)
			return cw_err_set(err, CW_ENOMEM, 0, "trace");
		t->ts_ms = ts;
		if ((k = realloc(t->key, cap * sizeof(*k))) == NULL)
			return cw_err_set(err, CW_ENOMEM, 0, "trace");
		t->key = k;
		t->cap = cap;
	}
	if ((id = cw_intern_id(&t->keys, key, klen, 1)) < 0)
		return cw_err_set(err, CW_ENOMEM, 0, "trace");
	if (t->n > 0 && ts_ms < t->ts_ms[t->n - 1]) {
		ts_ms = t->ts_ms[t->n - 1];
		t->reordered++;
	}
	t->ts_ms[t->n] = ts_ms;
	t->key[t->n++] = (uint32_t)id;
	return CW_OK;
}

int
cw_trace_load(struct cw_trace **out, const char *path, struct cw_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct cw_trace *t;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = CW_OK;

	*out = NULL;
	if (f == NULL)
		return cw_err_set(err, CW_EIO, errno, "%s", path);
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "trace");
		goto out;
	}
	while (rc == CW_OK && (len = getline(&line, &cap, f)) >= 0) {
		struct cw_log_line ll;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] ==
		    '\r'))
			len--;
		if (cw_predict_parse_line(line, (size_t)len, &ll) != CW_OK ||
		    ll.klen == 0 || ll.klen > CW_KEY_MAX ||
		    memchr(ll.key, ' ', ll.klen) != NULL) {
			t->skipped++;
			continue;
		}
		for (uint32_t i = 0; rc == CW_OK && i < ll.reads; i++)
			rc = push(t, ll.ts_ms, ll.key, ll.klen, err);
	}
	if (rc == CW_OK && ferror(f))
		rc = cw_err_set(err, CW_EIO, errno, "%s", path);
	if (rc == CW_OK && t->n == 0)
		rc = cw_err_set(err, CW_EDATA, 0, "%s: no line of the form "
		    "ts,key", path);
	if (t != NULL)
		t->nkeys = t->keys.n;
out:
	free(line);
	if (f != stdin && f != NULL)
		fclose(f);
	if (rc != CW_OK) {
		cw_trace_free(t);
		return rc;
	}
	*out = t;
	return CW_OK;
}

void
cw_trace_free(struct cw_trace *t)
{
	if (t == NULL)
		return;
	free(t->ts_ms);
	free(t->key);
	cw_intern_free(&t->keys);
	free(t);
}

void
cw_trace_cut(struct cw_trace *t, size_t n)
{
	uint32_t top = 0;

	if (n == 0 || n >= t->n)
		return;
	t->n = n;
	/* Ids go by first appearance: the kept accesses read ids 0..top. */
	for (size_t i = 0; i < n; i++)
		if (t->key[i] > top)
			top = t->key[i];
	t->nkeys = (size_t)top + 1;
}

size_t
cw_trace_len(const struct cw_trace *t)
{
	return t->n;
}

size_t
cw_trace_keys(const struct cw_trace *t)
{
	return t->nkeys;
}

const uint32_t *
cw_trace_ids(const struct cw_trace *t)
{
	return t->key;
}

const char *
cw_trace_key(const struct cw_trace *t, size_t id, size_t *len)
{
	*len = t->keys.len[id];
	return cw_intern_name(&t->keys, id);
}

/* ---- L1 alone, offline ---- */

#define NONE UINT32_MAX

/* LRU over key ids: a doubly-linked list, most recent at the head. */
static uint64_t
lru_hits(const struct cw_trace *t, size_t capacity, uint32_t *prev,
    uint32_t *next, unsigned char *in)
{
	uint32_t head = NONE, tail = NONE;
	size_t size = 0;
	uint64_t hits = 0;

	for (size_t i = 0; i < t->n; i++) {
		uint32_t k = t->key[i];

		if (in[k]) {
			hits++;
			if (head == k)
				continue;
			/* Unlink. */
			next[prev[k]] = next[k];
			if (next[k] != NONE)
				prev[next[k]] = prev[k];
			else
				tail = prev[k];
		} else {
			if (size == capacity) {
				uint32_t v = tail;

				in[v] = 0;
				tail = prev[v];
				if (tail != NONE)
					next[tail] = NONE;
				else
					head = NONE;
				size--;
			}
			in[k] = 1;
			size++;
		}
		prev[k] = NONE;
		next[k] = head;
		if (head != NONE)
			prev[head] = k;
		head = k;
		if (tail == NONE)
			tail = k;
	}
	return hits;
}

/* A max-heap of (next use, key): Belady evicts the farthest. Entries go
 * stale when their key is used again or evicted, and are skipped. */
struct heap_item {
	size_t next_use;
	uint32_t key;
};

static void
heap_push(struct heap_item *h, size_t *n, struct heap_item it)
{
	size_t i = (*n)++;

	while (i > 0 && h[(i - 1) / 2].next_use < it.next_use) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = it;
}

static struct heap_item
heap_pop(struct heap_item *h, size_t *n)
{
	struct heap_item top = h[0], last = h[--*n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1].next_use > h[c].next_use)
			c++;
		if (h[c].next_use <= last.next_use)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n > 0)
		h[i] = last;
	return top;
}

static uint64_t
belady_hits(const struct cw_trace *t, size_t capacity, size_t *next_at,
    size_t *use_of, unsigned char *in, struct heap_item *heap)
{
	size_t size = 0, nheap = 0;
	uint64_t hits = 0;

	/* next_at[i]: where the key of access i comes next (n: never). */
	for (size_t k = 0; k < t->keys.n; k++)
		use_of[k] = t->n;
	for (size_t i = t->n; i-- > 0;) {
		next_at[i] = use_of[t->key[i]];
		use_of[t->key[i]] = i;
	}
	for (size_t i = 0; i < t->n; i++) {
		uint32_t k = t->key[i];

		if (in[k]) {
			hits++;
		} else {
			if (size == capacity) {
				struct heap_item v;

				do	/* the first live entry */
					v = heap_pop(heap, &nheap);
				while (!in[v.key] || use_of[v.key] !=
				    v.next_use);
				in[v.key] = 0;
				size--;
			}
			in[k] = 1;
			size++;
		}
		use_of[k] = next_at[i];
		heap_push(heap, &nheap, (struct heap_item){ next_at[i], k });
	}
	return hits;
}

int
cw_trace_offline(const struct cw_trace *t, size_t capacity,
    uint64_t *lru, uint64_t *belady, struct cw_err *err)
{
	size_t nk = t->keys.n;
	uint32_t *prev = calloc(nk, sizeof(*prev));
	uint32_t *next = calloc(nk, sizeof(*next));
	unsigned char *in = calloc(nk, 1);
	size_t *next_at = calloc(t->n, sizeof(*next_at));
	size_t *use_of = calloc(nk, sizeof(*use_of));
	struct heap_item *heap = calloc(t->n, sizeof(*heap));
	int rc = CW_OK;

	if (prev == NULL || next == NULL || in == NULL || next_at == NULL ||
	    use_of == NULL || heap == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "offline eviction");
		goto out;
	}
	if (capacity == 0) {
		*lru = *belady = 0;
		goto out;
	}
	*lru = lru_hits(t, capacity, prev, next, in);
	memset(in, 0, nk);
	*belady = belady_hits(t, capacity, next_at, use_of, in, heap);
out:
	free(prev);
	free(next);
	free(in);
	free(next_at);
	free(use_of);
	free(heap);
	return rc;
}
