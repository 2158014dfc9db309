/*
 * intern_int.h: strings to dense ids (0, 1, 2, ...), for the predictor's
 * patterns and the backtest's keys. Ids never change: an id indexes the
 * caller's own arrays.
 */
#ifndef CW_INTERN_INT_H
#define CW_INTERN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cw.h"

struct cw_intern {
	struct cw_buf blob;	/* "name\0name\0..." */
	uint32_t *off, *len;
	uint64_t *hash;
	size_t n, cap;
	uint32_t *slots;	/* open addressing: id + 1 */
	size_t n_slots;
};

/* The id of s[0..len); a new one when create is set and it is absent.
 * -1 when absent (without create), CW_INTERN_NOMEM when it cannot be
 * added: callers must not take the one for the other (a name read back
 * from a file is not "wrong" because memory ran out). */
#define CW_INTERN_NOMEM (-2)
int64_t cw_intern_id(struct cw_intern *t, const char *s, size_t len,
    int create);
static inline const char *
cw_intern_name(const struct cw_intern *t, size_t id)
{
	return t->blob.data + t->off[id];
}
void cw_intern_free(struct cw_intern *t);

#endif /* CW_INTERN_INT_H */
