/*
 * journal: what each cw-warm run set out to do and what became of it.
 *
 * THE FILE
 *
 * One append-only text file shared by every run on a host, opened
 * O_APPEND; each record is one line, written by one write(2), so the
 * records of runs going on at once never interleave:
 *
 *   HHHHHHHHHHHHHHHH SP kind TAB field TAB field ... LF
 *
 * HHHHHHHHHHHHHHHH is XXH3-64 of everything after the space up to (not
 * including) the LF, in lowercase hex. Fields are TSV-escaped (\\ \t \n
 * \r \0), so no field holds a TAB or LF. The kinds:
 *
 *   run   ID START_S PID          a run (or its resumption) began
 *   plan  ID SEQ PRIO KEY         task SEQ of run ID is to warm KEY
 *   task  ID SEQ RESULT LEVEL MS KEY ERROR
 *                                 task SEQ ended (warmed, fresh, ...)
 *   end   ID END_S STATUS         the run ended with exit STATUS
 *
 * A record is valid when its line is complete and its hash matches: a
 * record proves itself. A writer killed mid-write, or a power loss, can
 * only leave the last line torn; the reader stops at the first invalid
 * record, counts the bytes from there as the torn tail, and the next
 * append starts a fresh line after it (a record never continues a torn
 * one: the writer terminates a torn tail before appending, like Redis's
 * loader trimming a truncated AOF). A run without an end record was
 * killed, or is still going (its PID says which).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cw.h"
#include "fs_int.h"
#include "hash_int.h"
#include "hist_int.h"
#include "journal_int.h"
#include "out_int.h"
#include "sched_int.h"
#include "warm_int.h"

#define HASH_HEX 16

struct cw_journal {
	int fd;
	char *path;
	struct cw_buf line;
};

static const char *const result_names[CW_WARM_RESULTS] = {
	"warmed", "fresh", "refreshed", "dropped", "failed", "expired",
};

const char *
cw_warm_result_name(int result)
{
	return result >= 0 && result < CW_WARM_RESULTS ?
	    result_names[result] : "pending";
}

static int
result_parse(const char *s, size_t n)
{
	for (int i = 0; i < CW_WARM_RESULTS; i++)
		if (strlen(result_names[i]) == n &&
		    memcmp(result_names[i], s, n) == 0)
			return i;
	return -1;
}

int
cw_journal_open(struct cw_journal **out, const char *path,
    struct cw_err *err)
{
	struct cw_journal *j;
	struct stat st;
	char last;
	int rc;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->path = strdup(path)) == NULL) {
		free(j);
		return cw_err_set(err, CW_ENOMEM, 0, "journal");
	}
	if ((rc = cw_fs_make_parents(path, err)) != CW_OK)
		goto fail;
	if ((j->fd = cw_fs_fd_above_std(open(path, O_RDWR | O_APPEND |
	    O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600))) < 0) {
		rc = cw_err_set(err, CW_EIO, errno, "journal %s", path);
		goto fail;
	}
	/* A torn last line (a killed writer): end it, so the next record
	 * starts a line of its own. Under flock, so that two runs starting
	 * together do not both mend it. */
	flock(j->fd, LOCK_EX);
	if (fstat(j->fd, &st) == 0 && st.st_size > 0 &&
	    pread(j->fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
	    write(j->fd, "\n", 1) != 1) {
		flock(j->fd, LOCK_UN);
		rc = cw_err_set(err, CW_EIO, errno, "journal %s", path);
		goto fail;
	}
	flock(j->fd, LOCK_UN);
	*out = j;
	return CW_OK;
fail:
	cw_journal_close(j);
	return rc;
}

void
cw_journal_close(struct cw_journal *j)
{
	if (j == NULL)
		return;
	if (j->fd > 0)
		close(j->fd);
	cw_buf_free(&j->line);
	free(j->path);
	free(j);
}

/* Write one record of n fields (the first is its kind). */
static int
append(struct cw_journal *j, const char *const *f, const size_t *len,
    size_t n, struct cw_err *err)
{
	struct cw_buf *b = &j->line;
	char hex[HASH_HEX + 2];
	int rc;

	b->len = 0;
	if ((rc = cw_buf_append(b, "0123456789abcdef ", HASH_HEX + 1, err)) !=
	    CW_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && (rc = cw_buf_append(b, "\t", 1, err)) != CW_OK) ||
		    (rc = cw_out_tsv_escape(b, f[i], len[i], err)) != CW_OK)
			return rc;
	snprintf(hex, sizeof(hex), "%016" PRIx64, cw_hash(b->data +
	    HASH_HEX + 1, b->len - HASH_HEX - 1));
	memcpy(b->data, hex, HASH_HEX);
	if ((rc = cw_buf_append(b, "\n", 1, err)) != CW_OK)
		return rc;
	if (write(j->fd, b->data, b->len) != (ssize_t)b->len)
		return cw_err_set(err, CW_EIO, errno, "journal %s", j->path);
	return CW_OK;
}

/* Append a record of n NUL-terminated fields. */
static int
record(struct cw_journal *j, struct cw_err *err, size_t n,
    const char *const *f)
{
	size_t len[8];

	for (size_t i = 0; i < n; i++)
		len[i] = strlen(f[i]);
	return append(j, f, len, n, err);
}

int
cw_journal_begin(struct cw_journal *j, const char *id, int64_t start_s,
    struct cw_err *err)
{
	char t[24], pid[24];

	snprintf(t, sizeof(t), "%lld", (long long)start_s);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	return record(j, err, 4, (const char *[]){ "run", id, t, pid });
}

int
cw_journal_plan(struct cw_journal *j, const char *id, size_t seq, int prio,
    const char *key, size_t klen, struct cw_err *err)
{
	char s[24];
	const char *f[] = { "plan", id, s, cw_prio_name(prio), key };
	size_t len[] = { 4, strlen(id), 0, strlen(f[3]), klen };

	len[2] = (size_t)snprintf(s, sizeof(s), "%zu", seq);
	return append(j, f, len, 5, err);
}

int
cw_journal_task(struct cw_journal *j, const char *id, size_t seq,
    const struct cw_warm_task *t, struct cw_err *err)
{
	char s[24], ms[32];
	const char *f[] = { "task", id, s, cw_warm_result_name(t->result),
		t->filled, ms, t->key, t->result == CW_WARM_FAILED ?
		t->err.msg : "" };
	size_t len[8];

	snprintf(s, sizeof(s), "%zu", seq);
	snprintf(ms, sizeof(ms), "%.3f", (double)t->elapsed_ns / 1e6);
	for (size_t i = 0; i < 8; i++)
		len[i] = strlen(f[i]);
	len[6] = t->klen;
	return append(j, f, len, 8, err);
}

int
cw_journal_end(struct cw_journal *j, const char *id, int64_t end_s,
    int status, struct cw_err *err)
{
	char t[24], st[16];

	snprintf(t, sizeof(t), "%lld", (long long)end_s);
	snprintf(st, sizeof(st), "%d", status);
	return record(j, err, 4, (const char *[]){ "end", id, t, st });
}

/* ---- reading ---- */

#define MAX_FIELDS 8

struct rec {
	size_t n;
	const char *f[MAX_FIELDS];
	size_t len[MAX_FIELDS];
	struct cw_buf un[MAX_FIELDS];	/* unescaped */
};

/* Split and check one line (without its LF); 0 when it is not a valid
 * record, -1 when memory ran out (the line may be good: not "bad"). */
static int
parse_line(const char *p, size_t n, struct rec *r)
{
	char hex[HASH_HEX + 1];
	const char *body = p + HASH_HEX + 1, *end = p + n;

	if (n < HASH_HEX + 2 || p[HASH_HEX] != ' ')
		return 0;
	snprintf(hex, sizeof(hex), "%016" PRIx64, cw_hash(body,
	    (size_t)(end - body)));
	if (memcmp(hex, p, HASH_HEX) != 0)
		return 0;
	r->n = 0;
	while (r->n < MAX_FIELDS) {
		const char *tab = memchr(body, '\t', (size_t)(end - body));
		const char *stop = tab != NULL ? tab : end;
		struct cw_buf *u = &r->un[r->n];

		u->len = 0;
		switch (cw_out_tsv_unescape(u, body, (size_t)(stop - body),
		    NULL)) {
		case CW_OK:
			break;
		case CW_ENOMEM:
			return -1;
		default:
			return 0;
		}
		if (cw_buf_append(u, "", 1, NULL) != CW_OK)
			return -1;
		r->f[r->n] = u->data;
		r->len[r->n++] = u->len - 1;
		if (tab == NULL)
			return 1;
		body = tab + 1;
	}
	return 1;
}

int
cw_journal_read(const char *path, cw_journal_fn *fn, void *ctx,
    struct cw_journal_counts *counts, struct cw_err *err)
{
	struct cw_journal_counts c = { 0 };
	struct cw_buf all = { 0 };
	struct rec r;
	size_t at = 0;
	int fd, rc;

	memset(&r, 0, sizeof(r));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (counts != NULL)
			*counts = c;
		return errno == ENOENT ? CW_ENOTFOUND : cw_err_set(err,
		    CW_EIO, errno, "journal %s", path);
	}
	rc = cw_buf_read_fd(&all, fd, path, err);
	close(fd);
	while (rc == CW_OK && at < all.len) {
		const char *p = all.data + at;
		const char *lf = memchr(p, '\n', all.len - at);
		size_t n = lf != NULL ? (size_t)(lf - p) : all.len - at;
		int parsed = lf != NULL ? parse_line(p, n, &r) : 0;

		if (parsed < 0) {
			rc = cw_err_set(err, CW_ENOMEM, 0, "journal %s", path);
			break;
		}
		if (parsed == 0) {
			/* A torn line that a later open ended with a LF is
			 * followed by valid records: skip it. Anything
			 * else stops here: the tail. */
			if (lf == NULL) {
				c.torn_bytes = all.len - at;
				break;
			}
			c.bad++;
			at += n + 1;
			continue;
		}
		c.records++;
		if (fn(ctx, r.f, r.len, r.n) != 0)
			break;
		at += n + 1;
	}
	for (size_t i = 0; i < MAX_FIELDS; i++)
		cw_buf_free(&r.un[i]);
	cw_buf_free(&all);
	if (counts != NULL)
		*counts = c;
	return rc;
}

/* ---- one run ---- */

struct run_ctx {
	struct cw_warm_run *run;
	const char *want;
	int err;
};

static int
grow_tasks(struct cw_warm_run *r, size_t seq)
{
	if (seq < r->ntasks)
		return CW_OK;
	if (seq >= r->cap) {
		size_t cap = r->cap ? r->cap : 64;
		void *p;

		while (cap <= seq)
			cap *= 2;
		if ((p = realloc(r->tasks, cap * sizeof(*r->tasks))) == NULL)
			return CW_ENOMEM;
		r->tasks = p;
		memset(r->tasks + r->cap, 0, (cap - r->cap) *
		    sizeof(*r->tasks));
		r->cap = cap;
	}
	for (size_t i = r->ntasks; i <= seq; i++)
		r->tasks[i].result = -1;
	r->ntasks = seq + 1;
	return CW_OK;
}

static void
reset_run(struct cw_warm_run *r, const char *id, size_t idlen)
{
	r->ntasks = 0;
	r->start_s = r->end_s = -1;
	r->pid = 0;
	r->status = -1;
	r->resumed = 0;
	snprintf(r->id, sizeof(r->id), "%.*s", (int)idlen, id);
}

static int
on_last_run(void *ctx, const char *const *f, const size_t *len, size_t n)
{
	char *id = ctx;

	if (n >= 4 && strcmp(f[0], "run") == 0)
		snprintf(id, CW_WARM_ID_MAX, "%.*s", (int)len[1], f[1]);
	return 0;
}

static int
on_run_record(void *ctx, const char *const *f, const size_t *len, size_t n)
{
	struct run_ctx *rc = ctx;
	struct cw_warm_run *r = rc->run;
	unsigned long long seq;
	int kind_run = n >= 4 && strcmp(f[0], "run") == 0;

	if (n < 2 || strcmp(f[1], rc->want) != 0)
		return 0;
	if (r->id[0] == '\0')
		reset_run(r, f[1], len[1]);
	if (kind_run) {
		if (r->start_s >= 0)
			r->resumed++;
		else
			r->start_s = strtoll(f[2], NULL, 10);
		r->pid = strtol(f[3], NULL, 10);
		r->end_s = -1;	/* running again */
		r->status = -1;
	} else if (strcmp(f[0], "end") == 0 && n >= 4) {
		r->end_s = strtoll(f[2], NULL, 10);
		r->status = (int)strtol(f[3], NULL, 10);
	} else if ((strcmp(f[0], "plan") == 0 && n >= 5) ||
	    (strcmp(f[0], "task") == 0 && n >= 8)) {
		struct cw_warm_run_task *t;
		int plan = f[0][0] == 'p';
		const char *key = plan ? f[4] : f[6];
		size_t klen = plan ? len[4] : len[6];

		seq = strtoull(f[2], NULL, 10);
		/* Plans are numbered from 0 in order, and a task ends after
		 * its plan: a record out of that order is skipped, so that
		 * no record can size the table beyond the records in it. */
		if (seq > r->ntasks || (!plan && seq == r->ntasks) ||
		    klen > CW_KEY_MAX)
			return 0;
		if (grow_tasks(r, (size_t)seq) != CW_OK) {
			rc->err = CW_ENOMEM;
			return 1;
		}
		t = &r->tasks[seq];
		memcpy(t->key, key, klen);
		t->key[klen] = '\0';
		if (plan) {
			if (cw_prio_parse(f[3], len[3], &t->prio) != CW_OK)
				t->prio = CW_PRIO_HIGH;
		} else {
			t->result = result_parse(f[3], len[3]);
			snprintf(t->filled, sizeof(t->filled), "%s", f[4]);
			t->ms = strtod(f[5], NULL);
			snprintf(t->error, sizeof(t->error), "%s", f[7]);
		}
	}
	return 0;
}

int
cw_journal_load_run(const char *path, const char *id,
    struct cw_warm_run *run, struct cw_err *err)
{
	struct run_ctx ctx = { run, id, CW_OK };
	char last[CW_WARM_ID_MAX] = "";
	int rc;

	memset(run, 0, sizeof(*run));
	reset_run(run, "", 0);
	if (id == NULL) {
		if ((rc = cw_journal_read(path, on_last_run, last, NULL,
		    err)) != CW_OK && rc != CW_ENOTFOUND)
			return rc;
		ctx.want = last;
	}
	if ((rc = cw_journal_read(path, on_run_record, &ctx, NULL, err)) !=
	    CW_OK && rc != CW_ENOTFOUND)
		return rc;
	if (ctx.err != CW_OK)
		return cw_err_set(err, ctx.err, 0, "journal %s", path);
	if (run->id[0] == '\0' || run->start_s < 0)
		return cw_err_set(err, CW_ENOTFOUND, 0, "journal %s: %s",
		    path, id != NULL ? "no such run" : "no run yet");
	return CW_OK;
}

void
cw_warm_run_free(struct cw_warm_run *run)
{
	free(run->tasks);
	memset(run, 0, sizeof(*run));
}

/* ---- every run, summed ---- */

struct sum_ctx {
	struct cw_journal_summary *s;
	char last_run[CW_WARM_ID_MAX];
};

static int
on_sum_record(void *ctx, const char *const *f, const size_t *len, size_t n)
{
	struct sum_ctx *sc = ctx;
	struct cw_journal_summary *s = sc->s;
	int result;

	if (n >= 4 && strcmp(f[0], "run") == 0 && strcmp(sc->last_run, f[1]))
	{
		s->runs++;
		snprintf(sc->last_run, sizeof(sc->last_run), "%s", f[1]);
		return 0;
	}
	if (n < 8 || strcmp(f[0], "task") != 0 ||
	    (result = result_parse(f[3], len[3])) < 0)
		return 0;
	s->by_result[result]++;
	if (result == CW_WARM_WARMED || result == CW_WARM_REFRESHED ||
	    result == CW_WARM_FAILED) {
		double ms = strtod(f[5], NULL);

		/* Taken as written, within what a histogram holds (a day):
		 * a record proves it is whole, not that its writer was us. */
		if (!(ms >= 0))
			ms = 0;
		if (ms > 86400e3)
			ms = 86400e3;
		s->timed++;
		s->latency[cw_hist_bucket((int64_t)(ms * 1e6))]++;
	}
	return 0;
}

int
cw_journal_summary(const char *path, struct cw_journal_summary *s,
    struct cw_err *err)
{
	struct sum_ctx ctx;
	int rc;

	memset(s, 0, sizeof(*s));
	memset(&ctx, 0, sizeof(ctx));
	ctx.s = s;
	rc = cw_journal_read(path, on_sum_record, &ctx, &s->counts, err);
	return rc == CW_ENOTFOUND ? CW_OK : rc;
}
