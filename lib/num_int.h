/*
 * num_int.h: numbers written in decimal without printf, for the paths
 * that write one or more a record: the access log's lines, the
 * synthetic source's bars. vsnprintf costs some 300 instructions a
 * number there; these a few a digit.
 */
#ifndef CW_NUM_INT_H
#define CW_NUM_INT_H

#include <stdint.h>
#include <string.h>

/* Write n in decimal at p (room for 20 bytes); returns the length. */
static inline size_t
cw_num_put_u64(char *p, uint64_t n)
{
	/* Two digits a step, from a table. */
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324"
	    "25262728293031323334353637383940414243444546474849"
	    "50515253545556575859606162636465666768697071727374"
	    "75767778798081828384858687888990919293949596979899";
	char tmp[20];
	size_t at = sizeof(tmp);

	while (n >= 100) {
		memcpy(tmp + (at -= 2), pairs + 2 * (n % 100), 2);
		n /= 100;
	}
	if (n >= 10)
		memcpy(tmp + (at -= 2), pairs + 2 * n, 2);
	else
		tmp[--at] = (char)('0' + n);
	memcpy(p, tmp + at, sizeof(tmp) - at);
	return sizeof(tmp) - at;
}

/* Write the last width digits of n at p, zeros in front (%0*u). */
static inline size_t
cw_num_put_fixed(char *p, uint64_t n, unsigned width)
{
	for (unsigned i = width; i > 0; i--, n /= 10)
		p[i - 1] = (char)('0' + n % 10);
	return width;
}

#endif /* CW_NUM_INT_H */
