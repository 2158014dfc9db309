/*
 * src_exec: any command as the source, "exec:/path/to/command".
 *
 * The command runs with the key as its only argument, stdin from
 * /dev/null and our stderr; its stdout is the value. Exit 0 is a value,
 * exit 1 "not found", anything else a failure. It runs in a process group
 * of its own, so that a timeout kills whatever it started too, and the
 * deadline counts from the spawn to the exit, not per read.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cw.h"
#include "src_int.h"

extern char **environ;

struct exec_src {
	struct cw_clock clock;
	int64_t timeout_ns;
	char path[CW_PATH_MAX];
};

static int
exec_open(void **self, const char *rest, const struct cw_src_opts *o,
    struct cw_err *err)
{
	struct exec_src *s;

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
	s->timeout_ns = o->cfg->source_timeout_ms * 1000000;
	*self = s;
	return CW_OK;
}

static int
remaining_ms(const struct exec_src *s, int64_t deadline)
{
	int64_t left = deadline - cw_clock_mono_ns(&s->clock);

	return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* Read the child's stdout to EOF or the deadline. */
static int
read_all(struct exec_src *s, int fd, int64_t deadline, struct cw_buf *out,
    struct cw_err *err)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc, ready;

	for (;;) {
		if ((rc = cw_buf_reserve(out, out->len + 65536, err)) != CW_OK)
			return rc;
		ready = poll(&pfd, 1, remaining_ms(s, deadline));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return cw_err_set(err, CW_EIO, errno, "exec %s: poll",
			    s->path);
		if (ready == 0)
			return CW_ETIMEOUT;
		n = read(fd, out->data + out->len, out->cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cw_err_set(err, CW_EIO, errno, "exec %s: read",
			    s->path);
		if (n == 0)
			return CW_OK;
		out->len += (size_t)n;
	}
}

/* Reap the child by the deadline; -1 if it is still running then. */
static int
wait_exit(struct exec_src *s, pid_t pid, int64_t deadline, int *status)
{
	int64_t pause_ns = 100000;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (cw_clock_mono_ns(&s->clock) >= deadline)
			return -1;
		cw_clock_sleep_ns(&s->clock, pause_ns);
		if (pause_ns < 10000000)
			pause_ns *= 2;
	}
}

static int
exec_get(void *self, const struct cw_key *key, struct cw_buf *out,
    struct cw_err *err)
{
	struct exec_src *s = self;
	char *argv[] = { s->path, (char *)key->raw, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int64_t deadline = cw_clock_mono_ns(&s->clock) + s->timeout_ns;
	int fds[2], status = 0, rc, spawn_rc;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return cw_err_set(err, CW_EIO, errno, "exec %s: pipe",
		    s->path);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	spawn_rc = posix_spawn(&pid, s->path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	if (spawn_rc != 0) {
		close(fds[0]);
		return cw_err_set(err, CW_EUNAVAIL, spawn_rc, "exec %s",
		    s->path);
	}
	rc = read_all(s, fds[0], deadline, out, err);
	close(fds[0]);
	if (rc == CW_OK && wait_exit(s, pid, deadline, &status) != 0)
		rc = CW_ETIMEOUT;
	if (rc != CW_OK) {
		/* The whole group: a shell's children hold the pipe too. */
		kill(-pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (rc == CW_ETIMEOUT)
			return cw_err_set(err, CW_ETIMEOUT, 0,
			    "exec %s %s: no answer within %lld ms", s->path,
			    key->raw, (long long)(s->timeout_ns / 1000000));
		return rc;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return CW_OK;
	out->len = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		return CW_ENOTFOUND;
	if (WIFEXITED(status))
		return cw_err_set(err, CW_EUNAVAIL, 0, "exec %s %s: exit %d",
		    s->path, key->raw, WEXITSTATUS(status));
	return cw_err_set(err, CW_EUNAVAIL, 0, "exec %s %s: killed by signal %d",
	    s->path, key->raw, WTERMSIG(status));
}

static void
exec_close(void *self)
{
	free(self);
}

const struct cw_src_ops cw_src_exec_ops = {
	"exec", exec_open, exec_get, exec_close,
};
