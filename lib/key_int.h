/*
 * key_int.h: the key grammar's parser, for the modules that read a key's
 * parts (sources, templates, the predictor, the planner) and the lookups
 * that check a key before reading a level. Programs hand keys to the
 * hierarchy, which checks them.
 */
#ifndef CW_KEY_INT_H
#define CW_KEY_INT_H

#include "cw.h"

/*
 * A key is 1 to 250 bytes without whitespace or control characters. A key
 * with exactly three colons is structured, TYPE:INSTRUMENT:GRANULARITY:DATE,
 * and each part must pass its strict pattern (an alphanumeric first byte,
 * then letters, digits, '_', '-', '.'; DATE a real YYYY-MM-DD). Any other
 * key is opaque: stored and served, but sources cannot answer it.
 */
struct cw_key {
	char raw[CW_KEY_MAX + 1];	/* NUL-terminated copy */
	size_t len;
	int structured;			/* the fields below are set */
	char type[CW_KEY_MAX + 1];
	char instrument[CW_KEY_MAX + 1];
	char granularity[CW_KEY_MAX + 1];
	char date[11];			/* YYYY-MM-DD */
	int year, month, day;
};

/* Check and split s[0..len). CW_EDATA with the reason in err. */
int cw_key_parse(const char *s, size_t len, struct cw_key *out,
    struct cw_err *err);
/* Check s[0..len) as cw_key_parse would, without splitting it: what a
 * lookup needs before it reads a level. */
int cw_key_check(const char *s, size_t len, struct cw_err *err);

#endif /* CW_KEY_INT_H */
