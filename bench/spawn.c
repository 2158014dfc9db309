/*
 * spawn: time whole commands, as a shell or cron would run them.
 *
 * usage: spawn RUNS -- CMD ARGS... [--- CMD ARGS...]
 *
 * Runs each command RUNS times, interleaved so that machine noise hits
 * all alike, with stdout to /dev/null, and prints per command the median
 * wall time in microseconds. Exits non-zero if a run fails.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	char **cmds[16];
	int ncmds = 0, runs;
	double *t[16];
	posix_spawn_file_actions_t fa;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: spawn RUNS -- CMD... [--- CMD...]\n");
		return 2;
	}
	runs = atoi(argv[1]);
	cmds[ncmds++] = &argv[3];
	for (int i = 3; i < argc && ncmds < 16; i++)
		if (strcmp(argv[i], "---") == 0) {
			argv[i] = NULL;
			cmds[ncmds++] = &argv[i + 1];
		}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (int c = 0; c < ncmds; c++)
		t[c] = calloc((size_t)runs, sizeof(double));
	for (int r = 0; r < runs; r++)
		for (int c = 0; c < ncmds; c++) {
			double t0 = now_us();
			pid_t pid;
			int st;

			if (posix_spawnp(&pid, cmds[c][0], &fa, NULL, cmds[c],
			    environ) != 0 || waitpid(pid, &st, 0) != pid ||
			    !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "spawn: %s failed\n", cmds[c][0]);
				return 1;
			}
			t[c][r] = now_us() - t0;
		}
	for (int c = 0; c < ncmds; c++) {
		qsort(t[c], (size_t)runs, sizeof(double), cmp);
		printf("%s %.0f\n", cmds[c][0], t[c][runs / 2]);
	}
	return 0;
}
