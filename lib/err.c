/*
 * err: result codes, error detail and exit statuses.
 *
 * One table maps every CW_E* code to its text and its exit status, so the
 * programs cannot disagree on what a failure means; one ranking decides
 * which status a batch with mixed outcomes reports.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cw.h"

struct code_info {
	int code;
	const char *text;
	int exit_status;
};

static const struct code_info codes[] = {
	{ CW_OK, "success", 0 },
	{ CW_ENOTFOUND, "not found", 1 },
	{ CW_EUSAGE, "invalid usage", 2 },
	{ CW_EDATA, "malformed data", EX_DATAERR },
	{ CW_EUNAVAIL, "backend unavailable", EX_UNAVAILABLE },
	{ CW_EIO, "input/output error", EX_IOERR },
	{ CW_ETIMEOUT, "timed out", EX_TEMPFAIL },
	{ CW_EFOREIGN, "not a cachewarm L1 file", EX_IOERR },
	{ CW_EVERSION, "L1 file of another format version", EX_IOERR },
	{ CW_ENOMEM, "out of memory", EX_OSERR },
	{ CW_ECONFIG, "bad configuration", EX_CONFIG },
	{ CW_ETOOBIG, "value too large for the cache", EX_DATAERR },
};

static const struct code_info *
find(int code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

const char *
cw_strerror(int code)
{
	const struct code_info *ci = find(code);

	return ci != NULL ? ci->text : "unknown error";
}

int
cw_exit_code(int code)
{
	const struct code_info *ci = find(code);

	return ci != NULL ? ci->exit_status : EX_SOFTWARE;
}

/* Severity, lowest first; a status not listed ranks above them all. */
static int
rank(int status)
{
	static const int order[] = { 0, 1, EX_DATAERR, EX_TEMPFAIL,
	    EX_UNAVAILABLE, EX_IOERR, EX_OSERR, EX_CONFIG, 2 };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] == status)
			return (int)i;
	return (int)(sizeof(order) / sizeof(order[0]));
}

int
cw_exit_worse(int status_a, int status_b)
{
	return rank(status_b) > rank(status_a) ? status_b : status_a;
}

int
cw_err_set(struct cw_err *err, int code, int sys_errno, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->sys_errno = sys_errno;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (sys_errno != 0) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
		    strerror(sys_errno));
	}
	return code;
}

const char *
cw_err_printable(char *dst, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (cap == 0)
		return dst;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = c < 0x20 || c > 0x7e ? 4 : 1;

		if (o + need + 4 > cap) {	/* room for "..." and NUL */
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1) {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 15];
	}
	dst[o] = '\0';
	return dst;
}
