/*
 * src_exec: any command as the source, "exec:/path/to/command".
 *
 * The command runs with the key as its only argument, stdin from
 * /dev/null and our stderr; its stdout is the value. Exit 0 is a value,
 * exit 1 "not found", anything else a failure. It runs in a process group
 * of its own, so that a timeout kills whatever it started too, and the
 * deadline counts from the spawn to the exit, not per read.
 *
 * Many commands run at once: each fetch is a child with its pipe, and
 * poll(2) over all the pipes reads whichever has output. A value past
 * max_value_bytes kills its command (an endless writer must not eat the
 * memory). The child's environment is ours without the backends'
 * passwords: a command has no business with Redis's or ClickHouse's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cw.h"
#include "src_int.h"
#include "key_int.h"

extern char **environ;

/* One command in flight. */
struct child {
	pid_t pid;
	int fd;			/* its stdout; -1 once at end of file */
	struct cw_buf *out;
	void *tag;
	int64_t deadline_ns;	/* elapsed time */
	char key[CW_KEY_MAX + 1];
};

struct exec_src {
	struct cw_clock clock;
	int64_t timeout_ns;
	uint64_t max_value_bytes;
	char path[CW_PATH_MAX];
	char **env;		/* environ without the passwords */
	struct child *kids;
	size_t nkids, capkids;
	struct cw_src_ready ready;	/* finished, not yet reported */
	struct pollfd *pfd;		/* scratch for poll(2) */
	size_t *pfd_kid;		/* the child of each pollfd */
	size_t cappfd;
};

/* Variables a command must not see. */
static int
secret(const char *var)
{
	static const char *const names[] = { "CW_REDIS_PASSWORD=",
		"CW_CLICKHOUSE_PASSWORD=" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(var, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

static int
exec_open(void **self, const char *rest, const struct cw_src_opts *o,
    struct cw_err *err)
{
	struct exec_src *s;
	size_t n = 0;

	if (rest[0] != '/' || strlen(rest) >= CW_PATH_MAX)
		return cw_err_set(err, CW_ECONFIG, 0,
		    "source 'exec:%s': needs an absolute command path", rest);
	if (access(rest, X_OK) != 0)
		return cw_err_set(err, CW_ECONFIG, errno, "source 'exec:%s'",
		    rest);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "exec source");
	strcpy(s->path, rest);
	s->clock = o->clock;
	s->timeout_ns = o->timeout_ms * 1000000;
	s->max_value_bytes = o->max_value_bytes;
	while (environ[n] != NULL)
		n++;
	if ((s->env = calloc(n + 1, sizeof(*s->env))) == NULL) {
		free(s);
		return cw_err_set(err, CW_ENOMEM, 0, "exec source");
	}
	/* Pointers into environ: the strings outlive the source. */
	n = 0;
	for (char **e = environ; *e != NULL; e++)
		if (!secret(*e))
			s->env[n++] = *e;
	*self = s;
	return CW_OK;
}

static int
exec_submit(void *self, const struct cw_key *key, struct cw_buf *out,
    void *tag, struct cw_err *err)
{
	struct exec_src *s = self;
	char *argv[] = { s->path, (char *)key->raw, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct child *c;
	int fds[2], spawn_rc;
	pid_t pid;

	/* Room for every child's answer, this one's included: reporting
	 * one must not fail later. */
	if (cw_src_ready_reserve(&s->ready, s->nkids + 1) != CW_OK)
		return cw_err_set(err, CW_ENOMEM, 0, "exec source");
	if (s->nkids == s->capkids) {
		size_t cap = s->capkids ? 2 * s->capkids : 8;
		void *p;

		if ((p = realloc(s->kids, cap * sizeof(*s->kids))) == NULL)
			return cw_err_set(err, CW_ENOMEM, 0, "exec source");
		s->kids = p;
		s->capkids = cap;
	}
	if (pipe2(fds, O_CLOEXEC) != 0)
		return cw_err_set(err, CW_EIO, errno, "exec %s: pipe",
		    s->path);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	spawn_rc = posix_spawn(&pid, s->path, &fa, &attr, argv, s->env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	if (spawn_rc != 0) {
		close(fds[0]);
		return cw_err_set(err, CW_EUNAVAIL, spawn_rc, "exec %s",
		    s->path);
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	c = &s->kids[s->nkids++];
	c->pid = pid;
	c->fd = fds[0];
	c->out = out;
	c->tag = tag;
	c->deadline_ns = cw_clock_elapsed_ns(&s->clock) + s->timeout_ns;
	snprintf(c->key, sizeof(c->key), "%s", key->raw);
	return CW_OK;
}

/* The command's answer from its exit status. */
static int
outcome(const struct exec_src *s, const struct child *c, int status,
    struct cw_err *err)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return CW_OK;
	c->out->len = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		return CW_ENOTFOUND;
	if (WIFEXITED(status))
		return cw_err_set(err, CW_EUNAVAIL, 0, "exec %s %s: exit %d",
		    s->path, c->key, WEXITSTATUS(status));
	return cw_err_set(err, CW_EUNAVAIL, 0, "exec %s %s: killed by signal %d",
	    s->path, c->key, WTERMSIG(status));
}

/* A failed fetch: kill child i's whole group (a shell's children hold
 * the pipe too), reap it and report rc. */
static void
end_child(struct exec_src *s, size_t i, int rc, const struct cw_err *e)
{
	struct child *c = &s->kids[i];

	kill(-c->pid, SIGKILL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (c->fd >= 0)
		close(c->fd);
	c->out->len = 0;
	/* Cannot fail: exec_submit reserved the room. */
	(void)cw_src_ready_push(&s->ready, c->tag, rc, e);
	s->kids[i] = s->kids[--s->nkids];
}

/* Read what child i has written; 1 when it reached end of file. */
static int
drain(struct exec_src *s, size_t i, int *rc, struct cw_err *e)
{
	struct child *c = &s->kids[i];
	ssize_t n;

	for (;;) {
		if ((*rc = cw_buf_reserve(c->out, c->out->len + 65536, e)) !=
		    CW_OK)
			return 1;
		n = read(c->fd, c->out->data + c->out->len,
		    c->out->cap - c->out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			*rc = cw_err_set(e, CW_EIO, errno, "exec %s: read",
			    s->path);
			return 1;
		}
		if (n == 0) {
			close(c->fd);
			c->fd = -1;
			*rc = CW_OK;	/* the exit status decides, in settle */
			return 1;
		}
		c->out->len += (size_t)n;
		if (s->max_value_bytes > 0 &&
		    c->out->len > s->max_value_bytes) {
			*rc = cw_err_set(e, CW_ETOOBIG, 0, "exec %s %s: more "
			    "than %llu bytes of output (source."
			    "max_value_size), killed", s->path, c->key,
			    (unsigned long long)s->max_value_bytes);
			return 1;
		}
	}
}

/* Reap the children whose output ended and that have exited, and end
 * those past their deadline. */
static void
settle(struct exec_src *s, int64_t now)
{
	struct cw_err e;
	int status;

	for (size_t i = 0; i < s->nkids;) {
		struct child *c = &s->kids[i];
		pid_t r;

		if (c->fd < 0 && (r = waitpid(c->pid, &status, WNOHANG)) ==
		    c->pid) {
			int rc = outcome(s, c, status, &e);

			/* Cannot fail: exec_submit reserved the room. */
			(void)cw_src_ready_push(&s->ready, c->tag, rc, &e);
			s->kids[i] = s->kids[--s->nkids];
			continue;
		}
		if (now >= c->deadline_ns) {
			cw_err_set(&e, CW_ETIMEOUT, 0, "exec %s %s: no answer "
			    "within %lld ms", s->path, c->key,
			    (long long)(s->timeout_ns / 1000000));
			end_child(s, i, CW_ETIMEOUT, &e);
			continue;
		}
		i++;
	}
}

static size_t
exec_poll(void *self, int64_t wait_ns, struct cw_src_done *done, size_t cap)
{
	struct exec_src *s = self;
	int64_t now = cw_clock_elapsed_ns(&s->clock), until = now + wait_ns;
	int64_t pause_ns = 100000;
	int looked = 0;

	for (;;) {
		int64_t next, left;
		size_t npfd = 0;
		struct cw_err e;
		int rc, ms;

		settle(s, now);
		/* Past the wait, one look without blocking was taken. */
		if (s->ready.n > 0 || s->nkids == 0 || looked)
			return cw_src_ready_pop(&s->ready, done, cap);
		if (s->cappfd < s->nkids) {
			void *p = realloc(s->pfd, s->nkids * sizeof(*s->pfd));

			if (p == NULL)
				return 0;	/* tried again next call */
			s->pfd = p;
			p = realloc(s->pfd_kid, s->nkids * sizeof(*s->pfd_kid));
			if (p == NULL)
				return 0;
			s->pfd_kid = p;
			s->cappfd = s->nkids;
		}
		next = wait_ns >= 0 ? until : INT64_MAX;
		for (size_t i = 0; i < s->nkids; i++) {
			if (s->kids[i].deadline_ns < next)
				next = s->kids[i].deadline_ns;
			if (s->kids[i].fd < 0)
				continue;
			s->pfd[npfd].fd = s->kids[i].fd;
			s->pfd[npfd].events = POLLIN;
			s->pfd[npfd].revents = 0;
			s->pfd_kid[npfd++] = i;
		}
		left = next - now;
		/* A child whose output ended but that has not exited yet
		 * has no descriptor to wait on: look again soon, less and
		 * less often. */
		if (npfd < s->nkids && left > pause_ns) {
			left = pause_ns;
			pause_ns = pause_ns < 10000000 ? 2 * pause_ns : pause_ns;
		}
		ms = left <= 0 ? 0 : left > INT32_MAX * 1000000ll ? INT32_MAX :
		    (int)((left + 999999) / 1000000);
		looked = wait_ns >= 0 && now + left >= until;
		if (poll(s->pfd, npfd, ms) > 0) {
			/* From the last: ending child i moves the last child
			 * into its place, one already looked at. */
			for (size_t p = npfd; p-- > 0;) {
				size_t i = s->pfd_kid[p];

				if (s->pfd[p].revents != 0 &&
				    drain(s, i, &rc, &e) && rc != CW_OK)
					end_child(s, i, rc, &e);
			}
		}
		now = cw_clock_elapsed_ns(&s->clock);
	}
}

static size_t
exec_pending(const void *self)
{
	const struct exec_src *s = self;

	return s->nkids + s->ready.n;
}

static void
exec_close(void *self)
{
	struct exec_src *s = self;
	struct cw_err e;

	cw_err_set(&e, CW_EUNAVAIL, 0, "exec %s: closed", s->path);
	while (s->nkids > 0)
		end_child(s, 0, CW_EUNAVAIL, &e);
	cw_src_ready_free(&s->ready);
	free(s->pfd);
	free(s->pfd_kid);
	free(s->kids);
	free(s->env);
	free(s);
}

const struct cw_src_ops cw_src_exec_ops = {
	"exec", exec_open, exec_submit, exec_poll, exec_pending, exec_close,
};
