/*
 * predict_io: the predictor's model on disk, as a state file (binary,
 * checksummed, replaced atomically) and as CSV (for backups and moving
 * between hosts), and pruning what it no longer needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cw.h"
#include "fs_int.h"
#include "hash_int.h"
#include "predict_int.h"

static int prune(struct cw_predict *m, int64_t before_s);

#define STATE_MAGIC "CWPRED\r\n"
#define STATE_VERSION 2
#define REBUILD_HINT "rebuild it from the log with: cw-predict --learn --rebuild"

struct state_header {
	char magic[8];
	uint32_t version;
	uint32_t pat_size;	/* the layout of struct cw_pat */
	uint64_t n_pats;
	uint64_t names_len;
	int64_t hour_open, first_hour;
	double level;
	struct cw_predict_counts counts;
	struct cw_predict_logpos logpos;
	struct cw_backtest_report last_backtest;
	int64_t has_backtest;
	uint64_t checksum;	/* XXH3 of the file with this field 0 */
};

/* A backtest's scores, kept with the model (cw_predict_keep_backtest). */
static void
set_backtest(struct cw_predict *m, const struct cw_backtest_report *r)
{
	m->last_backtest = *r;
	m->has_backtest = 1;
}

/* Hours since 1970 that any clock could give (about 125 million years
 * either way, so that hours times 3600 and their differences never
 * overflow), or INT64_MIN for none. A state file or an import whose
 * checksum or syntax is right can still carry others: they are refused
 * as damaged rather than computed with. */
#define HOUR_LIMIT (INT64_C(1) << 40)

static int
hour_sane(int64_t h)
{
	return h == INT64_MIN || (h > -HOUR_LIMIT && h < HOUR_LIMIT);
}

/* Is a loaded model one this library could have made? */
static int
model_sane(const struct cw_predict *m)
{
	if (!hour_sane(m->hour_open) || !hour_sane(m->first_hour))
		return 0;
	for (size_t i = 0; i < m->n_pats; i++)
		if (!hour_sane(m->pats[i].born_hour) ||
		    !hour_sane(m->pats[i].last_hour) ||
		    !cw_predict_pat_sane(m, i))
			return 0;
	return 1;
}

int
cw_predict_save(struct cw_predict *m, const char *path, struct cw_err *err)
{
	struct state_header h;
	XXH3_state_t *xs;
	size_t pats_bytes = m->n_pats * sizeof(*m->pats);
	struct cw_fs_part parts[3];

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, STATE_MAGIC, sizeof(h.magic));
	h.version = STATE_VERSION;
	h.pat_size = sizeof(struct cw_pat);
	h.n_pats = m->n_pats;
	h.names_len = m->names.blob.len;
	h.hour_open = m->hour_open;
	h.first_hour = m->first_hour;
	h.level = m->level;
	h.counts = m->counts;
	h.logpos = m->logpos;
	h.last_backtest = m->last_backtest;
	h.has_backtest = m->has_backtest;
	if ((xs = XXH3_createState()) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "state");
	XXH3_64bits_reset(xs);
	XXH3_64bits_update(xs, &h, sizeof(h));
	XXH3_64bits_update(xs, m->pats, pats_bytes);
	XXH3_64bits_update(xs, m->names.blob.data, m->names.blob.len);
	h.checksum = XXH3_64bits_digest(xs);
	XXH3_freeState(xs);
	parts[0] = (struct cw_fs_part){ &h, sizeof(h) };
	parts[1] = (struct cw_fs_part){ m->pats, pats_bytes };
	parts[2] = (struct cw_fs_part){ m->names.blob.data,
	    m->names.blob.len };
	return cw_fs_write_atomic(path, parts, 3, 0600, err);
}

static int
damaged(struct cw_err *err, const char *path, const char *why)
{
	return cw_err_set(err, CW_EDATA, 0, "state file %s is damaged (%s); "
	    REBUILD_HINT, path, why);
}

/* Re-create the name table from a blob of n NUL-terminated names. */
static int
load_names(struct cw_predict *m, const char *blob, size_t len, size_t n)
{
	const char *p = blob, *end = blob + len;

	for (size_t i = 0; i < n; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		int64_t id;

		if (nul == NULL)
			return CW_EDATA;
		if ((id = cw_intern_id(&m->names, p, (size_t)(nul - p), 1)) < 0)
			return CW_ENOMEM;	/* not the file's fault */
		if (id != (int64_t)i)
			return CW_EDATA;	/* a name twice */
		p = nul + 1;
	}
	return p == end ? CW_OK : CW_EDATA;
}

int
cw_predict_load(struct cw_predict **out, const char *path,
    struct cw_err *err)
{
	struct state_header h;
	struct cw_predict *m = NULL;
	struct cw_buf file = { 0 };
	struct stat st;
	char *data;
	uint64_t sum;
	size_t off;
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return cw_err_set(err, CW_ENOTFOUND, ENOENT,
			    "%s: no model yet", path);
		return cw_err_set(err, CW_EIO, errno, "open %s: %s", path,
		    strerror(errno));
	}
	/* Sized by the file first: one allocation, one read. */
	if ((fstat(fd, &st) == 0 && (rc = cw_buf_reserve(&file,
	    (size_t)st.st_size + 1, err)) != CW_OK) ||
	    (rc = cw_buf_read_fd(&file, fd, path, err)) != CW_OK) {
		close(fd);
		cw_buf_free(&file);
		return rc;
	}
	close(fd);
	data = file.data;
	off = file.len;
	rc = CW_EDATA;
	if (off < sizeof(h)) {
		damaged(err, path, "too short");
		goto fail;
	}
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, STATE_MAGIC, sizeof(h.magic)) != 0) {
		damaged(err, path, "not a cw-predict state file");
		goto fail;
	}
	if (h.version != STATE_VERSION || h.pat_size != sizeof(struct cw_pat)) {
		damaged(err, path, "another version");
		goto fail;
	}
	if (h.n_pats > off / sizeof(struct cw_pat) || h.names_len > off ||
	    sizeof(h) + h.n_pats * sizeof(struct cw_pat) + h.names_len != off) {
		damaged(err, path, "truncated");
		goto fail;
	}
	sum = h.checksum;
	((struct state_header *)data)->checksum = 0;
	if (XXH3_64bits(data, off) != sum) {
		damaged(err, path, "checksum mismatch");
		goto fail;
	}
	if ((rc = cw_predict_new(&m, err)) != CW_OK)
		goto fail;
	if ((rc = load_names(m, data + sizeof(h) + h.n_pats *
	    sizeof(struct cw_pat), h.names_len, h.n_pats)) != CW_OK) {
		if (rc == CW_ENOMEM)
			cw_err_set(err, CW_ENOMEM, 0, "%s", path);
		else
			damaged(err, path, "pattern names");
		goto fail;
	}
	rc = CW_EDATA;
	if ((m->pats = malloc((h.n_pats + 1) * sizeof(*m->pats))) == NULL) {
		rc = cw_err_set(err, CW_ENOMEM, 0, "%s", path);
		goto fail;
	}
	memcpy(m->pats, data + sizeof(h), h.n_pats * sizeof(*m->pats));
	m->n_pats = m->cap_pats = h.n_pats;
	for (size_t i = 0; i < m->n_pats; i++)
		if (m->pats[i].group >= (int64_t)m->n_pats ||
		    (m->pats[i].group >= 0 &&
		    !m->pats[m->pats[i].group].is_group)) {
			damaged(err, path, "pattern groups");
			goto fail;
		}
	m->hour_open = h.hour_open;
	m->first_hour = h.first_hour;
	m->level = h.level;
	m->counts = h.counts;
	m->logpos = h.logpos;
	m->last_backtest = h.last_backtest;
	m->has_backtest = h.has_backtest != 0;
	if (!model_sane(m)) {
		damaged(err, path, "patterns out of range");
		goto fail;
	}
	cw_buf_free(&file);
	*out = m;
	return CW_OK;
fail:
	cw_buf_free(&file);
	cw_predict_free(m);
	return rc;
}

/* Take the lock that makes one learner of a state file at a time: *fd,
 * to close when done. */
static int
lock_learner(const char *state_path, int *fd, struct cw_err *err)
{
	char path[CW_PATH_MAX + 8];

	if (snprintf(path, sizeof(path), "%s.lock", state_path) >=
	    (int)sizeof(path))
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", state_path);
	cw_fs_make_parents(path, NULL);
	if ((*fd = cw_fs_fd_above_std(open(path, O_RDWR | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, 0600))) < 0)
		return cw_err_set(err, CW_EIO, errno, "%s: %s", path,
		    strerror(errno));
	while (flock(*fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			int saved = errno;

			close(*fd);
			return cw_err_set(err, CW_EIO, saved, "lock %s: %s",
			    path, strerror(saved));
		}
	return CW_OK;
}

/* After learning up to now_s: fold the hours that ended more than an
 * hour ago, drop patterns faded since before the history, and save. */
static int
checkpoint(struct cw_predict *m, const char *state_path,
    int64_t now_s, int64_t history_s, struct cw_err *err)
{
	cw_predict_advance(m, now_s - 3600);
	if (prune(m, now_s - history_s) != CW_OK)
		return cw_err_set(err, CW_ENOMEM, 0, "prune: out of memory");
	return cw_predict_save(m, state_path, err);
}

/* ---- pruning ---- */

static int
faded(const struct cw_pat *p)
{
	for (unsigned f = 0; f < CW_FRAMES; f++)
		for (int h = 0; h < 24; h++)
			if (p->open[f][h] >= 0.01f)
				return 0;
	for (int h = 0; h < 24; h++)
		if (p->closed[h] >= 0.01f || p->part[0][h] >= 0.01f ||
		    p->part[1][h] >= 0.01f)
			return 0;
	return p->pending[0] == 0 && p->pending[1] == 0;
}

/* Drop the patterns not read since before_s whose forecasts have faded.
 * CW_ENOMEM. */
static int
prune(struct cw_predict *m, int64_t before_s)
{
	struct cw_intern names = { 0 };
	int64_t *new_index, before_h = before_s / 3600;
	size_t kept = 0;

	if ((new_index = malloc((m->n_pats + 1) * sizeof(*new_index))) ==
	    NULL)
		return CW_ENOMEM;
	for (size_t i = 0; i < m->n_pats; i++) {
		const struct cw_pat *p = &m->pats[i];
		const char *name = cw_predict_pat_name(m, p);

		new_index[i] = -1;
		if (!p->is_group && p->last_hour < before_h && faded(p))
			continue;
		if (cw_intern_id(&names, name, strlen(name), 1) !=
		    (int64_t)kept) {
			cw_intern_free(&names);
			free(new_index);
			return CW_ENOMEM;
		}
		new_index[i] = (int64_t)kept;
		m->pats[kept++] = *p;
	}
	for (size_t i = 0; i < kept; i++)
		if (m->pats[i].group >= 0)
			m->pats[i].group = (int32_t)new_index[m->pats[i].group];
	cw_intern_free(&m->names);
	m->names = names;
	m->n_pats = kept;
	free(new_index);
	return CW_OK;
}

/* ---- CSV ---- */

#define N_FLOATS (2 + CW_CLOCKS + CW_FRAMES * 24 + 24 + 11 + 2 * 24)
#define N_VISITS (2 * 24)

/* The floats of a pattern in column order: rate, surprise, the frames'
 * and the pair's errors, the open-market profiles, the weekend profile,
 * the long-run total, the weekday factors, the day so far, the hour's
 * forecast, and the pair's parts. */
static void
floats_of(struct cw_pat *p, float *v[N_FLOATS])
{
	size_t k = 0;

	v[k++] = &p->rate;
	v[k++] = &p->surprise;
	for (unsigned f = 0; f < CW_CLOCKS; f++)
		v[k++] = &p->sq_err[f];
	for (unsigned f = 0; f < CW_FRAMES; f++)
		for (int h = 0; h < 24; h++)
			v[k++] = &p->open[f][h];
	for (int h = 0; h < 24; h++)
		v[k++] = &p->closed[h];
	v[k++] = &p->total;
	for (int d = 0; d < 7; d++)
		v[k++] = &p->weekday[d];
	v[k++] = &p->day_reads;
	v[k++] = &p->day_base;
	v[k++] = &p->base;
	for (int c = 0; c < 2; c++)
		for (int h = 0; h < 24; h++)
			v[k++] = &p->part[c][h];
}

int
cw_predict_export(const struct cw_predict *m, struct cw_buf *out,
    struct cw_err *err)
{
	int rc;

	/* The header names every column; a "model" line carries the
	 * model-wide fields in the first numeric columns. */
	if ((rc = cw_buf_appendf(out, err, "kind,name,born_hour,last_hour,pending0,"
	    "pending1,rate,surprise")) != CW_OK)
		return rc;
	for (unsigned f = 0; f < CW_CLOCKS; f++)
		if ((rc = cw_buf_appendf(out, err, ",err_%s",
		    cw_predict_frame_name(f))) != CW_OK)
			return rc;
	for (unsigned f = 0; f < CW_FRAMES; f++)
		for (int h = 0; h < 24; h++)
			if ((rc = cw_buf_appendf(out, err, ",%s_%02d",
			    cw_predict_frame_name(f), h)) != CW_OK)
				return rc;
	for (int h = 0; h < 24; h++)
		if ((rc = cw_buf_appendf(out, err, ",weekend_%02d", h)) != CW_OK)
			return rc;
	if ((rc = cw_buf_appendf(out, err, ",total,weekday_mon,weekday_tue,"
	    "weekday_wed,weekday_thu,weekday_fri,weekday_sat,weekday_sun,"
	    "day_reads,day_base,hour_base")) != CW_OK)
		return rc;
	for (int h = 0; h < 2 * 24; h++)
		if ((rc = cw_buf_appendf(out, err, ",part%d_%02d", h / 24,
		    h % 24)) != CW_OK)
			return rc;
	for (int h = 0; h < 2 * 24; h++)
		if ((rc = cw_buf_appendf(out, err, ",visits_%s_%02d", h < 24 ?
		    "open" : "weekend", h % 24)) != CW_OK)
			return rc;
	if ((rc = cw_buf_appendf(out, err, ",frame")) != CW_OK)
		return rc;
	if ((rc = cw_buf_appendf(out, err, "\nmodel,,%" PRId64 ",%" PRId64 ",0,0,"
	    "%.17g,0\n", m->hour_open, m->first_hour, m->level)) != CW_OK)
		return rc;
	for (size_t i = 0; i < m->n_pats; i++) {
		struct cw_pat p = m->pats[i];
		float *v[N_FLOATS];

		/* Names are keys or built of key parts: no commas, quotes
		 * or blanks to escape. */
		if ((rc = cw_buf_appendf(out, err, "%s,%s,%" PRId64 ",%" PRId64
		    ",%.9g,%.9g", p.is_group ? "group" : "pattern",
		    cw_predict_pat_name(m, &m->pats[i]), p.born_hour,
		    p.last_hour, p.pending[0], p.pending[1])) != CW_OK)
			return rc;
		floats_of(&p, v);
		for (size_t k = 0; k < N_FLOATS; k++)
			if ((rc = cw_buf_appendf(out, err, ",%.9g", *v[k])) != CW_OK)
				return rc;
		for (int h = 0; h < 2 * 24; h++)
			if ((rc = cw_buf_appendf(out, err, ",%u", h < 24 ?
			    p.open_visits[h] : p.closed_visits[h - 24])) !=
			    CW_OK)
				return rc;
		if ((rc = cw_buf_appendf(out, err, ",%s",
		    cw_predict_frame_name(p.frame))) != CW_OK)
			return rc;
		if ((rc = cw_buf_append(out, "\n", 1, err)) != CW_OK)
			return rc;
	}
	return CW_OK;
}

/* Split line into at most max comma-separated fields (in place). */
static size_t
split(char *line, char **field, size_t max)
{
	size_t n = 0;

	for (char *p = line; n < max; ) {
		field[n++] = p;
		if ((p = strchr(p, ',')) == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

static int
num(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return *s != '\0' && *end == '\0' && errno == 0 && isfinite(*out) ?
	    0 : -1;
}

/* An hour field: an integer, exactly, that hour_sane accepts. */
static int
hour_num(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	*out = (int64_t)v;
	return *s != '\0' && *end == '\0' && errno == 0 && hour_sane(*out) ?
	    0 : -1;
}

/* A field stored as a float: finite as a float too. */
static int
float_num(const char *s, float *out)
{
	double x;

	if (num(s, &x) != 0 || fabs(x) > FLT_MAX)
		return -1;
	*out = (float)x;
	return 0;
}

static int
import_line(struct cw_predict *m, char *line, size_t lineno,
    struct cw_err *err)
{
	char *field[6 + N_FLOATS + N_VISITS + 2];
	int64_t hours[2];
	float pending[2];
	size_t n = split(line, field, sizeof(field) / sizeof(*field));
	int64_t i = -1;
	int is_model = strcmp(field[0], "model") == 0;

	if (n < 8 || (!is_model && n != 6 + N_FLOATS + N_VISITS + 1))
		goto bad;
	if (hour_num(field[2], &hours[0]) != 0 ||
	    hour_num(field[3], &hours[1]) != 0 ||
	    float_num(field[4], &pending[0]) != 0 ||
	    float_num(field[5], &pending[1]) != 0)
		goto bad;
	if (is_model) {
		double level;

		if (num(field[6], &level) != 0 || !(level >= 0))
			goto bad;
		m->hour_open = hours[0];
		m->first_hour = hours[1];
		m->level = level;
		return CW_OK;
	}
	if (strcmp(field[0], "group") == 0) {
		if (field[1][0] != '@')
			goto bad;
		if ((i = cw_predict_intern(m, field[1], strlen(field[1]),
		    1)) < 0)
			goto nomem;
		m->pats[i].is_group = 1;
		cw_predict_name_pair(field[1], strlen(field[1]),
		    m->pats[i].pair);
	} else if (strcmp(field[0], "pattern") != 0 ||
	    (i = cw_predict_pattern_index(m, field[1], strlen(field[1]))) < 0 ||
	    m->pats[i].is_group) {
		if (i == CW_INTERN_NOMEM)
			goto nomem;
		goto bad;
	}
	struct cw_pat *p = &m->pats[i];
	float *v[N_FLOATS];

	p->born_hour = hours[0];
	p->last_hour = hours[1];
	p->pending[0] = pending[0];
	p->pending[1] = pending[1];
	floats_of(p, v);
	for (size_t k = 0; k < N_FLOATS; k++)
		if (float_num(field[6 + k], v[k]) != 0)
			goto bad;
	for (int h = 0; h < N_VISITS; h++) {
		double x;

		if (num(field[6 + N_FLOATS + h], &x) != 0 || x < 0 ||
		    x > UINT16_MAX || x != floor(x))
			goto bad;
		*(h < 24 ? &p->open_visits[h] : &p->closed_visits[h - 24]) =
		    (uint16_t)x;
	}
	for (p->frame = 0; p->frame < CW_CLOCKS; p->frame++)
		if (strcmp(field[6 + N_FLOATS + N_VISITS],
		    cw_predict_frame_name(p->frame)) == 0)
			break;
	if (p->frame == CW_CLOCKS || (p->frame == CW_FRAME_PAIR &&
	    p->pair[0] < 0))
		goto bad;
	return CW_OK;
bad:
	return cw_err_set(err, CW_EDATA, 0, "import line %zu: not a line of "
	    "cw-predict export", lineno);
nomem:
	return cw_err_set(err, CW_ENOMEM, 0, "import line %zu", lineno);
}

int
cw_predict_import(struct cw_predict **out, const char *csv, size_t len,
    struct cw_err *err)
{
	struct cw_predict *m;
	char *copy, *line, *next;
	size_t lineno = 1;
	int rc;

	*out = NULL;
	if (len < 5 || memcmp(csv, "kind,", 5) != 0)
		return cw_err_set(err, CW_EDATA, 0,
		    "import: not a cw-predict export (no header line)");
	if ((rc = cw_predict_new(&m, err)) != CW_OK)
		return rc;
	if ((copy = malloc(len + 1)) == NULL) {
		cw_predict_free(m);
		return cw_err_set(err, CW_ENOMEM, 0, "import");
	}
	memcpy(copy, csv, len);
	copy[len] = '\0';
	line = strchr(copy, '\n');
	for (line = line ? line + 1 : copy + len; *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (*line == '\0')
			continue;
		if ((rc = import_line(m, line, lineno, err)) != CW_OK) {
			free(copy);
			cw_predict_free(m);
			return rc;
		}
	}
	free(copy);
	*out = m;
	return CW_OK;
}

/* ---- reading the log ---- */

/* Learn the lines readable on fd up to its end; a last line without a
 * newline too when last_partial (a pipe), else it is left for the next
 * run. *consumed (may be NULL) gets the bytes taken. */
static int
learn_fd(struct cw_predict *m, int fd, int64_t now_s,
    int64_t history_s, int last_partial, uint64_t *consumed,
    struct cw_err *err)
{
	size_t cap = 1 << 20, have = 0;
	char *buf = malloc(cap);
	uint64_t used = 0;
	int rc = CW_OK, skipping = 0;	/* the rest of an overlong line */

	if (buf == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "log buffer");
	for (;;) {
		ssize_t r = read(fd, buf + have, cap - have);
		size_t start = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = cw_err_set(err, CW_EIO, errno, "read log: %s",
			    strerror(errno));
			break;
		}
		if (r == 0) {
			if (last_partial && have > 0) {
				rc = cw_predict_learn_line(m, buf, have,
				    now_s, history_s);
				used += have;
			}
			break;
		}
		have += (size_t)r;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);

			if (nl == NULL)
				break;
			if (!skipping)
				rc = cw_predict_learn_line(m, buf + start,
				    (size_t)(nl - (buf + start)), now_s,
				    history_s);
			skipping = 0;
			if (rc == CW_ENOMEM)
				goto out;
			start = (size_t)(nl - buf) + 1;
		}
		used += start;
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == cap) {
			/* A line longer than the buffer is no log line:
			 * skip it whole, up to its newline, counted once. */
			if (!skipping) {
				m->counts.lines++;
				m->counts.malformed++;
			}
			skipping = 1;
			used += have;
			have = 0;
		}
	}
out:
	free(buf);
	if (consumed != NULL)
		*consumed = used;
	return rc == CW_EDATA ? CW_OK : rc;
}

/* Learn path from offset; *end gets where its complete lines end. */
static int
learn_file(struct cw_predict *m, const char *path, uint64_t offset,
    int64_t now_s, int64_t history_s, struct stat *st, uint64_t *end,
    struct cw_err *err)
{
	uint64_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return errno == ENOENT ? CW_ENOTFOUND :
		    cw_err_set(err, CW_EIO, errno, "open %s: %s", path,
		    strerror(errno));
	if (fstat(fd, st) != 0 || (uint64_t)st->st_size < offset)
		offset = 0;		/* truncated: start over */
	if (lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		close(fd);
		return cw_err_set(err, CW_EIO, errno, "seek %s: %s", path,
		    strerror(errno));
	}
	rc = learn_fd(m, fd, now_s, history_s, 0, &used, err);
	close(fd);
	*end = offset + used;
	return rc;
}

/* Learn what the access log at path gained since the model last read it
 * (see cw_predict_catch_up). */
static int
learn_log(struct cw_predict *m, const char *path, int64_t now_s,
    int64_t history_s, int from_start, struct cw_err *err)
{
	char older[CW_PATH_MAX + 8];
	struct stat st, st_old;
	uint64_t end, start = 0;
	int rc;

	if (strlen(path) >= CW_PATH_MAX)
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", path);
	if (from_start) {
		/* Rotated files, oldest first: path.9 .. path.1. */
		for (int i = 9; i >= 1; i--) {
			snprintf(older, sizeof(older), "%s.%d", path, i);
			rc = learn_file(m, older, 0, now_s, history_s, &st_old,
			    &end, err);
			if (rc != CW_OK && rc != CW_ENOTFOUND)
				return rc;
		}
	} else if (m->logpos.ino != 0) {
		if (stat(path, &st) == 0 && (uint64_t)st.st_ino ==
		    m->logpos.ino && (uint64_t)st.st_dev == m->logpos.dev) {
			start = m->logpos.offset;
		} else {
			/* Rotated since: finish the old file first. */
			snprintf(older, sizeof(older), "%s.1", path);
			if (stat(older, &st_old) == 0 &&
			    (uint64_t)st_old.st_ino == m->logpos.ino &&
			    (rc = learn_file(m, older, m->logpos.offset, now_s,
			    history_s, &st_old, &end, err)) != CW_OK &&
			    rc != CW_ENOTFOUND)
				return rc;
		}
	}
	rc = learn_file(m, path, start, now_s, history_s, &st, &end, err);
	if (rc == CW_ENOTFOUND)
		return CW_OK;		/* nothing logged yet */
	if (rc != CW_OK)
		return rc;
	m->logpos.dev = (uint64_t)st.st_dev;
	m->logpos.ino = (uint64_t)st.st_ino;
	m->logpos.offset = end;
	return CW_OK;
}

int
cw_predict_load_or_new(struct cw_predict **out, const char *path,
    struct cw_err *err)
{
	int rc = cw_predict_load(out, path, err);

	if (rc == CW_ENOTFOUND)
		rc = cw_predict_new(out, err);
	return rc;
}

int
cw_predict_catch_up(struct cw_predict *m, const char *log, int64_t now_s,
    int64_t history_s, int from_start, struct cw_predict_counts *read,
    struct cw_err *err)
{
	struct cw_predict_counts before = m->counts;
	int rc;

	if (strcmp(log, "-") == 0)
		rc = learn_fd(m, 0, now_s, history_s, 1, NULL, err);
	else
		rc = learn_log(m, log, now_s, history_s,
		    from_start, err);
	read->lines = m->counts.lines - before.lines;
	read->learned = m->counts.learned - before.learned;
	read->malformed = m->counts.malformed - before.malformed;
	read->future = m->counts.future - before.future;
	read->old = m->counts.old - before.old;
	read->late = m->counts.late - before.late;
	return rc;
}

int
cw_predict_save_locked(struct cw_predict *m, const char *state,
    struct cw_err *err)
{
	int lock_fd, rc;

	if ((rc = lock_learner(state, &lock_fd, err)) != CW_OK)
		return rc;
	rc = cw_predict_save(m, state, err);
	close(lock_fd);
	return rc;
}

int
cw_predict_keep_backtest(const char *state,
    const struct cw_backtest_report *r, struct cw_err *err)
{
	struct cw_predict *m = NULL;
	int lock_fd, rc;

	if ((rc = lock_learner(state, &lock_fd, err)) != CW_OK)
		return rc;
	if ((rc = cw_predict_load(&m, state, err)) == CW_OK) {
		set_backtest(m, r);
		rc = cw_predict_save(m, state, err);
	}
	cw_predict_free(m);
	close(lock_fd);
	return rc;
}

/* Is path a state file of this program, but of another version? */
static int
of_another_version(const char *path)
{
	struct state_header h;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, &h, sizeof(h.magic) + sizeof(h.version) +
	    sizeof(h.pat_size));
	close(fd);
	return n == (ssize_t)(sizeof(h.magic) + sizeof(h.version) +
	    sizeof(h.pat_size)) && memcmp(h.magic, STATE_MAGIC,
	    sizeof(h.magic)) == 0 && (h.version != STATE_VERSION ||
	    h.pat_size != sizeof(struct cw_pat));
}

int
cw_predict_update(const char *state, const char *log, int64_t now_s,
    int64_t history_s, int rebuild, struct cw_predict_counts *read,
    struct cw_err *err)
{
	struct cw_predict *m = NULL;
	int lock_fd, rc;

	memset(read, 0, sizeof(*read));
	if ((rc = lock_learner(state, &lock_fd, err)) != CW_OK)
		return rc;
	rc = rebuild ? cw_predict_new(&m, err) :
	    cw_predict_load_or_new(&m, state, err);
	if (rc == CW_EDATA && !rebuild && of_another_version(state)) {
		/* An upgrade: what this version keeps is made again from
		 * the log, rather than stop cron's learner at a state file
		 * it cannot read until someone rebuilds it by hand. */
		rebuild = 1;
		read->remade = 1;
		rc = cw_predict_new(&m, err);
	}
	if (rc == CW_OK && log != NULL)
		rc = cw_predict_catch_up(m, log, now_s, history_s, rebuild,
		    read, err);
	if (rc == CW_OK)
		rc = checkpoint(m, state, now_s, history_s, err);
	cw_predict_free(m);
	close(lock_fd);
	return rc;
}
