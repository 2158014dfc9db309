/*
 * src_csv: the CSV source, the embedded default.
 *
 * One file per (type, instrument, granularity): DIR/TYPE/INSTRUMENT/
 * GRANULARITY.csv, with a header row and rows sorted by their first
 * column, an ISO 8601 timestamp. A key's value is the header plus the rows
 * whose timestamp falls on the key's date, re-emitted as CSV. libcsv does
 * the parsing, so quoted fields with commas or newlines survive; the scan
 * stops at the first row past the date.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "cw.h"
#include "src_int.h"
#include "key_int.h"

struct csv_src {
	char dir[CW_PATH_MAX];
	uint64_t max_value_bytes;
	struct cw_src_ready ready;	/* answered in submit */
};

/* State of one scan through a file. */
struct scan {
	const struct cw_key *key;
	struct cw_buf *out;
	struct cw_buf row;	/* the row being assembled, as CSV text */
	size_t field;		/* index of the next field in the row */
	int cmp;		/* first field's date vs the key's: <0 =0 >0 */
	long rows;		/* rows seen, header included */
	long matched;
	int done;		/* past the date: stop reading */
	int failed;		/* out of memory */
};

static int
csv_open(void **self, const char *rest, const struct cw_src_opts *o,
    struct cw_err *err)
{
	struct csv_src *s;
	struct stat st;

	if (rest[0] == '\0' || strlen(rest) >= CW_PATH_MAX)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "source 'csv:%s': needs a directory", rest);
	/* A directory that is not there is a mistake in the configuration,
	 * not a source with nothing in it: no key may be remembered as
	 * missing because of it. */
	if (stat(rest, &st) != 0 || !S_ISDIR(st.st_mode))
		return cw_err_set(err, CW_ECONFIG, 0, "source 'csv:%s': %s",
		    rest, stat(rest, &st) != 0 ? "no such directory" :
		    "not a directory");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "csv source");
	strcpy(s->dir, rest);
	s->max_value_bytes = o->max_value_bytes;
	*self = s;
	return CW_OK;
}

/* Append one field to the row, quoted only when it must be. */
static void
add_field(struct scan *sc, const char *p, size_t n)
{
	if (sc->field > 0 && cw_buf_append(&sc->row, ",", 1, NULL) != CW_OK)
		sc->failed = 1;
	if (strcspn(p, ",\"\r\n") >= n) {
		if (cw_buf_append(&sc->row, p, n, NULL) != CW_OK)
			sc->failed = 1;
		return;
	}
	/* csv_write quotes and doubles quotes; worst case 2n + 2. */
	if (cw_buf_reserve(&sc->row, sc->row.len + 2 * n + 2, NULL) != CW_OK) {
		sc->failed = 1;
		return;
	}
	sc->row.len += csv_write(sc->row.data + sc->row.len, 2 * n + 2, p, n);
}

static void
on_field(void *data, size_t n, void *ctx)
{
	struct scan *sc = ctx;
	const char *p = data != NULL ? data : "";

	if (sc->done || sc->failed)
		return;
	if (sc->field == 0 && sc->rows > 0)
		sc->cmp = n >= 10 ? strncmp(p, sc->key->date, 10) : -1;
	add_field(sc, p, n);
	sc->field++;
}

static void
on_row(int c, void *ctx)
{
	struct scan *sc = ctx;

	(void)c;
	if (sc->done || sc->failed)
		return;
	if (sc->rows == 0 || sc->cmp == 0) {
		if (cw_buf_append(&sc->row, "\n", 1, NULL) != CW_OK ||
		    cw_buf_append(sc->out, sc->row.data, sc->row.len,
		    NULL) != CW_OK)
			sc->failed = 1;
		sc->matched += sc->rows > 0;
	} else if (sc->cmp > 0) {
		sc->done = 1;	/* sorted: nothing further can match */
	}
	sc->rows++;
	sc->field = 0;
	sc->row.len = 0;
}

static int
csv_get(void *self, const struct cw_key *key, struct cw_buf *out,
    struct cw_err *err)
{
	struct csv_src *s = self;
	char path[CW_PATH_MAX + 3 * (CW_KEY_MAX + 1) + 8], chunk[65536];
	struct scan sc = { .key = key, .out = out };
	struct csv_parser p;
	ssize_t n;
	int fd, rc = CW_OK;

	if (!key->structured)
		return CW_ENOTFOUND;
	/* Safe as a path: cw_key_parse admits no '/' and no leading '.'. */
	snprintf(path, sizeof(path), "%s/%s/%s/%s.csv", s->dir, key->type,
	    key->instrument, key->granularity);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return CW_ENOTFOUND;
		return cw_err_set(err, CW_EUNAVAIL, errno, "open %s", path);
	}
	if (csv_init(&p, CSV_APPEND_NULL) != 0) {
		close(fd);
		return cw_err_set(err, CW_ENOMEM, 0, "csv parser");
	}
	while (!sc.done && !sc.failed &&
	    (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = cw_err_set(err, CW_EUNAVAIL, errno, "read %s",
			    path);
			break;
		}
		if (csv_parse(&p, chunk, (size_t)n, on_field, on_row, &sc) !=
		    (size_t)n) {
			rc = cw_err_set(err, CW_EDATA, 0, "%s: %s", path,
			    csv_strerror(csv_error(&p)));
			break;
		}
	}
	if (rc == CW_OK && !sc.done)
		csv_fini(&p, on_field, on_row, &sc);
	csv_free(&p);
	close(fd);
	cw_buf_free(&sc.row);
	if (rc == CW_OK && sc.failed)
		rc = cw_err_set(err, CW_ENOMEM, 0, "reading %s", path);
	if (rc == CW_OK && sc.matched == 0)
		rc = CW_ENOTFOUND;
	if (rc != CW_OK)
		out->len = 0;
	return rc;
}

/* A file read is fast and local: answered in submit, reported by poll. */
static int
csv_submit(void *self, const struct cw_key *key, struct cw_buf *out,
    void *tag, struct cw_err *err)
{
	struct csv_src *s = self;
	struct cw_err e;
	int rc = csv_get(s, key, out, &e);

	if (rc == CW_OK && s->max_value_bytes > 0 &&
	    out->len > s->max_value_bytes) {
		rc = cw_err_set(&e, CW_ETOOBIG, 0, "csv %s: value of %zu "
		    "bytes, over source.max_value_size", key->raw, out->len);
		out->len = 0;
	}
	if (cw_src_ready_push(&s->ready, tag, rc, &e) != CW_OK)
		return cw_err_set(err, CW_ENOMEM, 0, "csv source");
	return CW_OK;
}

static size_t
csv_poll(void *self, int64_t wait_ns, struct cw_src_done *done, size_t cap)
{
	struct csv_src *s = self;

	(void)wait_ns;	/* nothing is ever still running */
	return cw_src_ready_pop(&s->ready, done, cap);
}

static size_t
csv_pending(const void *self)
{
	return ((const struct csv_src *)self)->ready.n;
}

static void
csv_close(void *self)
{
	struct csv_src *s = self;

	cw_src_ready_free(&s->ready);
	free(s);
}

const struct cw_src_ops cw_src_csv_ops = {
	"csv", csv_open, csv_submit, csv_poll, csv_pending, csv_close,
};
