/*
 * cw-warm: fill L1 and L2 ahead of the reads, from keys on the command
 * line or stdin (cw-predict's TSV included), from the trading sessions
 * about to open, or from the saved predictor; report each key, keep a
 * journal of the run, and show or resume a run from it.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cw.h"
#include "cli.h"

enum strategy { ST_ON_DEMAND, ST_MARKET_OPEN, ST_PREDICTIVE, ST_PATTERN,
	ST_BACKGROUND };

static const char *const strategy_names[] = { "on_demand", "market_open",
	"predictive", "pattern", "background" };

struct opts {
	const char *config;
	const char *l1_file;
	enum cw_format format;
	unsigned jobs;			/* 0: the config's */
	double max_rate;
	int64_t deadline_ms;		/* 0: the config's */
	int64_t lead_s;
	int64_t look_ahead_s;
	double min_probability;
	int at_given;
	int64_t at_s;
	const char *session;		/* NULL, a name or "auto" */
	enum strategy strategy;
	int dry_run, force, refresh, drop, verbose;
	const char *spread;		/* --spread's host name, or NULL */
	char host[256];
	int status, resume, optimize;
	int refresh_ahead;		/* --refresh-ahead */
	double below;			/* its share of a lifetime left */
	int check, wait;		/* --check, --wait */
	int look_ahead_given;
	double min_coverage, warn_coverage;	/* warn < 0: min's */
	int64_t interval_s;
	const char *run_id;		/* --status ID, --resume ID */
	char **keys;
	int nkeys;
};

static const char usage_text[] =
    "usage: cw-warm [-hnv] [-c file] [-f l1file] [-j jobs] [-o format] "
    "[--at time] [--deadline dur]\n"
    "               [--force] [--lead dur] [--max-rate n] "
    "[--session name|auto] [--spread[=host]]\n"
    "               [--strategy name] [key ... | -]\n"
    "       cw-warm --refresh key ...\n"
    "       cw-warm --drop key ...\n"
    "       cw-warm --optimize\n"
    "       cw-warm --refresh-ahead [--below share] [--max-rate n]\n"
    "       cw-warm --check|--wait [--at time] [--look-ahead dur] "
    "[--min-coverage c] [--warn-coverage c] [--interval dur]\n"
    "       cw-warm --status [id]\n"
    "       cw-warm --resume id\n";

static void
help(void)
{
	fputs(usage_text, stdout);
	printf("Fill the cache ahead of the reads: keys, \"-\" for stdin "
	    "(keys or cw-predict's TSV),\nthe sessions about to open, or the "
	    "saved forecast.\n\n"
	    "  -c, --config FILE      configuration file\n"
	    "  -f, --l1-file FILE     the L1 file (default: from the config)\n"
	    "  -h, --help             print this help and exit\n"
	    "  -j, --jobs N           fetches in flight (default: warm.jobs, "
	    "5)\n"
	    "  -n, --dry-run          print what would be warmed; fetch "
	    "nothing\n"
	    "  -o, --output FORMAT    tsv or json (default tsv)\n"
	    "  -v, --verbose          say which sessions and how many keys\n"
	    "      --at TIME          the moment to plan for (default now), "
	    "UTC\n"
	    "      --check            how warm the next window's forecast "
	    "reads are (a monitoring plugin)\n"
	    "      --deadline DUR     bound of the run (default: "
	    "warm.deadline, 10m)\n"
	    "      --below SHARE      --refresh-ahead: refetch below this "
	    "share of a lifetime left (default 0.25)\n"
	    "      --drop             remove the keys from L1 and L2\n"
	    "      --force            re-read fresh keys from the source too\n"
	    "      --interval DUR     --wait: look again this often (default "
	    "10s)\n"
	    "      --lead DUR         --session auto: opens this far ahead "
	    "(default 30m)\n"
	    "      --look-ahead DUR   predictive, pattern: the forecast "
	    "window (default 2h)\n"
	    "      --max-rate N       at most N keys started a second "
	    "(default: no cap)\n"
	    "      --min-coverage C   --check: CRITICAL below C of the reads "
	    "warm (default 0.95)\n"
	    "      --min-probability P  predictive: the floor (default 0.5)\n"
	    "      --optimize         promote into L1 what L2 keeps "
	    "answering; reclaim expired L1 entries\n"
	    "      --refresh          re-read the keys from the source, "
	    "overwriting every level\n"
	    "      --refresh-ahead    refetch what was read and is running "
	    "out, before it expires (cron: every minute)\n"
	    "      --resume ID        finish what run ID left\n"
	    "      --session NAME     warm a session's keys: sydney, tokyo, "
	    "london, newyork, or auto\n"
	    "      --spread[=HOST]    start with this host's share of the keys "
	    "(rendezvous order by\n"
	    "                         HOST, default the host name): hosts "
	    "warming the same keys\n"
	    "                         wait less on each other\n"
	    "      --status [ID]      show run ID (default: the last run)\n"
	    "      --strategy NAME    on_demand, market_open, predictive, "
	    "pattern, background\n"
	    "      --version          print the version and exit\n"
	    "      --wait             --check until the coverage is reached "
	    "or the deadline passes\n"
	    "      --warn-coverage C  --check: WARNING below C (default: "
	    "--min-coverage)\n"
	    "\nOutput: key, result (warmed fresh refreshed dropped failed "
	    "expired), levels filled, ms, error.\n"
	    "Exit: 0 all done or fresh, 1 some key not found, 2 usage, 65 "
	    "malformed input, 69 source down,\n74 I/O error, 75 critical "
	    "keys not done by the deadline (or any expired), 78 bad "
	    "config.\n"
	    "--check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no model, "
	    "nothing forecast, or bad arguments).\n");
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	enum { OPT_AT = 256, OPT_BELOW, OPT_CHECK, OPT_DEADLINE, OPT_DROP, OPT_FORCE,
	    OPT_INTERVAL, OPT_LEAD, OPT_LOOK_AHEAD, OPT_MAX_RATE,
	    OPT_MIN_COVERAGE, OPT_MIN_PROB, OPT_OPTIMIZE, OPT_REFRESH,
	    OPT_REFRESH_AHEAD,
	    OPT_RESUME, OPT_SESSION, OPT_SPREAD, OPT_STATUS, OPT_STRATEGY,
	    OPT_VERSION,
	    OPT_WAIT, OPT_WARN_COVERAGE };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "l1-file", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "at", required_argument, NULL, OPT_AT },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "min-coverage", required_argument, NULL, OPT_MIN_COVERAGE },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "warn-coverage", required_argument, NULL, OPT_WARN_COVERAGE },
		{ "deadline", required_argument, NULL, OPT_DEADLINE },
		{ "drop", no_argument, NULL, OPT_DROP },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "lead", required_argument, NULL, OPT_LEAD },
		{ "look-ahead", required_argument, NULL, OPT_LOOK_AHEAD },
		{ "max-rate", required_argument, NULL, OPT_MAX_RATE },
		{ "min-probability", required_argument, NULL, OPT_MIN_PROB },
		{ "optimize", no_argument, NULL, OPT_OPTIMIZE },
		{ "below", required_argument, NULL, OPT_BELOW },
		{ "refresh", no_argument, NULL, OPT_REFRESH },
		{ "refresh-ahead", no_argument, NULL, OPT_REFRESH_AHEAD },
		{ "resume", required_argument, NULL, OPT_RESUME },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "spread", optional_argument, NULL, OPT_SPREAD },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct cw_err e;
	int c, modes;

	memset(o, 0, sizeof(*o));
	o->format = CW_FORMAT_TSV;
	o->lead_s = 30 * 60;
	o->look_ahead_s = 2 * 3600;
	o->min_probability = 0.5;
	o->min_coverage = 0.95;
	o->warn_coverage = -1;
	o->interval_s = 10;
	o->below = -1;
	while ((c = getopt_long(argc, argv, "c:f:hj:no:v", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->l1_file = optarg;
			break;
		case 'h':
			help();
			exit(0);
		case 'j':
			o->jobs = (unsigned)cli_count(usage_text, optarg, "-j",
			    1, 1024);
			break;
		case 'n':
			o->dry_run = 1;
			break;
		case 'o':
			o->format = cli_output_format(usage_text, optarg, 0);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_AT:
			if (cw_cal_parse_utc(optarg, &o->at_s, &e) != CW_OK)
				cli_misuse(usage_text, "--at %s", e.msg);
			o->at_given = 1;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_WAIT:
			o->check = o->wait = 1;
			break;
		case OPT_INTERVAL:
			if ((o->interval_s = cli_duration_s(usage_text, optarg,
			    "--interval", 0)) <= 0)
				cli_misuse(usage_text,
				    "--interval: a second or more");
			break;
		case OPT_MIN_COVERAGE:
			o->min_coverage = cli_number(usage_text, optarg,
			    "--min-coverage", 0, 1);
			break;
		case OPT_WARN_COVERAGE:
			o->warn_coverage = cli_number(usage_text, optarg,
			    "--warn-coverage", 0, 1);
			break;
		case OPT_DEADLINE:
			o->deadline_ms = cli_duration_s(usage_text, optarg,
			    "--deadline", 0) *
			    1000;
			if (o->deadline_ms <= 0)
				cli_misuse(usage_text,
				    "--deadline: a second or more");
			break;
		case OPT_DROP:
			o->drop = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_LEAD:
			o->lead_s = cli_duration_s(usage_text, optarg,
			    "--lead", 0);
			break;
		case OPT_LOOK_AHEAD:
			if ((o->look_ahead_s = cli_duration_s(usage_text, optarg,
			    "--look-ahead", 0)) <= 0)
				cli_misuse(usage_text,
				    "--look-ahead: a second or more");
			o->look_ahead_given = 1;
			break;
		case OPT_MAX_RATE:
			o->max_rate = cli_number(usage_text, optarg,
			    "--max-rate", 0.001, 1e6);
			break;
		case OPT_MIN_PROB:
			o->min_probability = cli_number(usage_text, optarg,
			    "--min-probability", 0, 1);
			break;
		case OPT_OPTIMIZE:
			o->optimize = 1;
			break;
		case OPT_REFRESH:
			o->refresh = 1;
			break;
		case OPT_REFRESH_AHEAD:
			o->refresh_ahead = 1;
			break;
		case OPT_BELOW:
			o->below = cli_number(usage_text, optarg, "--below", 0,
			    1);
			break;
		case OPT_RESUME:
			o->resume = 1;
			o->run_id = optarg;
			break;
		case OPT_SESSION:
			o->session = optarg;
			break;
		case OPT_SPREAD:
			if (optarg != NULL && *optarg == '\0')
				cli_misuse(usage_text, "--spread=: an empty "
				    "host name");
			if (optarg == NULL && gethostname(o->host,
			    sizeof(o->host) - 1) != 0)
				cli_misuse(usage_text, "--spread: no host "
				    "name (%s); give one", strerror(errno));
			o->spread = optarg != NULL ? optarg : o->host;
			break;
		case OPT_STATUS:
			o->status = 1;
			break;
		case OPT_STRATEGY:
			for (c = 0; c < 5; c++)
				if (strcmp(optarg, strategy_names[c]) == 0)
					break;
			if (c == 5)
				cli_misuse(usage_text, "--strategy '%s': one of "
				    "on_demand, market_open, predictive, "
				    "pattern, background", optarg);
			o->strategy = (enum strategy)c;
			break;
		case OPT_VERSION:
			printf("cw-warm (cachewarm) %s\n", CW_VERSION);
			exit(0);
		default:
			cli_misuse(usage_text, NULL);
		}
	}
	o->keys = argv + optind;
	o->nkeys = argc - optind;
	modes = o->refresh + o->drop + o->status + o->resume + o->optimize +
	    o->check + o->refresh_ahead;
	if (modes > 1)
		cli_misuse(usage_text, "--refresh, --drop, --optimize, "
		    "--refresh-ahead, --status, --resume and --check do not "
		    "combine");
	if (o->refresh_ahead && (o->nkeys > 0 || o->session != NULL))
		cli_misuse(usage_text, "--refresh-ahead takes no keys: it "
		    "reads L1's");
	if (o->below >= 0 && !o->refresh_ahead)
		cli_misuse(usage_text, "--below goes with --refresh-ahead");
	if (o->below < 0)
		o->below = 0.25;
	if (o->check && (o->nkeys > 0 || o->session != NULL))
		cli_misuse(usage_text, "--check takes no keys: it reads the "
		    "forecast");
	if (o->check && !o->look_ahead_given)
		o->look_ahead_s = 3600;
	if (o->warn_coverage < 0)
		o->warn_coverage = o->min_coverage;
	if (o->warn_coverage < o->min_coverage)
		cli_misuse(usage_text, "--warn-coverage is below "
		    "--min-coverage");
	if (o->optimize && (o->nkeys > 0 || o->session != NULL))
		cli_misuse(usage_text, "--optimize takes no keys");
	if (o->status && o->nkeys > 1)
		cli_misuse(usage_text, "--status takes one run id");
	if (o->status && o->nkeys == 1) {
		o->run_id = o->keys[0];
		o->nkeys = 0;
	}
	if ((o->status || o->resume) && (o->nkeys > 0 || o->session != NULL))
		cli_misuse(usage_text, "--status and --resume take no keys");
	if ((o->refresh || o->drop) && (o->nkeys == 0 || o->session != NULL))
		cli_misuse(usage_text, "--refresh and --drop need keys");
	if (o->strategy == ST_MARKET_OPEN && o->session == NULL)
		o->session = "auto";
	if (modes == 0 && o->nkeys == 0 && o->session == NULL &&
	    o->strategy != ST_PREDICTIVE && o->strategy != ST_PATTERN)
		cli_misuse(usage_text, "nothing to warm: keys, -, --session "
		    "or --strategy");
}

/* ---- what to warm ---- */

/* The plan, and what reading the inputs came to. */
struct plan {
	struct cw_warm_plan p;
	int status;
};

/* One key or input line into the plan; a bad one is said and counted. */
static void
add_line(struct plan *p, const char *line, size_t len, int prio,
    unsigned flags, const char *where)
{
	struct cw_err e;
	int rc;

	if ((rc = cw_warm_plan_line(&p->p, line, len, prio, flags, &e)) ==
	    CW_ENOMEM)
		errx(EX_OSERR, "%s", e.msg);
	if (rc != CW_OK) {
		warnx("%s: %s", where, e.msg);
		p->status = cw_exit_worse(p->status, EX_DATAERR);
	}
}

static int
default_prio(const struct opts *o)
{
	return o->strategy == ST_BACKGROUND ? CW_PRIO_LOW :
	    o->strategy == ST_PATTERN ? CW_PRIO_MEDIUM : CW_PRIO_HIGH;
}

static void
read_stdin(struct plan *p, const struct opts *o)
{
	struct cw_lines in = { .fd = 0 };
	struct cw_err e;
	const char *line;
	char where[32];
	size_t len, lineno = 0;
	int rc;

	for (;;) {
		while (cw_lines_next(&in, &line, &len)) {
			lineno++;
			if (cli_not_a_key(line, len))
				continue;
			snprintf(where, sizeof(where), "stdin:%zu", lineno);
			add_line(p, line, len, default_prio(o), 0, where);
		}
		if ((rc = cw_lines_fill(&in, &e)) == CW_ENOTFOUND)
			break;
		if (rc != CW_OK) {
			warnx("stdin: %s", e.msg);
			p->status = cw_exit_worse(p->status, EX_IOERR);
			break;
		}
	}
	cw_lines_free(&in);
}

static int
add_sessions(struct plan *p, const struct opts *o, const struct cw_cfg *cfg,
    int64_t at_s, int64_t now_ns)
{
	struct cw_cal_open open[CW_CAL_OPENS];
	struct cw_calendar *cal;
	char path[CW_CFG_STR], when[CW_CAL_UTC_LEN];
	struct cw_err e;
	size_t n;
	int rc;

	cw_cfg_warm_path(cfg, 'c', path);
	if ((rc = cw_calendar_load(&cal, path, getenv("TZDIR"), &e)) !=
	    CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	rc = cw_warm_plan_sessions(&p->p, cal, o->session, at_s, o->lead_s,
	    now_ns, open, CW_CAL_OPENS, &n, &e);
	if (rc != CW_OK)
		cw_calendar_free(cal);
	if (rc == CW_ENOTFOUND)
		cli_misuse(usage_text, "--session '%s': not in the calendar %s",
		    o->session, path);
	if (rc != CW_OK)
		errx(cw_exit_code(rc), "%s", e.msg);
	for (size_t i = 0; o->verbose && i < n; i++) {
		cw_cal_format_utc(open[i].open_s, when);
		warnx("%s %s %s %s", open[i].session->is_release ?
		    "release" : "session", open[i].session->name,
		    open[i].session->is_release ? "at" : "opens", when);
	}
	if (n == 0 && o->verbose)
		warnx("no session opens and nothing is released within the "
		    "lead");
	/* The openings point into it. */
	cw_calendar_free(cal);
	return 0;
}

/* The saved predictor's forecast for the look-ahead from at_s. */
static int
add_forecast(struct plan *p, const struct opts *o, const struct cw_cfg *cfg,
    int64_t at_s)
{
	struct cw_err e;
	int rc;

	if ((rc = cw_warm_plan_predicted(&p->p, cfg->predict_state, at_s,
	    o->look_ahead_s, o->strategy == ST_PREDICTIVE ?
	    o->min_probability : 0, o->strategy == ST_PATTERN ?
	    CW_PRIO_MEDIUM : -1, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return rc == CW_ENOTFOUND ? EX_NOINPUT : cw_exit_code(rc);
	}
	return 0;
}

/* --optimize, the seed's optimize_cache_levels (cw-warm(1)). */
static int
add_optimize(struct plan *p, const struct cw_cfg *cfg, int64_t at_s)
{
	uint64_t reclaimed;
	size_t promoted;
	struct cw_err e;
	int rc;

	if ((rc = cw_warm_plan_optimize(&p->p, cfg, at_s, cw_clock_system(),
	    &reclaimed, &promoted, &e)) != CW_OK)
		warnx("%s", e.msg);
	fprintf(stderr, "cw-warm: optimize: %llu expired L1 entries "
	    "reclaimed, %zu keys L2 kept answering to promote\n",
	    (unsigned long long)reclaimed, promoted);
	return rc == CW_OK ? 0 : cw_exit_code(rc);
}

/* --refresh-ahead: what L1 was read for, to be refetched if low. */
static int
add_refresh_ahead(struct plan *p, const struct opts *o,
    const struct cw_cfg *cfg, int64_t at_s)
{
	struct cw_err e;
	size_t n;
	int rc;

	if ((rc = cw_warm_plan_refresh_ahead(&p->p, cfg, at_s, &n, &e)) !=
	    CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	if (o->verbose)
		warnx("refresh-ahead: %zu keys read in the last %d minutes", n,
		    CW_REFRESH_RECENT_S / 60);
	return 0;
}

/* ---- output ---- */

struct out {
	const struct opts *o;
	struct cw_journal *journal;
	const char *run_id;
	struct cw_buf line;
	size_t done, total;
	int progress;		/* stderr is a terminal */
	int64_t shown_ns;
	struct cw_clock clock;
	int journal_failed;
};

static void
print_task(struct out *w, const struct cw_warm_task *t)
{
	w->line.len = 0;
	if (cw_warm_task_format(t, w->o->format, &w->line, NULL) == CW_OK)
		fwrite(w->line.data, 1, w->line.len, stdout);
}

static void
on_task(void *ctx, const struct cw_warm_task *t)
{
	struct out *w = ctx;
	struct cw_err e;
	int64_t now;

	print_task(w, t);
	fflush(stdout);
	if (w->journal != NULL && !w->journal_failed &&
	    cw_journal_task(w->journal, w->run_id, t->seq, t, &e) != CW_OK) {
		warnx("%s; the run goes on without it", e.msg);
		w->journal_failed = 1;
	}
	w->done++;
	if (!w->progress)
		return;
	now = cw_clock_elapsed_ns(&w->clock);
	if (now - w->shown_ns > 100000000 || w->done == w->total) {
		fprintf(stderr, "\rcw-warm: %zu/%zu keys", w->done, w->total);
		w->shown_ns = now;
	}
}

/* ---- readiness ---- */

/* --check and --wait: the monitoring plugin's line (or JSON), and its
 * status as the exit code. An error is UNKNOWN, said on the line. */
static int
readiness(const struct opts *o, const struct cw_cfg *cfg, int64_t at_s)
{
	struct cw_clock clock = cw_clock_system();
	int64_t deadline = cw_clock_elapsed_ns(&clock) + (o->deadline_ms > 0 ?
	    o->deadline_ms : cfg->warm_deadline_ms) * 1000000;
	/* A wait ends when the coverage is reached: no warning band. */
	double warn = o->wait ? o->min_coverage : o->warn_coverage;
	struct cw_buf line = { 0 };
	struct cw_ready r;
	struct cw_err e;
	int rc, status;

	for (;;) {
		if ((rc = cw_ready_measure(cfg, clock, cfg->predict_state, at_s,
		    o->look_ahead_s, &r, &e)) != CW_OK) {
			struct cw_err why = e;

			status = 3;
			rc = cw_ready_format_unknown(why.msg, o->format, &line,
			    &e);
			goto print;
		}
		status = cw_ready_status(&r, warn, o->min_coverage);
		if (!o->wait || status == 0 || cw_clock_elapsed_ns(&clock) +
		    o->interval_s * 1000000000 > deadline)
			break;
		if (o->verbose)
			fprintf(stderr, "cw-warm: %.1f%% warm, waiting for "
			    "%.1f%%\n", 100 * r.warm, 100 * o->min_coverage);
		cw_clock_sleep_ns(&clock, o->interval_s * 1000000000);
	}
	rc = cw_ready_format(&r, status, warn, o->min_coverage,
	    o->look_ahead_s, o->format, &line, &e);
print:
	if (rc != CW_OK)
		errx(EX_OSERR, "%s", e.msg);
	fwrite(line.data, 1, line.len, stdout);
	cw_buf_free(&line);
	return status;
}

/* ---- the run ---- */

static int
load_config(const struct opts *o, struct cw_cfg *cfg)
{
	struct cw_err e;
	int rc;

	if ((rc = cw_cfg_load(cfg, o->config, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	if (o->l1_file != NULL) {
		if (strlen(o->l1_file) >= sizeof(cfg->l1_file))
			cli_misuse(usage_text, "%s: path too long", o->l1_file);
		strcpy(cfg->l1_file, o->l1_file);
	}
	return 0;
}

/* The exit status of a run's totals. */
static int
status_of(const struct cw_warm_totals *tot)
{
	int status = 0;

	if (tot->not_found > 0)
		status = 1;
	if (tot->worst_rc != CW_OK)
		status = cw_exit_worse(status, cw_exit_code(tot->worst_rc));
	if (tot->critical_left > 0 || tot->by_result[CW_WARM_EXPIRED] > 0)
		status = cw_exit_worse(status, EX_TEMPFAIL);
	if (tot->l1_rc != CW_OK)
		status = cw_exit_worse(status, cw_exit_code(tot->l1_rc));
	return status;
}

static void
summary(const struct cw_warm_totals *tot, size_t n, double secs,
    const char *id)
{
	size_t failed = tot->by_result[CW_WARM_FAILED];

	fprintf(stderr, "cw-warm: %zu keys: %zu warmed, %zu fresh, %zu "
	    "refreshed, %zu dropped, %zu failed, %zu expired in %.2f s "
	    "(%.0f keys/s)%s%s\n", n, tot->by_result[CW_WARM_WARMED],
	    tot->by_result[CW_WARM_FRESH], tot->by_result[CW_WARM_REFRESHED],
	    tot->by_result[CW_WARM_DROPPED], failed,
	    tot->by_result[CW_WARM_EXPIRED], secs, secs > 0 ? (double)n /
	    secs : 0, id != NULL ? ", run " : "", id != NULL ? id : "");
}

static void
dry_run(const struct cw_warm_opts *wo, struct plan *p)
{
	struct cw_err e;
	struct out w = { 0 };

	if (cw_warm_plan(wo, p->p.t, p->p.n, &e) != CW_OK)
		errx(cw_exit_code(e.code), "%s", e.msg);
	for (size_t i = 0; i < p->p.n; i++) {
		w.line.len = 0;
		cw_out_tsv_escape(&w.line, p->p.t[i].key, p->p.t[i].klen, NULL);
		printf("%.*s\t%s\t%s\n", (int)w.line.len, w.line.data,
		    p->p.t[i].result == CW_WARM_FRESH ? "fresh" :
		    p->p.t[i].result == CW_WARM_REFRESHED ? "refresh" :
		    p->p.t[i].result == CW_WARM_DROPPED ? "drop" : "warm",
		    cw_prio_name(p->p.t[i].prio));
	}
	cw_buf_free(&w.line);
}

/* A run id: when and which process, sortable and unique on the host. */
static void
make_id(char id[CW_WARM_ID_MAX], int64_t now_s)
{
	char t[CW_CAL_UTC_LEN];
	size_t j = 0;

	cw_cal_format_utc(now_s, t);
	for (size_t i = 0; t[i] != '\0' && j < 20; i++)
		if (t[i] != '-' && t[i] != ':')
			id[j++] = t[i];
	snprintf(id + j, CW_WARM_ID_MAX - j, "-%ld", (long)getpid());
}

static int
warm(const struct opts *o, struct cw_cfg *cfg, struct plan *p,
    const char *resume_id)
{
	struct cw_clock clock = cw_clock_system();
	struct cw_warm_opts wo = { 0 };
	struct cw_warm_totals tot;
	struct out w = { 0 };
	char id[CW_WARM_ID_MAX], path[CW_CFG_STR];
	int64_t t0 = cw_clock_elapsed_ns(&clock);
	struct cw_err e;
	int status = p->status, rc;

	wo.cfg = cfg;
	wo.clock = clock;
	wo.jobs = o->jobs > 0 ? o->jobs : cfg->warm_jobs;
	wo.max_rate = o->max_rate;
	wo.deadline_ns = t0 + (o->deadline_ms > 0 ? o->deadline_ms :
	    cfg->warm_deadline_ms) * 1000000;
	/* Refresh-ahead's share must outlast the time to its next run. */
	wo.refresh_below = o->refresh_ahead ? o->below :
	    cfg->warm_refresh_below;
	wo.force = o->force;
	wo.spread = o->spread;
	wo.on_task = on_task;
	wo.ctx = &w;
	wo.on_degraded = cli_degraded;
	if (o->dry_run) {
		dry_run(&wo, p);
		return status;
	}
	w.o = o;
	w.clock = clock;
	w.total = p->p.n;
	w.progress = isatty(2);
	if (resume_id != NULL)
		snprintf(id, sizeof(id), "%s", resume_id);
	else
		make_id(id, cw_clock_calendar_ns(&clock) / 1000000000);
	w.run_id = id;
	cw_cfg_warm_path(cfg, 'j', path);
	if ((rc = cw_journal_open(&w.journal, path, &e)) != CW_OK ||
	    (rc = cw_journal_begin(w.journal, id, cw_clock_calendar_ns(&clock) /
	    1000000000, &e)) != CW_OK) {
		warnx("%s; the run goes on without it", e.msg);
		status = cw_exit_worse(status, EX_IOERR);
		cw_journal_close(w.journal);
		w.journal = NULL;
	}
	for (size_t i = 0; w.journal != NULL && resume_id == NULL && i < p->p.n;
	    i++)
		if (cw_journal_plan(w.journal, id, p->p.t[i].seq, p->p.t[i].prio,
		    p->p.t[i].key, p->p.t[i].klen, &e) != CW_OK) {
			warnx("%s; the run goes on without it", e.msg);
			status = cw_exit_worse(status, EX_IOERR);
			cw_journal_close(w.journal);
			w.journal = NULL;
		}
	if ((rc = cw_warm_run(&wo, p->p.t, p->p.n, &tot, &e)) != CW_OK) {
		warnx("%s", e.msg);
		cw_journal_close(w.journal);
		return cw_exit_worse(status, cw_exit_code(rc));
	}
	if (w.progress && p->p.n > 0)
		fputc('\n', stderr);
	status = cw_exit_worse(status, status_of(&tot));
	if (w.journal_failed)
		status = cw_exit_worse(status, EX_IOERR);
	if (w.journal != NULL && cw_journal_end(w.journal, id,
	    cw_clock_calendar_ns(&clock) / 1000000000, status, &e) != CW_OK) {
		warnx("%s", e.msg);
		status = cw_exit_worse(status, EX_IOERR);
	}
	cw_journal_close(w.journal);
	summary(&tot, p->p.n, (double)(cw_clock_elapsed_ns(&clock) - t0) / 1e9,
	    w.journal != NULL ? id : NULL);
	cw_buf_free(&w.line);
	return status;
}

/* ---- status and resume ---- */

static int
show_status(const struct opts *o, const struct cw_cfg *cfg)
{
	struct cw_warm_run run;
	char path[CW_CFG_STR];
	struct cw_buf b = { 0 };
	struct cw_err e;
	int rc;

	cw_cfg_warm_path(cfg, 'j', path);
	memset(&run, 0, sizeof(run));
	if ((rc = cw_journal_load_run(path, o->run_id, &run, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return rc == CW_ENOTFOUND ? 1 : cw_exit_code(rc);
	}
	/* Without an end record: still going, or killed? */
	rc = cw_warm_run_format(&run, run.end_s < 0 && run.pid > 0 &&
	    kill((pid_t)run.pid, 0) == 0, o->format, &b, &e);
	if (rc == CW_OK)
		fwrite(b.data, 1, b.len, stdout);
	else
		warnx("%s", e.msg);
	cw_buf_free(&b);
	cw_warm_run_free(&run);
	return rc == CW_OK ? 0 : cw_exit_code(rc);
}

/* What run id left: every task that did not end well, as planned. */
static int
resume(const struct opts *o, struct cw_cfg *cfg)
{
	struct cw_warm_run run;
	struct plan p = { 0 };
	char path[CW_CFG_STR];
	struct cw_err e;
	int rc;

	cw_cfg_warm_path(cfg, 'j', path);
	memset(&run, 0, sizeof(run));
	if ((rc = cw_journal_load_run(path, o->run_id, &run, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return rc == CW_ENOTFOUND ? 1 : cw_exit_code(rc);
	}
	if (run.end_s < 0 && run.pid > 0 && run.pid != (long)getpid() &&
	    kill((pid_t)run.pid, 0) == 0) {
		warnx("run %s is still going (process %ld)", run.id, run.pid);
		cw_warm_run_free(&run);
		return EX_TEMPFAIL;
	}
	for (size_t i = 0; i < run.ntasks; i++) {
		const struct cw_warm_run_task *t = &run.tasks[i];

		if (t->result == CW_WARM_WARMED || t->result == CW_WARM_FRESH ||
		    t->result == CW_WARM_REFRESHED ||
		    t->result == CW_WARM_DROPPED || t->key[0] == '\0')
			continue;
		if (cw_warm_plan_line(&p.p, t->key, strlen(t->key), t->prio,
		    0, &e) != CW_OK)
			continue;	/* the journal's, checked when made */
		/* Its number in the run, so the journal matches them. */
		p.p.t[p.p.n - 1].seq = i;
	}
	if (o->verbose)
		warnx("run %s: %zu of %zu tasks left", run.id, p.p.n,
		    run.ntasks);
	rc = warm(o, cfg, &p, run.id);
	cw_warm_run_free(&run);
	cw_warm_plan_free(&p.p);
	return rc;
}

static int
run(const struct opts *o)
{
	struct cw_clock clock = cw_clock_system();
	struct cw_cfg cfg;
	struct plan p = { 0 };
	int64_t at_s;
	int status;

	if ((status = load_config(o, &cfg)) != 0)
		return status;
	if (o->status)
		return show_status(o, &cfg);
	if (o->resume)
		return resume(o, &cfg);
	at_s = o->at_given ? o->at_s : cw_clock_calendar_ns(&clock) /
	    1000000000;
	if (o->check)
		return readiness(o, &cfg, at_s);
	for (int i = 0; i < o->nkeys; i++) {
		if (strcmp(o->keys[i], "-") == 0)
			read_stdin(&p, o);
		else
			add_line(&p, o->keys[i], strlen(o->keys[i]),
			    default_prio(o), o->refresh ? CW_WARM_REFRESH :
			    o->drop ? CW_WARM_DROP : 0, "argument");
	}
	if (o->session != NULL && (status = add_sessions(&p, o, &cfg, at_s,
	    cw_clock_elapsed_ns(&clock))) != 0)
		return status;
	if (o->optimize)
		p.status = cw_exit_worse(p.status, add_optimize(&p, &cfg, at_s));
	if (o->refresh_ahead)
		p.status = cw_exit_worse(p.status, add_refresh_ahead(&p, o,
		    &cfg, at_s));
	if ((o->strategy == ST_PREDICTIVE || o->strategy == ST_PATTERN) &&
	    (status = add_forecast(&p, o, &cfg, at_s)) != 0)
		return cw_exit_worse(status, p.status);
	cw_warm_plan_finish(&p.p);
	status = warm(o, &cfg, &p, NULL);
	cw_warm_plan_free(&p.p);
	return status;
}

int
main(int argc, char *argv[])
{
	struct opts o;

	cli_start();
	cli_plugin_args(argc, argv, "--check", "CACHEWARM READY");
	cli_plugin_args(argc, argv, "--wait", "CACHEWARM READY");
	parse_args(argc, argv, &o);
	return cli_finish_stdout(run(&o));
}
