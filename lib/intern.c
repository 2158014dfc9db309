/*
 * intern: strings to dense ids, with one open-addressing table.
 */
#include <stdlib.h>
#include <string.h>

#include "hash_int.h"
#include "intern_int.h"

static int
grow_slots(struct cw_intern *t)
{
	size_t n = t->n_slots ? t->n_slots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return CW_ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t s = t->hash[i] & (n - 1);

		while (slots[s] != 0)
			s = (s + 1) & (n - 1);
		slots[s] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n;
	return CW_OK;
}

static int
grow_arrays(struct cw_intern *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	uint32_t *off = realloc(t->off, cap * sizeof(*off)), *len;
	uint64_t *hash;

	if (off == NULL)
		return CW_ENOMEM;
	t->off = off;
	if ((len = realloc(t->len, cap * sizeof(*len))) == NULL)
		return CW_ENOMEM;
	t->len = len;
	if ((hash = realloc(t->hash, cap * sizeof(*hash))) == NULL)
		return CW_ENOMEM;
	t->hash = hash;
	t->cap = cap;
	return CW_OK;
}

int64_t
cw_intern_id(struct cw_intern *t, const char *s, size_t len, int create)
{
	uint64_t h = cw_hash(s, len);
	size_t slot;

	if (t->n_slots > 0)
		for (slot = h & (t->n_slots - 1); t->slots[slot] != 0;
		    slot = (slot + 1) & (t->n_slots - 1)) {
			uint32_t id = t->slots[slot] - 1;

			if (t->hash[id] == h && t->len[id] == len &&
			    memcmp(t->blob.data + t->off[id], s, len) == 0)
				return id;
		}
	if (!create)
		return -1;
	if (t->n >= UINT32_MAX - 1 || t->blob.len + len + 1 > UINT32_MAX ||
	    (t->n == t->cap && grow_arrays(t) != CW_OK) ||
	    (2 * (t->n + 1) > t->n_slots && grow_slots(t) != CW_OK))
		return CW_INTERN_NOMEM;
	t->off[t->n] = (uint32_t)t->blob.len;
	t->len[t->n] = (uint32_t)len;
	t->hash[t->n] = h;
	if (cw_buf_append(&t->blob, s, len, NULL) != CW_OK ||
	    cw_buf_append(&t->blob, "", 1, NULL) != CW_OK)
		return CW_INTERN_NOMEM;
	for (slot = h & (t->n_slots - 1); t->slots[slot] != 0;
	    slot = (slot + 1) & (t->n_slots - 1))
		;
	t->slots[slot] = (uint32_t)t->n + 1;
	return (int64_t)t->n++;
}

void
cw_intern_free(struct cw_intern *t)
{
	cw_buf_free(&t->blob);
	free(t->off);
	free(t->len);
	free(t->hash);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
