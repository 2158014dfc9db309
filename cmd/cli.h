/*
 * cli.h: what every program in cmd/ does the same way, written once:
 * the start (descriptors 0, 1 and 2 open before anything else is), the
 * misuse message, and the end (stdout flushed, a write error is 74).
 * Linked into each program; not part of libcw, which never prints or
 * exits.
 */
#ifndef CW_CLI_H
#define CW_CLI_H

#include <stdio.h>
#include <stdnoreturn.h>

#include "cw.h"

/*
 * Make sure descriptors 0, 1 and 2 are open, putting /dev/null on any
 * that is closed, so that no file the program opens later (the L1 file,
 * the log) can land on one and be written over by the program's own
 * output or diagnostics. First thing in main().
 */
void cli_start(void);
/* When argv holds flag (--check), misuse is a monitoring plugin's
 * UNKNOWN: see cli_misuse. Before parsing the arguments. */
void cli_plugin_args(int argc, char *argv[], const char *flag,
    const char *prefix);

/* Print "PROG: message" (when fmt is not NULL), the synopsis usage
 * ("usage: ..." lines) and "Try 'PROG --help'." to stderr; exit 2. As
 * a plugin (cli_plugin_args), also "PREFIX UNKNOWN - message" on stdout,
 * and exit 3. */
noreturn void cli_misuse(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A duration option's argument in whole seconds ("90m", "2h"); one
 * that is not a duration, or shorter than min_s, is misuse. */
int64_t cli_duration_s(const char *usage, const char *arg, const char *what,
    int64_t min_s);
/* A number option's argument in [lo, hi] ("0.5", "1e6"; a count: a
 * whole number); anything else is misuse, said as cw_num says it. */
double cli_number(const char *usage, const char *arg, const char *what,
    double lo, double hi);
uint64_t cli_count(const char *usage, const char *arg, const char *what,
    uint64_t lo, uint64_t hi);
/* A level that failed and is bypassed from now on (the levels'
 * on_degraded): said once on stderr. */
void cli_degraded(void *ctx, const char *msg);

/* -o's argument: tsv or json (and raw with allow_raw); anything else is
 * misuse. */
enum cw_format cli_output_format(const char *usage, const char *arg,
    int allow_raw);
/* The index of cmd in the NULL-terminated names; an unknown command is
 * misuse. */
int cli_command(const char *usage, const char *cmd, const char *const *names);

/* Is a line of a key list on stdin no key: blank (spaces and tabs
 * only) or a comment ('#' first), as operators' key files have? */
int cli_not_a_key(const char *line, size_t len);

/* Flush stdout: 0 when everything written arrived, else -1 after a
 * one-line diagnostic (a full disk, a closed pipe). */
int cli_flush_stdout(void);
/* The exit status after a run that ended with status: the worse of it
 * and 74 when stdout could not be written. */
int cli_finish_stdout(int status);

#endif /* CW_CLI_H */
