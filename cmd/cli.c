/*
 * cli: the start, the misuse message and the end that every program
 * shares (cli.h).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cw.h"
#include "cli.h"

void
cli_start(void)
{
	/* A closed descriptor is what fcntl says EBADF for; open() takes
	 * the lowest free number, which is exactly the one closed. */
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(74);	/* cannot make the process safe */
	}
}

/* Set by cli_plugin_args: the program runs as a monitoring plugin. */
static const char *plugin_prefix;

void
cli_plugin_args(int argc, char *argv[], const char *flag, const char *prefix)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], flag) == 0)
			plugin_prefix = prefix;
}

void
cli_misuse(const char *usage, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "%s: ", program_invocation_short_name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs(usage, stderr);
	fprintf(stderr, "Try '%s --help'.\n", program_invocation_short_name);
	if (plugin_prefix != NULL) {
		/* Nagios reads stdout and the exit: misuse is UNKNOWN, not
		 * a CRITICAL without a word. */
		printf("%s UNKNOWN - ", plugin_prefix);
		if (fmt != NULL) {
			va_start(ap, fmt);
			vprintf(fmt, ap);
			va_end(ap);
		} else {
			printf("bad arguments (see %s --help)",
			    program_invocation_short_name);
		}
		putchar('\n');
		fflush(stdout);
		exit(3);
	}
	exit(2);
}

enum cw_format
cli_output_format(const char *usage, const char *arg, int allow_raw)
{
	enum cw_format f;
	struct cw_err e;

	if (cw_out_parse_format(arg, &f, &e) != CW_OK)
		cli_misuse(usage, "%s", e.msg);
	if (f == CW_FORMAT_RAW && !allow_raw)
		cli_misuse(usage, "-o '%s': tsv or json", arg);
	return f;
}

int
cli_command(const char *usage, const char *cmd, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(cmd, names[i]) == 0)
			return i;
	cli_misuse(usage, "unknown command '%s'", cmd);
}

int
cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warn("write stdout");
		return -1;
	}
	return 0;
}

int
cli_finish_stdout(int status)
{
	return cli_flush_stdout() == 0 ? status :
	    cw_exit_worse(status, EX_IOERR);
}

int64_t
cli_duration_s(const char *usage, const char *arg, const char *what,
    int64_t min_s)
{
	struct cw_err e;
	int64_t ms;

	if (cw_num_parse_duration_ms(arg, what, &ms, &e) != CW_OK)
		cli_misuse(usage, "%s", e.msg);
	if (ms < min_s * 1000)
		cli_misuse(usage, "%s '%s': less than %lld s", what, arg,
		    (long long)min_s);
	return ms / 1000;
}

double
cli_number(const char *usage, const char *arg, const char *what, double lo,
    double hi)
{
	struct cw_err e;
	double v;

	if (cw_num_parse_double(arg, lo, hi, what, &v, &e) != CW_OK)
		cli_misuse(usage, "%s", e.msg);
	return v;
}

uint64_t
cli_count(const char *usage, const char *arg, const char *what, uint64_t lo,
    uint64_t hi)
{
	struct cw_err e;
	uint64_t v;

	if (cw_num_parse_u64(arg, lo, hi, what, &v, &e) != CW_OK)
		cli_misuse(usage, "%s", e.msg);
	return v;
}

void
cli_degraded(void *ctx, const char *msg)
{
	(void)ctx;
	warnx("%s; going on without it", msg);
}

int
cli_not_a_key(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i == len || line[0] == '#';
}
