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

struct opts {
	const char *config;
	const char *state;
	const char *log;	/* NULL: the config's; "-": stdin */
	const char *format;	/* tsv or json */
	int learn, rebuild, no_learn;
	int64_t at_s;		/* 0: now; else act as if it were then */
	int64_t look_ahead_s;
	int64_t window_s;
	struct cw_forecast_opts fc;
	const char *command;	/* NULL, pattern, stats, export, import,
				   backtest */
	const char *arg;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: cw-predict [-c file] [--at time] [--look-ahead dur] "
	    "[-o tsv|json] [--top n] [--min-probability p] "
	    "[--min-confidence c]\n"
	    "       cw-predict --learn [--rebuild] [--log file|-]\n"
	    "       cw-predict pattern KEY|PATTERN [--at time]\n"
	    "       cw-predict stats [-o json]\n"
	    "       cw-predict export > FILE\n"
	    "       cw-predict import FILE\n"
	    "       cw-predict backtest TRACE [--window dur] [-o json]\n");
}

static void
help(void)
{
	usage(stdout);
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
	    "      --version             print the version and exit\n"
	    "      --window DUR          backtest: forecast window (default "
	    "1h)\n"
	    "\nOutput: key, expected reads, probability of at least one, "
	    "priority, reason.\n");
}

static void
misuse(const char *msg, const char *arg)
{
	if (msg != NULL) {
		fprintf(stderr, "cw-predict: ");
		fprintf(stderr, msg, arg);
		fputc('\n', stderr);
	}
	usage(stderr);
	fprintf(stderr, "Try 'cw-predict --help'.\n");
	exit(2);
}

static double
fraction(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= 0 && v <= 1))
		misuse("%s: not a number in 0..1", what);
	return v;
}

static int64_t
duration_s(const char *s, const char *what)
{
	struct cw_err e;
	int64_t ms;

	if (cw_num_parse_duration_ms(s, what, &ms, &e) != CW_OK || ms < 1000)
		misuse("%s: not a duration of a second or more (2h, 90m)",
		    what);
	return ms / 1000;
}

static int64_t
parse_time(const char *s)
{
	struct cw_err e;
	int64_t t;

	if (cw_cal_parse_utc(s, &t, &e) != CW_OK)
		misuse("--at %s", e.msg);
	return t;
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	enum { OPT_AT = 256, OPT_LEARN, OPT_LOG, OPT_LOOK, OPT_MIN_CONF,
	    OPT_MIN_P, OPT_NO_LEARN, OPT_REBUILD, OPT_STATE, OPT_TOP,
	    OPT_VERSION, OPT_WINDOW };
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
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t u;
	int c;

	memset(o, 0, sizeof(*o));
	o->format = "tsv";
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
				misuse("unexpected argument '%s'", optarg);
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			help();
			exit(0);
		case 'o':
			if (strcmp(optarg, "tsv") != 0 &&
			    strcmp(optarg, "json") != 0)
				misuse("-o '%s': tsv or json", optarg);
			o->format = optarg;
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
			o->look_ahead_s = duration_s(optarg, "--look-ahead");
			break;
		case OPT_MIN_CONF:
			o->fc.min_confidence = fraction(optarg,
			    "--min-confidence");
			break;
		case OPT_MIN_P:
			o->fc.min_probability = fraction(optarg,
			    "--min-probability");
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
			if (cw_num_parse_u64(optarg, 1, 100000000, "--top", &u,
			    NULL) != CW_OK)
				misuse("--top '%s': not a count", optarg);
			o->fc.top = (size_t)u;
			break;
		case OPT_VERSION:
			printf("cw-predict (cachewarm) %s\n", CW_VERSION);
			exit(0);
		case OPT_WINDOW:
			o->window_s = duration_s(optarg, "--window");
			break;
		default:
			misuse(NULL, NULL);
		}
	if (o->command != NULL) {
		static const char *const commands[] = { "pattern", "stats",
		    "export", "import", "backtest" };
		int known = 0, wants_arg;

		for (size_t i = 0; i < 5; i++)
			known |= strcmp(o->command, commands[i]) == 0;
		if (!known)
			misuse("unknown command '%s'", o->command);
		wants_arg = strcmp(o->command, "pattern") == 0 ||
		    strcmp(o->command, "import") == 0 ||
		    strcmp(o->command, "backtest") == 0;
		if (wants_arg && o->arg == NULL)
			misuse("%s: what? (see --help)", o->command);
		if (!wants_arg && o->arg != NULL)
			misuse("unexpected argument '%s'", o->arg);
		if (o->learn)
			misuse("--learn does not combine with a command", NULL);
	}
	if (o->rebuild && !o->learn)
		misuse("--rebuild needs --learn", NULL);
	if (o->learn && o->no_learn)
		misuse("--learn and --no-learn contradict", NULL);
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
	summarize_skips(&read);
	return rc == CW_OK ? 0 : fail(rc, &e);
}

static void
print_json_string(const char *s)
{
	struct cw_buf b = { 0 };

	if (cw_out_json_string(&b, s, strlen(s), NULL) == CW_OK)
		fwrite(b.data, 1, b.len, stdout);
	cw_buf_free(&b);
}

static int
forecast(const struct opts *o, struct cw_predict *m, int64_t at_s)
{
	struct cw_forecast *list;
	struct cw_err e;
	size_t n;
	int rc;

	cw_predict_advance(m, at_s);
	if ((rc = cw_predict_forecast(m, at_s, o->look_ahead_s, &o->fc, &list,
	    &n, &e)) != CW_OK)
		return fail(rc, &e);
	for (size_t i = 0; i < n; i++) {
		const struct cw_forecast *f = &list[i];

		if (strcmp(o->format, "json") == 0) {
			printf("{\"key\":");
			print_json_string(f->key);
			printf(",\"expected\":%.4f,\"probability\":%.4f,"
			    "\"priority\":\"%s\",\"reason\":\"%s\","
			    "\"confidence\":%.3f}\n", f->expected,
			    f->probability, f->priority, f->reason,
			    f->confidence);
		} else {
			printf("%s\t%.3f\t%.3f\t%s\t%s\n", f->key, f->expected,
			    f->probability, f->priority, f->reason);
		}
	}
	free(list);
	return 0;
}

static int
pattern(const struct opts *o, struct cw_predict *m, int64_t at_s)
{
	struct cw_pattern_info pi;
	struct cw_err e;
	char when[CW_CAL_UTC_LEN];
	int rc, json = strcmp(o->format, "json") == 0;

	cw_predict_advance(m, at_s);
	if ((rc = cw_predict_pattern(m, o->arg, at_s, &pi, &e)) != CW_OK)
		return fail(rc, &e);
	cw_cal_format_utc(pi.last_read_s, when);
	if (json) {
		printf("{\"pattern\":");
		print_json_string(pi.name);
		printf(",\"frame\":\"%s\",\"confidence\":%.3f,"
		    "\"per_day\":%.3f,\"last_read\":\"%s\",\"peak_hours\":"
		    "[%d,%d,%d],\"sessions\":{", pi.frame, pi.confidence,
		    pi.per_day, when, pi.peak[0], pi.peak[1], pi.peak[2]);
		for (unsigned s = 0; s < CW_SESSION_COUNT; s++)
			printf("%s\"%s\":%.3f", s ? "," : "",
			    cw_session_get(s)->name, pi.session_share[s]);
		printf("},\"per_hour\":[");
		for (int h = 0; h < 24; h++)
			printf("%s%.4f", h ? "," : "", pi.per_hour[h]);
		printf("]}\n");
		return 0;
	}
	printf("pattern\t%s\nframe\t%s\nconfidence\t%.3f\nper_day\t%.3f\n"
	    "last_read\t%s\npeak_hours_utc\t%02d %02d %02d\n", pi.name,
	    pi.frame, pi.confidence, pi.per_day, when, pi.peak[0], pi.peak[1],
	    pi.peak[2]);
	for (unsigned s = 0; s < CW_SESSION_COUNT; s++)
		printf("session_%s\t%.3f\n", cw_session_get(s)->name,
		    pi.session_share[s]);
	for (int h = 0; h < 24; h++)
		printf("hour_%02d\t%.4f\n", h, pi.per_hour[h]);
	return 0;
}

static void
print_scores_json(const struct cw_backtest_report *r)
{
	char from[CW_CAL_UTC_LEN], to[CW_CAL_UTC_LEN];

	cw_cal_format_utc(r->first_s, from);
	cw_cal_format_utc(r->last_s, to);
	printf("{\"window_s\":%lld,\"hours\":%llu,\"reads\":%llu,"
	    "\"from\":\"%s\",\"to\":\"%s\"", (long long)r->window_s,
	    (unsigned long long)r->hours, (unsigned long long)r->reads, from,
	    to);
	for (unsigned i = 0; i < CW_BT_COUNT; i++) {
		const struct cw_backtest_scores *s = &r->method[i];

		printf(",\"%s\":{\"coverage\":%.4f,\"brier\":%.5f",
		    cw_backtest_method_name(i), s->coverage, s->brier);
		for (int f = 0; f < 2; f++)
			printf(",\"precision_%s\":%.4f,\"recall_%s\":%.4f,"
			    "\"f1_%s\":%.4f", f ? "0.7" : "0.5",
			    s->precision[f], f ? "0.7" : "0.5", s->recall[f],
			    f ? "0.7" : "0.5", s->f1[f]);
		printf("}");
	}
	printf("}");
}

static void
print_scores_table(const struct cw_backtest_report *r)
{
	char from[CW_CAL_UTC_LEN], to[CW_CAL_UTC_LEN];

	cw_cal_format_utc(r->first_s, from);
	cw_cal_format_utc(r->last_s, to);
	printf("# %llu hours, %llu reads, %s to %s, window %llds\n",
	    (unsigned long long)r->hours, (unsigned long long)r->reads, from,
	    to, (long long)r->window_s);
	printf("forecaster\tcoverage\tbrier\tprecision@0.5\trecall@0.5\t"
	    "f1@0.5\tprecision@0.7\trecall@0.7\tf1@0.7\n");
	for (unsigned i = 0; i < CW_BT_COUNT; i++) {
		const struct cw_backtest_scores *s = &r->method[i];

		printf("%s\t%.4f\t%.5f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n",
		    cw_backtest_method_name(i), s->coverage, s->brier,
		    s->precision[0], s->recall[0], s->f1[0], s->precision[1],
		    s->recall[1], s->f1[1]);
	}
}

static int
stats(const struct opts *o, struct cw_predict *m)
{
	struct cw_predict_summary s;
	char from[CW_CAL_UTC_LEN], to[CW_CAL_UTC_LEN];
	int json = strcmp(o->format, "json") == 0;

	cw_predict_summary(m, &s);
	cw_cal_format_utc(s.first_s, from);
	cw_cal_format_utc(s.until_s, to);
	/* One list of figures, named for each format. */
	const struct {
		const char *json, *tsv;
		unsigned long long n;
	} counts[] = {
		{ "patterns", "patterns", s.patterns },
		{ "lines", "lines", s.counts.lines },
		{ "learned", "learned", s.counts.learned },
		{ "malformed", "malformed", s.counts.malformed },
		{ "future", "future", s.counts.future },
		{ "old", "old", s.counts.old },
		{ "late", "late", s.counts.late },
	};

	if (json)
		printf("{\"from\":\"%s\",\"until\":\"%s\"", from, to);
	else
		printf("learned_from\t%s\nlearned_until\t%s\n", from, to);
	for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++)
		printf(json ? ",\"%s\":%llu" : "%s\t%llu\n",
		    json ? counts[i].json : counts[i].tsv, counts[i].n);
	printf(json ? ",\"level\":%.3f,\"backtest\":" : "level\t%.3f\n",
	    s.level);
	if (json) {
		if (s.has_backtest)
			print_scores_json(&s.backtest);
		else
			printf("null");
		printf("}\n");
	} else if (s.has_backtest) {
		print_scores_table(&s.backtest);
	} else {
		printf("# no backtest yet: cw-predict backtest TRACE\n");
	}
	return 0;
}

static int
read_input(const char *path, struct cw_buf *out, struct cw_err *e)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	char chunk[65536];
	ssize_t r;

	if (fd < 0)
		return cw_err_set(e, CW_EIO, errno, "%s: %s", path,
		    strerror(errno));
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || cw_buf_append(out, chunk, (size_t)r, e) != CW_OK) {
			int saved = errno;

			if (fd != 0)
				close(fd);
			return r < 0 ? cw_err_set(e, CW_EIO, saved, "%s: %s",
			    path, strerror(saved)) : CW_ENOMEM;
		}
	}
	if (fd != 0)
		close(fd);
	return CW_OK;
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
		rc = cw_predict_save(m, state, &e);
	cw_buf_free(&csv);
	cw_predict_free(m);
	return rc == CW_OK ? 0 : fail(rc, &e);
}

static int
backtest(const struct opts *o, const char *state, int64_t now_s)
{
	struct cw_backtest *bt;
	struct cw_backtest_report r;
	struct cw_predict_counts c;
	struct cw_predict *m;
	struct cw_lines in = { .fd = 0 };
	struct cw_err e;
	const char *line;
	size_t len;
	int rc;

	if (strcmp(o->arg, "-") != 0 &&
	    (in.fd = open(o->arg, O_RDONLY | O_CLOEXEC)) < 0) {
		warn("%s", o->arg);
		return EX_NOINPUT;
	}
	if ((rc = cw_backtest_new(&bt, o->window_s, &e)) != CW_OK)
		return fail(rc, &e);
	do {
		while (cw_lines_next(&in, &line, &len))
			if (cw_backtest_line(bt, line, len) == CW_ENOMEM) {
				warnx("out of memory");
				return EX_OSERR;
			}
	} while ((rc = cw_lines_fill(&in, &e)) == CW_OK);
	cw_lines_free(&in);
	if (in.fd != 0)
		close(in.fd);
	if (rc != CW_ENOTFOUND) {
		cw_backtest_free(bt);
		return fail(rc, &e);
	}
	cw_backtest_counts(bt, &c);
	summarize_skips(&c);
	rc = cw_backtest_run(bt, &r, &e);
	cw_backtest_free(bt);
	if (rc != CW_OK)
		return fail(rc, &e);
	r.ran_s = now_s;
	if (strcmp(o->format, "json") == 0) {
		print_scores_json(&r);
		putchar('\n');
	} else
		print_scores_table(&r);
	/* Kept for "cw-predict stats"; the scores are printed either way. */
	if (cw_predict_load(&m, state, &e) == CW_OK) {
		cw_predict_set_backtest(m, &r);
		if (cw_predict_save(m, state, &e) != CW_OK)
			warnx("scores not kept: %s", e.msg);
		cw_predict_free(m);
	}
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
	int64_t now_s = cw_clock_wall_ns(&clock) / 1000000000;
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
	int status;

	parse_args(argc, argv, &o);
	status = run(&o);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warn("write stdout");
		return cw_exit_worse(status, EX_IOERR);
	}
	return status;
}
