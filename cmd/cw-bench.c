/*
 * cw-bench: workloads and measurements.
 *
 * generate: a deterministic synthetic trading-desk access trace, CSV
 * "ts,key", for the predictor's backtest and for replays.
 * replay: a trace through the real levels on a simulated calendar, one
 * row per warming strategy (lib/replay.c does the work).
 * --quick: the configured levels checked in seconds (lib/quick.c).
 * --live: the host's traffic, interval by interval (lib/view.c).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "cli.h"

#define DEFAULT_INSTRUMENTS "EUR_USD,GBP_USD,USD_JPY,AUD_USD,USD_CAD"
/* A miss's cost when the replay answers from its own source. */
#define SYNTHETIC_SOURCE "synthetic:2ms"

/* CMD_BENCH: the seed's form, a generated workload replayed for a
 * while (--duration), its figures into a file (--output). */
enum { CMD_GENERATE, CMD_REPLAY, CMD_QUICK, CMD_LIVE, CMD_BENCH };
/* --quick's key from the source (the sample data has it). */
#define QUICK_KEY "labels:EUR_USD:H4:2024-01-02"
/* The benchmark's workload, in the scratch directory (--keep's too). */
#define BENCH_TRACE "workload.csv"

struct opts {
	int cmd;
	struct cw_workload_opts gen;
	/* replay */
	const char *config, *trace, *keep, *source, *key, *plot, *report;
	const char *truth;		/* generate: where the truth goes */
	int strategies[CW_STRATEGY_COUNT];
	size_t nstrategies;
	struct cw_replay_opts replay;
	enum cw_format format;
	const char *output, *interval;	/* read once the command is known */
	int64_t duration_s;		/* --live: 0, until interrupted */
	int64_t live_interval_s;
	enum cw_view_form live_form;
};

static const char usage_text[] =
    "usage: cw-bench generate [--seed N] [--weeks N] "
    "[--start DATE] [--instruments LIST] [--rate N]\n"
    "                [--wide] [--truth FILE]\n"
    "       cw-bench replay --trace FILE [-c FILE] [-o table|json] "
    "[--strategy LIST]\n"
    "                [--interval DUR] [--look-ahead DUR] [--budget N] "
    "[--jobs N] [--keep DIR]\n"
    "                [--min-probability P] [--backfill-days N] "
    "[--source URL] [--plot DIR]\n                "
    "[--report FILE]\n"
    "       cw-bench --duration DUR [-c FILE] [--instruments LIST] "
    "[-o FILE] [--report FILE]\n"
    "                [generate's and replay's options]\n"
    "       cw-bench --quick [-c FILE] [--key KEY]\n"
    "       cw-bench --live [-c FILE] [-o screen|tsv|json] "
    "[--interval DUR] [--duration DUR]\n";

static void
help(void)
{
	fputs(usage_text, stdout);
	printf("Benchmark workloads, and what warming is worth on them.\n\n"
	    "generate: print a synthetic trading-desk access trace, CSV "
	    "ts,key, on stdout.\n"
	    "replay: replay a trace through the configured levels on a "
	    "simulated calendar,\n"
	    "once per strategy, and print a row of figures for each.\n"
	    "--duration alone: the benchmark: a workload generated, "
	    "replayed for at most DUR,\n"
	    "its figures and targets judged as JSON into -o FILE.\n"
	    "--quick (or quick): check the configured levels in seconds; "
	    "PASS or FAIL.\n"
	    "--live (or live): the traffic of every process on the host, "
	    "interval by interval.\n\n"
	    "  -c, --config FILE       configuration file (replay)\n"
	    "  -h, --help              print this help and exit\n"
	    "  -o, --output FORMAT     replay: table (default) or json; "
	    "live: screen (default\n"
	    "                          on a terminal), tsv (default "
	    "otherwise) or json;\n"
	    "                          the benchmark: the FILE its JSON "
	    "goes to\n"
	    "      --duration DUR      --live: stop after this long "
	    "(default: when interrupted);\n"
	    "                          alone: the benchmark's real time, "
	    "shared by the strategies\n"
	    "      --backfill-days N   trading days backfill warms at the "
	    "start (default 260)\n"
	    "      --budget N          keys a predictive or oracle run may "
	    "warm (default 500)\n"
	    "      --instruments LIST  comma-separated (default: "
	    DEFAULT_INSTRUMENTS ")\n"
	    "      --interval DUR      replay: how often cron runs the "
	    "warmers (default 15m);\n"
	    "                          live: a line this often (default "
	    "1s)\n"
	    "      --key KEY           --quick's key from the source "
	    "(default " QUICK_KEY ")\n"
	    "      --jobs N            a warm run's fetches in flight "
	    "(default [warm] jobs)\n"
	    "      --keep DIR          leave each strategy's L1 file, "
	    "NAME.l1, in DIR, and its\n"
	    "                          Redis keys (default: a temporary "
	    "directory, removed)\n"
	    "      --look-ahead DUR    the window a warm run is for "
	    "(default 1h)\n"
	    "      --min-probability P  predictive's floor: the keys at least "
	    "this likely read\n"
	    "                          in the window (default 0.3)\n"
	    "      --plot DIR          replay, benchmark: also draw the "
	    "charts, PNG, into DIR (needs gnuplot)\n"
	    "      --report FILE       replay, benchmark: also write the "
	    "readable summary, targets judged, to FILE\n"
	    "      --rate N            requests an hour of one instrument in "
	    "a session (default 400)\n"
	    "      --seed N            the same seed gives the same trace "
	    "(default 1)\n"
	    "      --source URL        the source to replay against "
	    "(default: the configured\n"
	    "                          one; " SYNTHETIC_SOURCE " when "
	    "there is no configuration)\n"
	    "      --start DATE        first day, YYYY-MM-DD, UTC (default "
	    "2024-03-04: the US and UK clock changes fall inside 4 weeks)\n"
	    "      --strategy LIST     of none, market_open, predictive, "
	    "refresh_ahead, oracle,\n"
	    "                          backfill, xfetch, combined, "
	    "combined_oracle\n"
	    "                          (default: all)\n"
	    "      --trace FILE        ts,key[,...] lines; - for standard "
	    "input\n"
	    "      --truth FILE        generate: also write each hour's true "
	    "expected reads\n"
	    "                          of its likeliest keys, "
	    "hour_s,key,expected, to FILE\n"
	    "      --version           print the version and exit\n"
	    "      --weeks N           length (default 4)\n"
	    "      --wide              generate: also dates in calendar "
	    "days, Monday's review,\n"
	    "                          pairs busier while both sessions "
	    "are open\n");
}

static void
strategy_list(struct opts *o, const char *list)
{
	o->nstrategies = 0;
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		int s;

		if (cw_strategy_parse(p, len, &s) != CW_OK)
			cli_misuse(usage_text, "--strategy: unknown strategy "
			    "'%.*s'", (int)len, p);
		for (size_t i = 0; i < o->nstrategies; i++)
			if (o->strategies[i] == s)
				cli_misuse(usage_text, "--strategy: '%.*s' "
				    "twice", (int)len, p);
		o->strategies[o->nstrategies++] = s;
		p += len;
		if (*p == '\0')
			break;
	}
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
	    OPT_VERSION, OPT_WEEKS, OPT_TRACE, OPT_STRATEGY, OPT_INTERVAL,
	    OPT_LOOK_AHEAD, OPT_BUDGET, OPT_JOBS, OPT_KEEP, OPT_SOURCE,
	    OPT_BACKFILL_DAYS, OPT_QUICK, OPT_KEY, OPT_LIVE, OPT_DURATION,
	    OPT_PLOT, OPT_REPORT, OPT_TRUTH, OPT_WIDE, OPT_MIN_PROB };
	static const struct option longopts[] = {
		{ "backfill-days", required_argument, NULL,
		    OPT_BACKFILL_DAYS },
		{ "budget", required_argument, NULL, OPT_BUDGET },
		{ "config", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "help", no_argument, NULL, 'h' },
		{ "instruments", required_argument, NULL, OPT_INSTRUMENTS },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "look-ahead", required_argument, NULL, OPT_LOOK_AHEAD },
		{ "min-probability", required_argument, NULL, OPT_MIN_PROB },
		{ "output", required_argument, NULL, 'o' },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "start", required_argument, NULL, OPT_START },
		{ "truth", required_argument, NULL, OPT_TRUTH },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "weeks", required_argument, NULL, OPT_WEEKS },
		{ "wide", no_argument, NULL, OPT_WIDE },
		{ NULL, 0, NULL, 0 },
	};
	int c, replay_only = 0, generate_only = 0, quick = 0, live = 0;

	memset(o, 0, sizeof(*o));
	o->replay.interval_s = 900;
	o->replay.look_ahead_s = 3600;
	o->replay.budget = 500;
	o->replay.backfill_days = 260;
	o->format = CW_FORMAT_TSV;
	for (int i = 0; i < CW_STRATEGY_COUNT; i++)
		o->strategies[o->nstrategies++] = i;
	o->gen.seed = 1;
	o->gen.weeks = 4;
	o->gen.instruments = DEFAULT_INSTRUMENTS;
	o->gen.rate_per_hour = 400;
	o->gen.start_s = start_date("2024-03-04");
	while ((c = getopt_long(argc, argv, "c:ho:", longopts, NULL)) != -1) {
		int for_generate = (c >= OPT_INSTRUMENTS && c <= OPT_WEEKS &&
		    c != OPT_VERSION) || c == OPT_TRUTH || c == OPT_WIDE;

		replay_only += c == 'c' || c == 'o' || (c >= OPT_TRACE &&
		    c != OPT_LIVE && c != OPT_DURATION && !for_generate);
		/* --plot is replay's alone, unlike -c and -o. */
		replay_only += c == OPT_PLOT || c == OPT_REPORT;
		generate_only += for_generate;
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			help();
			exit(0);
		case 'o':
			o->output = optarg;
			break;
		case OPT_LIVE:
			live = 1;
			break;
		case OPT_DURATION:
			o->duration_s = cli_duration_s(usage_text, optarg,
			    "--duration", 1);
			break;
		case OPT_BACKFILL_DAYS:
			o->replay.backfill_days = (unsigned)cli_count(
			    usage_text, optarg, "--backfill-days", 0, 3650);
			break;
		case OPT_BUDGET:
			o->replay.budget = (size_t)cli_count(usage_text, optarg,
			    "--budget", 0, 10000000);
			break;
		case OPT_INTERVAL:
			o->interval = optarg;
			break;
		case OPT_JOBS:
			o->replay.jobs = (unsigned)cli_count(usage_text, optarg,
			    "--jobs", 1, 1024);
			break;
		case OPT_QUICK:
			quick = 1;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_KEEP:
			o->keep = optarg;
			break;
		case OPT_LOOK_AHEAD:
			o->replay.look_ahead_s = cli_duration_s(usage_text,
			    optarg, "--look-ahead", 60);
			break;
		case OPT_MIN_PROB:
			o->replay.min_probability = cli_number(usage_text,
			    optarg, "--min-probability", 0.001, 1);
			break;
		case OPT_SOURCE:
			o->source = optarg;
			break;
		case OPT_PLOT:
			o->plot = optarg;
			break;
		case OPT_REPORT:
			o->report = optarg;
			break;
		case OPT_STRATEGY:
			strategy_list(o, optarg);
			break;
		case OPT_TRACE:
			o->trace = optarg;
			break;
		case OPT_INSTRUMENTS:
			o->gen.instruments = optarg;
			break;
		case OPT_RATE:
			o->gen.rate_per_hour = (double)cli_count(usage_text,
			    optarg, "--rate", 1, 10000000);
			break;
		case OPT_SEED:
			o->gen.seed = cli_count(usage_text, optarg, "--seed", 0,
			    UINT64_MAX);
			break;
		case OPT_START:
			o->gen.start_s = start_date(optarg);
			break;
		case OPT_TRUTH:
			o->truth = optarg;
			break;
		case OPT_WIDE:
			o->gen.wide = 1;
			break;
		case OPT_VERSION:
			printf("cw-bench (cachewarm) %s\n", CW_VERSION);
			exit(0);
		case OPT_WEEKS:
			o->gen.weeks = (unsigned)cli_count(usage_text, optarg,
			    "--weeks", 1, 520);
			break;
		default:
			cli_misuse(usage_text, NULL);
		}
	}
	if (quick && live)
		cli_misuse(usage_text, "--quick and --live do not combine");
	if ((quick || live) && optind < argc)
		cli_misuse(usage_text, "--%s takes no command", quick ? "quick" :
		    "live");
	if (!quick && !live && optind >= argc && o->duration_s == 0)
		cli_misuse(usage_text, "no command: generate, replay, quick or "
		    "live, or the benchmark's --duration DUR");
	o->cmd = quick ? CMD_QUICK : live ? CMD_LIVE : optind >= argc ?
	    CMD_BENCH : cli_command(usage_text, argv[optind],
	    (const char *const[]){ "generate", "replay", "quick", "live",
	    NULL });
	if (!quick && !live && optind + 1 < argc)
		cli_misuse(usage_text,
		    "unexpected argument '%s'", argv[optind + 1]);
	if (o->cmd != CMD_REPLAY && o->cmd != CMD_BENCH && (o->plot != NULL ||
	    o->report != NULL))
		cli_misuse(usage_text, "--%s goes with replay", o->plot != NULL ?
		    "plot" : "report");
	if (o->cmd == CMD_BENCH && (o->trace != NULL || o->truth != NULL))
		cli_misuse(usage_text, "--%s: the benchmark makes its own "
		    "workload", o->trace != NULL ? "trace" : "truth");
	if (o->cmd == CMD_QUICK && (generate_only || o->trace != NULL ||
	    o->keep != NULL || o->source != NULL || o->output != NULL ||
	    o->interval != NULL || o->duration_s != 0))
		cli_misuse(usage_text, "--quick takes -c and --key only");
	if (o->cmd == CMD_LIVE && (generate_only || o->trace != NULL ||
	    o->keep != NULL || o->source != NULL || o->key != NULL))
		cli_misuse(usage_text, "--live takes -c, -o, --interval and "
		    "--duration only");
	if (o->cmd != CMD_LIVE && o->cmd != CMD_BENCH && o->duration_s != 0)
		cli_misuse(usage_text, "--duration goes with --live, or alone "
		    "for the benchmark");
	if (o->cmd == CMD_LIVE) {
		o->live_interval_s = o->interval == NULL ? 1 :
		    cli_duration_s(usage_text, o->interval, "--interval", 1);
		/* The screen for a terminal, lines for a file or a pipe. */
		o->live_form = isatty(STDOUT_FILENO) ? CW_VIEW_SCREEN :
		    CW_VIEW_TSV;
		if (o->output != NULL && cw_view_form_parse(o->output,
		    &o->live_form) != CW_OK)
			cli_misuse(usage_text, "--live: unknown output format "
			    "'%s' (use screen, tsv or json)", o->output);
	} else {
		if (o->interval != NULL)
			o->replay.interval_s = cli_duration_s(usage_text,
			    o->interval, "--interval", 60);
		/* The benchmark's --output is the file of its JSON. */
		if (o->output != NULL && o->cmd != CMD_BENCH)
			o->format = cli_output_format(usage_text,
			    strcmp(o->output, "table") == 0 ? "tsv" : o->output,
			    0);
	}
	if (o->cmd == CMD_GENERATE && replay_only)
		cli_misuse(usage_text, "generate takes none of replay's "
		    "options");
	if (o->cmd == CMD_REPLAY && generate_only)
		cli_misuse(usage_text, "replay takes none of generate's "
		    "options");
	if (o->cmd == CMD_REPLAY && o->trace == NULL)
		cli_misuse(usage_text, "replay needs --trace FILE");
}

/* The workload of o->gen as ts,key lines into out (and the truth into
 * --truth's file): an exit status. */
static int
generate_into(const struct opts *o, FILE *out)
{
	struct cw_workload *w;
	struct cw_buf minute = { 0 }, truth = { 0 };
	struct cw_err e;
	FILE *tf = NULL;
	int rc, status = 0;

	if ((rc = cw_workload_open(&w, &o->gen, &e)) != CW_OK) {
		if (rc == CW_EUSAGE)
			cli_misuse(usage_text, "%s", e.msg);
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	if (o->truth != NULL && (tf = fopen(o->truth, "we")) == NULL) {
		warn("%s", o->truth);
		cw_workload_close(w);
		return EX_CANTCREAT;
	}
	for (;;) {
		if (tf != NULL && ((rc = cw_workload_truth(w, &truth, &e)) !=
		    CW_OK || fwrite(truth.data ? truth.data : "", 1, truth.len,
		    tf) != truth.len))
			break;
		if ((rc = cw_workload_next(w, &minute, &e)) != CW_OK)
			break;
		if (minute.len > 0 &&
		    fwrite(minute.data, 1, minute.len, out) != minute.len)
			break;
	}
	cw_workload_close(w);
	cw_buf_free(&minute);
	cw_buf_free(&truth);
	if (rc != CW_OK && rc != CW_ENOTFOUND) {
		warnx("%s", e.msg);
		status = cw_exit_code(rc);
	}
	if (tf != NULL && (ferror(tf) | fclose(tf)) != 0 && status == 0) {
		warn("%s", o->truth);
		status = EX_IOERR;
	}
	return status;
}

static int
generate(const struct opts *o)
{
	return generate_into(o, stdout);
}

/* ---- replay ---- */

/* A line on a terminal's stderr, rewritten in place; nothing otherwise. */
static void
on_progress(void *ctx, int strategy, double share)
{
	(void)ctx;
	fprintf(stderr, "\rcw-bench: replaying %-13s %3.0f%%",
	    cw_strategy_name(strategy), 100 * share);
}

static int
load_levels(struct opts *o, struct cw_cfg *cfg)
{
	struct cw_err e;
	int rc;

	if ((rc = cw_cfg_load(cfg, o->config, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	/* The embedded default's CSV sample cannot answer a workload: the
	 * replay brings its own source then, and says so. */
	if ((o->cmd == CMD_REPLAY || o->cmd == CMD_BENCH) && o->source == NULL &&
	    cfg->loaded_from[0] == '\0' && getenv("CW_SOURCE") == NULL)
		o->source = SYNTHETIC_SOURCE;
	if (o->source != NULL) {
		if (strlen(o->source) >= sizeof(cfg->source))
			cli_misuse(usage_text, "--source: too long");
		strcpy(cfg->source, o->source);
	}
	return 0;
}

/* Where temporary files go: $TMPDIR, else /tmp. */
static const char *
tmp_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp";
}

/* The directory of the L1 files: --keep's, else a temporary one. */
static int
scratch_dir(const struct opts *o, char *dir, size_t cap)
{

	if (o->keep != NULL) {
		if (mkdir(o->keep, 0700) != 0 && errno != EEXIST) {
			warn("%s", o->keep);
			return 73;
		}
		snprintf(dir, cap, "%s", o->keep);
		return 0;
	}
	snprintf(dir, cap, "%s/cw-bench.XXXXXX", tmp_dir());
	if (mkdtemp(dir) == NULL) {
		warn("%s", dir);
		return 73;
	}
	return 0;
}

/* The temporary directory's files, named before the replay starts, so
 * that an interrupted replay removes them too: unlink and rmdir are
 * safe in a signal handler. Set once, before the handler is. */
static char scratch_files[CW_STRATEGY_COUNT + 2][CW_PATH_MAX + 32];
static size_t nscratch;

static void
remove_scratch(void)
{
	for (size_t i = 0; i + 1 < nscratch; i++)
		(void)unlink(scratch_files[i]);
	if (nscratch > 0)
		(void)rmdir(scratch_files[nscratch - 1]);
}

static void
on_signal(int sig)
{
	remove_scratch();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
plan_scratch(const struct opts *o, const char *dir)
{
	struct sigaction sa;

	if (o->keep != NULL)
		return;
	for (size_t i = 0; i < o->nstrategies; i++)
		snprintf(scratch_files[nscratch++], sizeof(scratch_files[0]),
		    "%s/%s.l1", dir, cw_strategy_name(o->strategies[i]));
	if (o->cmd == CMD_BENCH)
		snprintf(scratch_files[nscratch++], sizeof(scratch_files[0]),
		    "%s/" BENCH_TRACE, dir);
	snprintf(scratch_files[nscratch++], sizeof(scratch_files[0]), "%s",
	    dir);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* --report: the table and the targets, for people, into a file whole. */
static int
report(const struct opts *o, const struct cw_trace *t,
    const struct cw_cfg *cfg, const struct cw_replay_result *r, size_t n,
    uint64_t lru, uint64_t belady)
{
	struct cw_buf text = { 0 };
	struct cw_err e;
	int rc;

	if ((rc = cw_replay_format(r, n, t, cfg->l1_max_entries, lru, belady,
	    CW_FORMAT_TSV, &text, &e)) == CW_OK)
		rc = cw_fs_write_whole(o->report, text.data, text.len, 0644,
		    &e);
	cw_buf_free(&text);
	if (rc != CW_OK) {
		warnx("--report: %s", e.msg);
		return cw_exit_code(rc);
	}
	return 0;
}

/* --plot: the charts' data and script into the directory, then gnuplot
 * run on it. */
static int
plot(const struct opts *o, const struct cw_cfg *cfg,
    const struct cw_replay_result *r, size_t n)
{
	extern char **environ;
	char path[CW_CFG_STR], script[CW_PATH_MAX + 16];
	char *argv[] = { "gnuplot", script, NULL };
	struct cw_calendar *cal;
	struct cw_err e;
	pid_t pid;
	int rc, st;

	if (mkdir(o->plot, 0755) != 0 && errno != EEXIST) {
		warn("--plot %s", o->plot);
		return 73;
	}
	cw_cfg_warm_path(cfg, 'c', path);
	if ((rc = cw_calendar_load(&cal, path, getenv("TZDIR"), &e)) ==
	    CW_OK) {
		rc = cw_replay_plot_files(r, n, cal, o->plot, &e);
		cw_calendar_free(cal);
	}
	if (rc != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	snprintf(script, sizeof(script), "%s/plots.gp", o->plot);
	if ((rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv,
	    environ)) != 0) {
		warnx("--plot: cannot run gnuplot (%s); the data and "
		    "plots.gp are in %s", strerror(rc), o->plot);
		return 69;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		warnx("--plot: gnuplot %s failed", script);
		return 70;
	}
	return 0;
}

/* The benchmark's workload, generated into the scratch directory as
 * the trace to replay: an exit status. */
static int
bench_workload(struct opts *o, const char *dir, char *path, size_t cap)
{
	FILE *f;
	int status;

	snprintf(path, cap, "%s/" BENCH_TRACE, dir);
	if ((f = fopen(path, "we")) == NULL) {
		warn("%s", path);
		return EX_CANTCREAT;
	}
	status = generate_into(o, f);
	if ((ferror(f) | fclose(f)) != 0 && status == 0) {
		warn("%s", path);
		status = EX_IOERR;
	}
	o->trace = path;
	return status;
}

/* The figures: the table on stdout; the benchmark's JSON into its
 * --output file, replay's in the format -o names. */
static int
replay_output(const struct opts *o, const struct cw_replay_result *r,
    size_t n, const struct cw_trace *t, const struct cw_cfg *cfg,
    uint64_t lru, uint64_t belady)
{
	struct cw_buf out = { 0 };
	struct cw_err e;
	int rc, status = 0;

	if ((rc = cw_replay_format(r, n, t, cfg->l1_max_entries, lru, belady,
	    o->cmd == CMD_BENCH ? CW_FORMAT_TSV : o->format, &out, &e)) !=
	    CW_OK) {
		warnx("%s", e.msg);
		status = cw_exit_code(rc);
	} else if (fwrite(out.data, 1, out.len, stdout) != out.len)
		status = 74;
	out.len = 0;
	if (status == 0 && o->cmd == CMD_BENCH && o->output != NULL &&
	    ((rc = cw_replay_format(r, n, t, cfg->l1_max_entries, lru, belady,
	    CW_FORMAT_JSON, &out, &e)) != CW_OK ||
	    (rc = cw_fs_write_whole(o->output, out.data, out.len, 0644,
	    &e)) != CW_OK)) {
		warnx("--output: %s", e.msg);
		status = cw_exit_code(rc);
	}
	cw_buf_free(&out);
	return status;
}

static int
replay(struct opts *o)
{
	struct cw_replay_result r[CW_STRATEGY_COUNT];
	struct cw_trace *t = NULL;
	struct cw_cfg *cfg = NULL;
	char dir[CW_PATH_MAX] = "", trace[CW_PATH_MAX + 32];
	uint64_t lru = 0, belady = 0;
	struct cw_err e;
	size_t done = 0;
	struct cw_clock clock = cw_clock_system();
	int64_t started_ns = cw_clock_elapsed_ns(&clock);
	int status, rc = CW_OK;

	memset(r, 0, sizeof(r));
	if ((cfg = malloc(sizeof(*cfg))) == NULL)
		errx(71, "out of memory");
	if ((status = load_levels(o, cfg)) != 0 ||
	    (status = scratch_dir(o, dir, sizeof(dir))) != 0)
		goto out;
	plan_scratch(o, dir);
	if (o->cmd == CMD_BENCH &&
	    (status = bench_workload(o, dir, trace, sizeof(trace))) != 0)
		goto out;
	if ((rc = cw_trace_load(&t, o->trace, &e)) != CW_OK) {
		warnx("%s", e.msg);
		status = cw_exit_code(rc);
		goto out;
	}
	o->replay.cfg = cfg;
	o->replay.dir = dir;
	o->replay.keep_l2 = o->keep != NULL;
	o->replay.on_degraded = cli_degraded;
	if (isatty(2))
		o->replay.on_progress = on_progress;
	/* The benchmark form has its --duration for all the strategies. */
	if ((rc = cw_replay_run_all(&o->replay, t, o->strategies,
	    o->nstrategies, &clock, o->cmd == CMD_BENCH ? started_ns +
	    o->duration_s * 1000000000 : 0, r, &done, &e)) != CW_OK) {
		if (o->replay.on_progress != NULL)
			fputc('\n', stderr);
		warnx("%s: %s", cw_strategy_name(o->strategies[done]), e.msg);
		status = cw_exit_code(rc);
		goto out;
	}
	if (o->replay.on_progress != NULL)
		fputs("\r\033[K", stderr);
	if ((rc = cw_trace_offline(t, cfg->l1_max_entries, &lru, &belady,
	    &e)) != CW_OK) {
		warnx("%s", e.msg);
		status = cw_exit_code(rc);
		goto out;
	}
	status = replay_output(o, r, done, t, cfg, lru, belady);
	if (status == 0 && o->report != NULL)
		status = report(o, t, cfg, r, done, lru, belady);
	if (status == 0 && o->plot != NULL)
		status = plot(o, cfg, r, done);
out:
	remove_scratch();
	for (size_t i = 0; i < CW_STRATEGY_COUNT; i++)
		free(r[i].hourly);
	cw_trace_free(t);
	free(cfg);
	return status;
}

/* ---- quick ---- */

static int
quick_check(struct opts *o)
{
	struct cw_cfg *cfg = malloc(sizeof(*cfg));
	char scratch[CW_PATH_MAX];
	struct cw_buf report = { 0 };
	struct cw_err e;
	int status, fd, passed;

	if (cfg == NULL)
		errx(71, "out of memory");
	if ((status = load_levels(o, cfg)) != 0)
		goto out;
	snprintf(scratch, sizeof(scratch), "%s/cw-bench-quick.XXXXXX",
	    tmp_dir());
	/* A name of our own; the L1 file is made in its place. */
	if ((fd = mkstemp(scratch)) < 0) {
		warn("%s", scratch);
		status = 73;
		goto out;
	}
	close(fd);
	(void)unlink(scratch);
	if (cw_quick_run(cfg, cw_clock_system(), scratch, o->key != NULL ?
	    o->key : QUICK_KEY, &report, &passed, &e) != CW_OK) {
		warnx("%s", e.msg);
		status = cw_exit_code(e.code);
		goto out;
	}
	if (fwrite(report.data, 1, report.len, stdout) != report.len)
		status = 74;
	else
		status = !passed;
out:
	cw_buf_free(&report);
	free(cfg);
	return status;
}

/* ---- live ---- */

static void
sleep_until(struct cw_clock *clock, int64_t at_ns)
{
	int64_t left;

	while ((left = at_ns - cw_clock_elapsed_ns(clock)) > 0) {
		struct timespec ts = { left / 1000000000, left % 1000000000 };

		nanosleep(&ts, NULL);
	}
}

/* A line (or a screen) every interval from the shared counters and the
 * journal, until the duration is over or the reader goes away. */
static int
live(struct opts *o)
{
	struct cw_clock clock = cw_clock_system();
	struct cw_view_snap *snap[2];
	struct cw_view_line *line;
	struct cw_l1_opts lo = { 0 };
	struct cw_cfg *cfg = malloc(sizeof(*cfg));
	struct cw_buf out = { 0 };
	struct cw_l1 *l1 = NULL;
	char journal[CW_CFG_STR];
	struct cw_err e;
	int64_t start, step = o->live_interval_s * 1000000000;
	int rc, status = 0;

	snap[0] = malloc(sizeof(*snap[0]));
	snap[1] = malloc(sizeof(*snap[1]));
	line = malloc(sizeof(*line));
	if (cfg == NULL || snap[0] == NULL || snap[1] == NULL || line == NULL)
		errx(71, "out of memory");
	if ((rc = cw_cfg_load(cfg, o->config, &e)) == CW_OK) {
		cw_cfg_l1_opts(cfg, clock, &lo);
		/* It only reads the header: a monitoring user will do. */
		lo.must_exist = 1;
		lo.read_only = 1;
		cw_cfg_warm_path(cfg, 'j', journal);
		rc = cw_l1_open(&l1, &lo, &e);
	}
	if (rc == CW_OK)
		rc = cw_view_snap(l1, journal, clock, snap[0], &e);
	if (rc != CW_OK) {
		warnx("%s", e.msg);
		status = cw_exit_code(rc);
		goto out;
	}
	cw_view_header(o->live_form, &out);
	start = snap[0]->at_ns;
	for (int64_t n = 1; o->duration_s == 0 ||
	    n * o->live_interval_s <= o->duration_s; n++) {
		sleep_until(&clock, start + n * step);
		if ((rc = cw_view_snap(l1, journal, clock, snap[n & 1],
		    &e)) != CW_OK || (rc = cw_view_delta(snap[!(n & 1)],
		    snap[n & 1], line, &e)) != CW_OK) {
			warnx("%s", e.msg);
			status = cw_exit_code(rc);
			break;
		}
		cw_view_render(line, o->live_form, &out);
		/* A reader gone (a closed pipe): stop quietly. */
		if (fwrite(out.data, 1, out.len, stdout) != out.len ||
		    fflush(stdout) != 0)
			break;
		out.len = 0;
	}
out:
	cw_l1_close(l1);
	cw_buf_free(&out);
	free(snap[0]);
	free(snap[1]);
	free(line);
	free(cfg);
	return status;
}

int
main(int argc, char *argv[])
{
	struct opts o;

	cli_start();
	parse_args(argc, argv, &o);
	return cli_finish_stdout(o.cmd == CMD_REPLAY || o.cmd == CMD_BENCH ?
	    replay(&o) :
	    o.cmd == CMD_QUICK ? quick_check(&o) : o.cmd == CMD_LIVE ?
	    live(&o) : generate(&o));
}
