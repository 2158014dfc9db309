/*
 * cw-bench: workloads and measurements.
 *
 * generate: a deterministic synthetic trading-desk access trace, CSV
 * "ts,key", for the predictor's backtest and for replays.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cw.h"
#include "cli.h"

#define DEFAULT_INSTRUMENTS "EUR_USD,GBP_USD,USD_JPY,AUD_USD,USD_CAD"

struct opts {
	struct cw_workload_opts gen;
};

static const char usage_text[] =
    "usage: cw-bench generate [--seed N] [--weeks N] "
    "[--start DATE] [--instruments LIST] [--rate N]\n";

static void
help(void)
{
	fputs(usage_text, stdout);
	printf("Benchmark workloads.\n\n"
	    "generate: print a synthetic trading-desk access trace, CSV "
	    "ts,key, on stdout.\n"
	    "  -h, --help              print this help and exit\n"
	    "      --instruments LIST  comma-separated (default: "
	    DEFAULT_INSTRUMENTS ")\n"
	    "      --rate N            requests an hour of one instrument in "
	    "a session (default 400)\n"
	    "      --seed N            the same seed gives the same trace "
	    "(default 1)\n"
	    "      --start DATE        first day, YYYY-MM-DD, UTC (default "
	    "2024-03-04: the US and UK clock changes fall inside 4 weeks)\n"
	    "      --version           print the version and exit\n"
	    "      --weeks N           length (default 4)\n");
}

static uint64_t
number(const char *s, const char *what, uint64_t lo, uint64_t hi)
{
	struct cw_err e;
	uint64_t v;

	if (cw_num_parse_u64(s, lo, hi, what, &v, &e) != CW_OK)
		cli_misuse(usage_text, "%s", e.msg);
	return v;
}

static int64_t
start_date(const char *s)
{
	int64_t t;

	if (strlen(s) != 10 || cw_cal_parse_utc(s, &t, NULL) != CW_OK)
		cli_misuse(usage_text,
		    "--start '%s': not a date YYYY-MM-DD", s);
	return t;
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	enum { OPT_INSTRUMENTS = 256, OPT_RATE, OPT_SEED, OPT_START,
	    OPT_VERSION, OPT_WEEKS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "instruments", required_argument, NULL, OPT_INSTRUMENTS },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "start", required_argument, NULL, OPT_START },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "weeks", required_argument, NULL, OPT_WEEKS },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->gen.seed = 1;
	o->gen.weeks = 4;
	o->gen.instruments = DEFAULT_INSTRUMENTS;
	o->gen.rate_per_hour = 400;
	o->gen.start_s = start_date("2024-03-04");
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		switch (c) {
		case 'h':
			help();
			exit(0);
		case OPT_INSTRUMENTS:
			o->gen.instruments = optarg;
			break;
		case OPT_RATE:
			o->gen.rate_per_hour = (double)number(optarg, "--rate",
			    1, 10000000);
			break;
		case OPT_SEED:
			o->gen.seed = number(optarg, "--seed", 0, UINT64_MAX);
			break;
		case OPT_START:
			o->gen.start_s = start_date(optarg);
			break;
		case OPT_VERSION:
			printf("cw-bench (cachewarm) %s\n", CW_VERSION);
			exit(0);
		case OPT_WEEKS:
			o->gen.weeks = (unsigned)number(optarg, "--weeks", 1,
			    520);
			break;
		default:
			cli_misuse(usage_text, NULL);
		}
	if (optind >= argc)
		cli_misuse(usage_text, "no command: generate");
	(void)cli_command(usage_text, argv[optind],
	    (const char *const[]){ "generate", NULL });
	if (optind + 1 < argc)
		cli_misuse(usage_text,
		    "unexpected argument '%s'", argv[optind + 1]);
}

static int
generate(const struct opts *o)
{
	struct cw_workload *w;
	struct cw_buf minute = { 0 };
	struct cw_err e;
	int rc;

	if ((rc = cw_workload_open(&w, &o->gen, &e)) != CW_OK) {
		if (rc == CW_EUSAGE)
			cli_misuse(usage_text, "%s", e.msg);
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	while ((rc = cw_workload_next(w, &minute, &e)) == CW_OK)
		if (minute.len > 0 &&
		    fwrite(minute.data, 1, minute.len, stdout) != minute.len)
			break;
	cw_workload_close(w);
	cw_buf_free(&minute);
	if (rc != CW_OK && rc != CW_ENOTFOUND) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts o;

	cli_start();
	parse_args(argc, argv, &o);
	return cli_finish_stdout(generate(&o));
}
