/*
 * cw-predict: learn access patterns from the access log, forecast the
 * keys of the coming hours for cw-warm, and say how right it was.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "cli.h"

struct opts {
	const char *config;
	const char *state;
	const char *log;	/* NULL: the config's; "-": stdin */
	enum cw_format format;	/* TSV or JSON */
	int learn, rebuild, no_learn;
	int64_t at_s;		/* 0: now; else act as if it were then */
	int64_t look_ahead_s;
	int64_t window_s;
	struct cw_forecast_opts fc;
	const char *command;	/* NULL, pattern, stats, export, import,
				   backtest */
	const char *arg;
	const char *truth;	/* backtest: a truth file */
};

static const char usage_text[] =
    "usage: cw-predict [-c file] [--at time] [--look-ahead dur] "
    "[-o tsv|json] [--top n] [--min-probability p] "
    "[--min-confidence c]\n"
    "       cw-predict --learn [--rebuild] [--log file|-] [--at time]\n"
    "       cw-predict pattern KEY|PATTERN [--at time]\n"
    "       cw-predict stats [-o json]\n"
    "       cw-predict export > FILE\n"
    "       cw-predict import FILE\n"
    "       cw-predict backtest TRACE [--window dur] [--truth FILE] "
    "[-o json]\n";

static void
help(void)
{
	fputs(usage_text, stdout);
	printf("Learn access patterns from the access log and forecast the "
	    "keys about to be read.\n\n"
	    "  -c, --config FILE         configuration file\n"
	    "  -h, --help                print this help and exit\n"
	    "  -o, --output FORMAT       tsv or json (JSON Lines)\n"
	    "      --at TIME             forecast from TIME: Unix seconds or "
	    "YYYY-MM-DDTHH:MM[:SS]Z (default: now)\n"
	    "      --learn               read what is new in the log into the "
	    "model and save it; print nothing\n"
	    "      --log FILE            the access log, or - for a trace on "
	    "stdin (default: from the config)\n"
	    "      --look-ahead DUR      forecast window (default 1h)\n"
	    "      --min-confidence C    leave out patterns below C (0..1, "
	    "default 0)\n"
	    "      --min-probability P   leave out keys below P (0..1, "
	    "default 0.05)\n"
	    "      --no-learn            forecast from the saved model alone\n"
	    "      --rebuild             with --learn: start over from the "
	    "whole log\n"
	    "      --state FILE          the model (default: from the config, "
	    "~/.cache/cw/predict.state)\n"
	    "      --top N               at most N keys\n"
	    "      --truth FILE          backtest: also score the true "
	    "expected reads\n"
	    "                            (cw-bench generate --truth), and "
	    "the model's gap to them\n"
	    "      --version             print the version and exit\n"
	    "      --window DUR          backtest: forecast window (default "
	    "1h)\n"
	    "\nOutput: key, expected reads, probability of at least one, "
	    "priority, reason.\n");
}

static int64_t
parse_time(const char *s)
{
	struct cw_err e;
	int64_t t;

	if (cw_cal_parse_utc(s, &t, &e) != CW_OK)
		cli_misuse(usage_text, "--at %s", e.msg);
	return t;
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	enum { OPT_AT = 256, OPT_LEARN, OPT_LOG, OPT_LOOK, OPT_MIN_CONF,
	    OPT_MIN_P, OPT_NO_LEARN, OPT_REBUILD, OPT_STATE, OPT_TOP,
	    OPT_VERSION, OPT_WINDOW, OPT_TRUTH };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "at", required_argument, NULL, OPT_AT },
		{ "learn", no_argument, NULL, OPT_LEARN },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "look-ahead", required_argument, NULL, OPT_LOOK },
		{ "min-confidence", required_argument, NULL, OPT_MIN_CONF },
		{ "min-probability", required_argument, NULL, OPT_MIN_P },
		{ "no-learn", no_argument, NULL, OPT_NO_LEARN },
		{ "rebuild", no_argument, NULL, OPT_REBUILD },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "truth", required_argument, NULL, OPT_TRUTH },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->format = CW_FORMAT_TSV;
	o->look_ahead_s = 3600;
	o->window_s = 3600;
	o->fc.min_probability = 0.05;
	/* Options may follow the command: "pattern KEY --at T". */
	while ((c = getopt_long(argc, argv, "-c:ho:", longopts, NULL)) != -1)
		switch (c) {
		case 1:
			if (o->command == NULL)
				o->command = optarg;
			else if (o->arg == NULL)
				o->arg = optarg;
			else
				cli_misuse(usage_text,
				    "unexpected argument '%s'", optarg);
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			help();
			exit(0);
		case 'o':
			o->format = cli_output_format(usage_text, optarg, 0);
			break;
		case OPT_AT:
			o->at_s = parse_time(optarg);
			break;
		case OPT_LEARN:
			o->learn = 1;
			break;
		case OPT_LOG:
			o->log = optarg;
			break;
		case OPT_LOOK:
			o->look_ahead_s = cli_duration_s(usage_text, optarg,
			    "--look-ahead", 1);
			break;
		case OPT_MIN_CONF:
			o->fc.min_confidence = cli_number(usage_text, optarg,
			    "--min-confidence", 0, 1);
			break;
		case OPT_MIN_P:
			o->fc.min_probability = cli_number(usage_text, optarg,
			    "--min-probability", 0, 1);
			break;
		case OPT_NO_LEARN:
			o->no_learn = 1;
			break;
		case OPT_REBUILD:
			o->rebuild = 1;
			break;
		case OPT_STATE:
			o->state = optarg;
			break;
		case OPT_TOP:
			o->fc.top = (size_t)cli_count(usage_text, optarg,
			    "--top", 1, 100000000);
			break;
		case OPT_TRUTH:
			o->truth = optarg;
			break;
		case OPT_VERSION:
			printf("cw-predict (cachewarm) %s\n", CW_VERSION);
			exit(0);
		case OPT_WINDOW:
			o->window_s = cli_duration_s(usage_text, optarg,
			    "--window", 1);
			break;
		default:
			cli_misuse(usage_text, NULL);
		}
	if (o->command != NULL) {
		static const char *const commands[] = { "pattern", "stats",
		    "export", "import", "backtest", NULL };
		int wants_arg;

		(void)cli_command(usage_text, o->command, commands);
		wants_arg = strcmp(o->command, "pattern") == 0 ||
		    strcmp(o->command, "import") == 0 ||
		    strcmp(o->command, "backtest") == 0;
		if (wants_arg && o->arg == NULL)
			cli_misuse(usage_text,
			    "%s: what? (see --help)", o->command);
		if (!wants_arg && o->arg != NULL)
			cli_misuse(usage_text,
			    "unexpected argument '%s'", o->arg);
		if (o->learn)
			cli_misuse(usage_text,
			    "--learn does not combine with a command");
	}
	if (o->rebuild && !o->learn)
		cli_misuse(usage_text, "--rebuild needs --learn");
	if (o->truth != NULL && (o->command == NULL ||
	    strcmp(o->command, "backtest") != 0))
		cli_misuse(usage_text, "--truth is backtest's");
	if (o->learn && o->no_learn)
		cli_misuse(usage_text, "--learn and --no-learn contradict");
}

/* Report skipped lines once, in one line. */
static void
summarize_skips(const struct cw_predict_counts *c)
{
	if (c->malformed > 0)
		warnx("skipped %llu malformed line%s of %llu",
		    (unsigned long long)c->malformed,
		    c->malformed == 1 ? "" : "s",
		    (unsigned long long)c->lines);
	if (c->future > 0)
		warnx("ignored %llu line%s from the future",
		    (unsigned long long)c->future, c->future == 1 ? "" : "s");
}

static int
fail(int rc, const struct cw_err *e)
{
	warnx("%s", e->msg);
	return cw_exit_code(rc);
}

/* The log to learn from: --log (- for stdin), else the configured one;
 * NULL when there is none. */
static const char *
log_of(const struct opts *o, const struct cw_cfg *cfg)
{
	if (o->log != NULL)
		return o->log;
	return cfg->log_file[0] != '\0' ? cfg->log_file : NULL;
}

/* Learn what is new since the model last read, from the log or stdin. */
static int
catch_up(struct cw_predict *m, const struct opts *o,
    const struct cw_cfg *cfg, int64_t now_s, struct cw_err *e)
{
	struct cw_predict_counts read;
	const char *log = log_of(o, cfg);
	int rc;

	if (log == NULL)
		return CW_OK;
	rc = cw_predict_catch_up(m, log, now_s, cfg->predict_history_ms /
	    1000, o->rebuild, &read, e);
	summarize_skips(&read);
	return rc;
}

static int
learn(const struct opts *o, const struct cw_cfg *cfg, const char *state,
    int64_t now_s)
{
	struct cw_predict_counts read;
	struct cw_err e;
	int rc;

	rc = cw_predict_update(state, log_of(o, cfg), now_s,
	    cfg->predict_history_ms / 1000, o->rebuild, &read, &e);
	if (read.remade)
		warnx("%s: a state file of another version: made again from "
		    "the log", state);
	summarize_skips(&read);
	if (rc != CW_OK)
		return fail(rc, &e);
	/* A log read to no effect is a mistake worth a status, most often
	 * a trace learned as of today instead of its own time. */
	if (read.lines > 0 && read.learned == 0 && read.old > 0) {
		warnx("learned nothing: all %llu lines are older than the "
		    "history (%lld h); --at TIME learns as of TIME",
		    (unsigned long long)read.lines,
		    (long long)(cfg->predict_history_ms / 3600000));
		return 1;
	}
	return 0;
}

/* Write what lib formatted; a write error shows at exit (main). */
static int
emit(struct cw_buf *b, int rc, const struct cw_err *e)
{
	if (rc == CW_OK)
		fwrite(b->data, 1, b->len, stdout);
	cw_buf_free(b);
	return rc == CW_OK ? 0 : fail(rc, e);
}

static int
forecast(const struct opts *o, struct cw_predict *m, int64_t at_s)
{
	struct cw_forecast *list;
	struct cw_buf b = { 0 };
	struct cw_err e;
	size_t n;
	int rc;

	cw_predict_advance(m, at_s);
	if ((rc = cw_predict_forecast(m, at_s, o->look_ahead_s, &o->fc, &list,
	    &n, &e)) != CW_OK)
		return fail(rc, &e);
	rc = cw_forecast_format(list, n, o->format, &b, &e);
	free(list);
	return emit(&b, rc, &e);
}

static int
pattern(const struct opts *o, struct cw_predict *m, int64_t at_s)
{
	struct cw_pattern_info pi;
	struct cw_buf b = { 0 };
	struct cw_err e;
	int rc;

	cw_predict_advance(m, at_s);
	if ((rc = cw_predict_pattern(m, o->arg, at_s, &pi, &e)) != CW_OK)
		return fail(rc, &e);
	return emit(&b, cw_pattern_format(&pi, o->format, &b, &e), &e);
}

static int
stats(const struct opts *o, struct cw_predict *m)
{
	struct cw_predict_summary s;
	struct cw_buf b = { 0 };
	struct cw_err e;

	cw_predict_summary(m, &s);
	return emit(&b, cw_predict_summary_format(&s, o->format, &b, &e), &e);
}

static int
read_input(const char *path, struct cw_buf *out, struct cw_err *e)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return cw_err_set(e, CW_EIO, errno, "%s: %s", path,
		    strerror(errno));
	rc = cw_buf_read_fd(out, fd, path, e);
	if (fd != 0)
		close(fd);
	return rc;
}

static int
import(const struct opts *o, const char *state)
{
	struct cw_buf csv = { 0 };
	struct cw_predict *m = NULL;
	struct cw_err e;
	int rc;

	if ((rc = read_input(o->arg, &csv, &e)) == CW_OK &&
	    (rc = cw_predict_import(&m, csv.data ? csv.data : "", csv.len,
	    &e)) == CW_OK)
		rc = cw_predict_save_locked(m, state, &e);
	cw_buf_free(&csv);
	cw_predict_free(m);
	return rc == CW_OK ? 0 : fail(rc, &e);
}

/* Feed every line of path (- for stdin) to the backtest through
 * feed_one; an exit status. */
static int
feed(const char *path, struct cw_backtest *bt,
    int (*feed_one)(struct cw_backtest *, const char *, size_t))
{
	struct cw_lines in = { .fd = 0 };
	struct cw_err e;
	const char *line;
	size_t len;
	int rc;

	if (strcmp(path, "-") != 0 &&
	    (in.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		warn("%s", path);
		return EX_NOINPUT;
	}
	do {
		while (cw_lines_next(&in, &line, &len))
			if (feed_one(bt, line, len) == CW_ENOMEM) {
				warnx("out of memory");
				rc = CW_ENOMEM;
				goto done;
			}
	} while ((rc = cw_lines_fill(&in, &e)) == CW_OK);
done:
	cw_lines_free(&in);
	if (in.fd != 0)
		close(in.fd);
	if (rc == CW_ENOMEM)
		return EX_OSERR;
	return rc == CW_ENOTFOUND ? 0 : fail(rc, &e);
}

static int
backtest(const struct opts *o, const char *state, int64_t now_s)
{
	struct cw_backtest *bt;
	struct cw_backtest_report r;
	struct cw_predict_counts c;
	struct cw_buf b = { 0 };
	struct cw_err e;
	uint64_t bad;
	int rc, status;

	if ((rc = cw_backtest_new(&bt, o->window_s, &e)) != CW_OK)
		return fail(rc, &e);
	if ((status = feed(o->arg, bt, cw_backtest_line)) != 0 ||
	    (o->truth != NULL && (status = feed(o->truth, bt,
	    cw_backtest_truth_line)) != 0)) {
		cw_backtest_free(bt);
		return status;
	}
	cw_backtest_counts(bt, &c);
	summarize_skips(&c);
	if ((bad = cw_backtest_truth_malformed(bt)) > 0)
		warnx("%s: skipped %llu line%s not hour_s,key,expected",
		    o->truth, (unsigned long long)bad, bad == 1 ? "" : "s");
	rc = cw_backtest_run(bt, &r, &e);
	cw_backtest_free(bt);
	if (rc != CW_OK)
		return fail(rc, &e);
	r.ran_s = now_s;
	rc = cw_backtest_format(&r, o->format, &b, &e);
	if (rc == CW_OK && o->format == CW_FORMAT_JSON)
		rc = cw_buf_append(&b, "\n", 1, &e);
	if ((status = emit(&b, rc, &e)) != 0)
		return status;
	/* Kept for "cw-predict stats"; the scores are printed either way. */
	rc = cw_predict_keep_backtest(state, &r, &e);
	if (rc != CW_OK && rc != CW_ENOTFOUND)
		warnx("scores not kept: %s", e.msg);
	return 0;
}

static int
run(const struct opts *o)
{
	struct cw_clock clock = cw_clock_system();
	struct cw_cfg *cfg = malloc(sizeof(*cfg));
	struct cw_predict *m = NULL;
	struct cw_err e;
	const char *state;
	int64_t now_s = cw_clock_calendar_ns(&clock) / 1000000000;
	int64_t at_s = o->at_s ? o->at_s : now_s;
	int rc, status;

	if (cfg == NULL)
		errx(EX_OSERR, "out of memory");
	if ((rc = cw_cfg_load(cfg, o->config, &e)) != CW_OK) {
		free(cfg);
		return fail(rc, &e);
	}
	state = o->state ? o->state : cfg->predict_state;
	if (o->learn) {
		status = learn(o, cfg, state, at_s);
	} else if (o->command != NULL && strcmp(o->command, "import") == 0) {
		status = import(o, state);
	} else if (o->command != NULL && strcmp(o->command, "backtest") == 0) {
		status = backtest(o, state, now_s);
	} else if ((rc = cw_predict_load_or_new(&m, state, &e)) != CW_OK) {
		status = fail(rc, &e);
	} else if (o->command != NULL && strcmp(o->command, "stats") == 0) {
		status = stats(o, m);
	} else if (o->command != NULL && strcmp(o->command, "export") == 0) {
		struct cw_buf csv = { 0 };

		status = (rc = cw_predict_export(m, &csv, &e)) == CW_OK ?
		    (fwrite(csv.data, 1, csv.len, stdout), 0) : fail(rc, &e);
		cw_buf_free(&csv);
	} else {
		/* A forecast: the saved model plus what the log gained
		 * since, learned here and not saved. */
		if (!o->no_learn && (rc = catch_up(m, o, cfg, at_s, &e)) !=
		    CW_OK)
			status = fail(rc, &e);
		else if (o->command != NULL)
			status = pattern(o, m, at_s);
		else
			status = forecast(o, m, at_s);
	}
	cw_predict_free(m);
	free(cfg);
	return status;
}

int
main(int argc, char *argv[])
{
	struct opts o;

	cli_start();
	parse_args(argc, argv, &o);
	return cli_finish_stdout(run(&o));
}
