#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(lines);

static void
on_alarm(int sig)
{
	(void)sig;
}

/* A read interrupted by a signal (a handler installed without
 * SA_RESTART, as a program's own SIGALRM or SIGCHLD may be) is read
 * again: the input does not end there. */
Test(lines, a_read_interrupted_by_a_signal_goes_on)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	struct cw_lines in = { .fd = 0 };
	struct sigaction sa;
	const char *line;
	struct cw_err e;
	size_t len;
	int p[2], status;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		usleep(300000);
		_exit(write(p[1], "a\n", 2) == 2 ? 0 : 1);
	}
	close(p[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	in.fd = p[0];
	cr_assert_eq(cw_lines_fill(&in, &e), CW_OK, "%s", e.msg);
	cr_assert(cw_lines_next(&in, &line, &len));
	cr_assert_eq(len, 1);
	cr_assert_eq(line[0], 'a');
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
	cw_lines_free(&in);
}
