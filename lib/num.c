/*
 * num: numbers, durations and sizes from text.
 *
 * One parser for every option and config value, so "90s" or "100M" mean
 * the same everywhere; trailing junk and out-of-range values are refused
 * rather than silently truncated (strtoull alone accepts "12abc").
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

/* Parse the leading digits of s into *out; *end gets what follows. */
static int
digits(const char *s, const char *what, uint64_t *out, const char **end,
    struct cw_err *err)
{
	char *e;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return cw_err_set(err, CW_EDATA, 0,
		    "%s '%s': not a number", what, s);
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return cw_err_set(err, CW_EDATA, 0,
		    "%s '%s': out of range", what, s);
	*out = v;
	*end = e;
	return CW_OK;
}

int
cw_num_parse_u64(const char *s, uint64_t min, uint64_t max, const char *what,
    uint64_t *out, struct cw_err *err)
{
	const char *end;
	uint64_t v;
	int rc;

	if ((rc = digits(s, what, &v, &end, err)) != CW_OK)
		return rc;
	if (*end != '\0')
		return cw_err_set(err, CW_EDATA, 0,
		    "%s '%s': trailing characters", what, s);
	if (v < min || v > max)
		return cw_err_set(err, CW_EDATA, 0,
		    "%s '%s': out of range %llu..%llu", what, s,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return CW_OK;
}

int
cw_num_parse_double(const char *s, double min, double max, const char *what,
    double *out, struct cw_err *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* !(in range) also refuses NaN. */
	if (*s == '\0' || *end != '\0' || errno != 0 ||
	    !(v >= min && v <= max))
		return cw_err_set(err, CW_EDATA, 0,
		    "%s '%s': not a number in %g..%g", what, s, min, max);
	*out = v;
	return CW_OK;
}

/* Multiply with overflow check. */
static int
scale(uint64_t v, uint64_t unit, const char *what, const char *s,
    uint64_t *out, struct cw_err *err)
{
	if (unit != 0 && v > UINT64_MAX / unit)
		return cw_err_set(err, CW_EDATA, 0,
		    "%s '%s': out of range", what, s);
	*out = v * unit;
	return CW_OK;
}

int
cw_num_parse_duration_ms(const char *s, const char *what, int64_t *out_ms,
    struct cw_err *err)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *end;
	uint64_t v, ms = 0;
	int rc;

	if ((rc = digits(s, what, &v, &end, err)) != CW_OK)
		return rc;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if ((rc = scale(v, units[i].ms, what, s, &ms, err)) != CW_OK)
			return rc;
		if (ms > INT64_MAX)
			return cw_err_set(err, CW_EDATA, 0,
			    "%s '%s': out of range", what, s);
		*out_ms = (int64_t)ms;
		return CW_OK;
	}
	return cw_err_set(err, CW_EDATA, 0,
	    "%s '%s': unknown unit (use ms, s, m, h or d)", what, s);
}

int
cw_num_parse_size(const char *s, const char *what, uint64_t *out_bytes,
    struct cw_err *err)
{
	static const char suffixes[] = "KMGT";
	const char *end, *p;
	uint64_t v, unit = 1;
	int rc;

	if ((rc = digits(s, what, &v, &end, err)) != CW_OK)
		return rc;
	if (*end != '\0') {
		p = strchr(suffixes, toupper((unsigned char)*end));
		if (p == NULL || end[1] != '\0')
			return cw_err_set(err, CW_EDATA, 0,
			    "%s '%s': unknown unit (use K, M, G or T)",
			    what, s);
		for (const char *q = suffixes; q <= p; q++)
			unit *= 1024;
	}
	return scale(v, unit, what, s, out_bytes, err);
}
