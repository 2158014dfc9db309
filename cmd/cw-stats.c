/*
 * cw-stats: what the cache is doing, for people, monitors and scripts.
 *
 * Reads the shared counters and histograms in the L1 file's header that
 * every cachewarm process updates. Prints them as a table, JSON or
 * Prometheus text; judges them as a monitoring plugin (--check); prints a
 * line every few seconds (--interval); lists entries (keys) and checks
 * the file end to end (verify).
 */
#include <err.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cw.h"
#include "cli.h"

/* Monitoring-plugin statuses (--check). */
enum { CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN };

struct opts {
	const char *config;
	const char *l1_file;
	const char *format;
	int check;
	int reset;
	int warm_limit_given;
	long interval_s;
	long count;
	unsigned window_s;	/* 0: not given, the usual */
	struct cw_stats_thresholds limits;
	const char *command;	/* NULL, "keys", "dump", "resize", "verify" */
	const char *glob;	/* keys' pattern; dump's file */
	size_t hot;		/* --hot N: hottest first, N of them */
	int hot_given;
};

static const char usage_text[] =
    "usage: cw-stats [-h] [-c file] [-f l1file] [-o format] [--window dur]\n"
    "       cw-stats --interval seconds [--count n] [--window dur]\n"
    "       cw-stats --check [--window dur] [--hit-rate-warning pct] "
    "[--hit-rate-critical pct]\n"
    "                [--p99-warning ms] [--p99-critical ms] "
    "[--memory-warning pct]\n"
    "                [--warm-failure-warning pct]\n"
    "       cw-stats --reset\n"
    "       cw-stats keys [--hot n] [glob]\n"
    "       cw-stats dump [--hot n] file\n"
    "       cw-stats resize\n"
    "       cw-stats verify\n"
    "       cw-stats config\n";

static void
help(void)
{
	fputs(usage_text, stdout);
	printf("Show what the cache is doing, from the L1 file's shared "
	    "counters.\n\n"
	    "  -c, --config FILE          configuration file\n"
	    "  -f, --l1-file FILE         the L1 file (default: from the "
	    "config, ~/.cache/cw/l1)\n"
	    "  -h, --help                 print this help and exit\n"
	    "  -o, --output FORMAT        table, json or prom (default: "
	    "table; keys: tsv or json)\n"
	    "      --check                monitoring plugin: one status line, "
	    "exit 0 OK 1 WARNING 2 CRITICAL 3 UNKNOWN\n"
	    "      --count N              with --interval: stop after N lines\n"
	    "      --hit-rate-critical PCT  --check: CRITICAL below "
	    "(default 90)\n"
	    "      --hit-rate-warning PCT   --check: WARNING below "
	    "(default 95)\n"
	    "      --hot N                keys, dump: the N hottest, hottest "
	    "first\n"
	    "      --interval SECONDS     print a line every SECONDS, like "
	    "vmstat\n"
	    "      --memory-warning PCT   --check: WARNING when L1 is fuller "
	    "(default 85)\n"
	    "      --p99-critical MS      --check: CRITICAL when P99 is above "
	    "(default 100)\n"
	    "      --p99-warning MS       --check: WARNING when P99 is above "
	    "(default 50)\n"
	    "      --reset                zero the counters (entries stay)\n"
	    "      --version              print the version and exit\n"
	    "      --warm-failure-warning PCT  --check: WARNING when more "
	    "warming tasks failed (default 5)\n"
	    "      --window DUR           the readers' recent figures that the "
	    "table, --interval\n"
	    "                             and --check judge: whole minutes, "
	    "1m to 15m (default 5m)\n"
	    "\nkeys [GLOB]: the entries: key, value bytes, seconds left, "
	    "reads, value or not-found.\n"
	    "dump FILE: the hot list, keys of values hottest first, written "
	    "whole, for cw-warm - at boot.\n"
	    "resize: rebuild the file at the configured capacity, keeping "
	    "the hottest entries that fit.\n"
	    "verify: check every entry; exit 65 when any is damaged.\n"
	    "config: check the configuration and print the effective one, "
	    "each value with\n"
	    "  where it came from (default, file:line, environment); exit 78 "
	    "when it is wrong.\n");
}

/* --window: whole minutes the file keeps; misuse otherwise. */
static unsigned
window(const char *s)
{
	struct cw_err e;
	int64_t ms;

	if (cw_num_parse_duration_ms(s, "--window", &ms, &e) != CW_OK)
		cli_misuse(usage_text, "%s", e.msg);
	if (ms < 60000 || ms > CW_L1_WINDOW_MAX_S * 1000LL || ms % 60000 != 0)
		cli_misuse(usage_text, "--window '%s': whole minutes from 1m "
		    "to %dm", s, CW_L1_WINDOW_MAX_S / 60);
	return (unsigned)(ms / 1000);
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	enum { OPT_CHECK = 256, OPT_COUNT, OPT_HIT, OPT_HIT_WARN, OPT_HOT,
	    OPT_INTERVAL, OPT_MEM, OPT_P99, OPT_P99_WARN, OPT_RESET,
	    OPT_VERSION, OPT_WARM, OPT_WINDOW };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "l1-file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "hit-rate-critical", required_argument, NULL, OPT_HIT },
		{ "hit-rate-warning", required_argument, NULL, OPT_HIT_WARN },
		{ "hot", required_argument, NULL, OPT_HOT },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "memory-warning", required_argument, NULL, OPT_MEM },
		{ "p99-critical", required_argument, NULL, OPT_P99 },
		{ "p99-warning", required_argument, NULL, OPT_P99_WARN },
		{ "reset", no_argument, NULL, OPT_RESET },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "warm-failure-warning", required_argument, NULL, OPT_WARM },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ NULL, 0, NULL, 0 },
	};
	int c, limits_given = 0, hit_warn_given = 0, p99_warn_given = 0;

	memset(o, 0, sizeof(*o));
	cw_stats_thresholds_default(&o->limits);
	while ((c = getopt_long(argc, argv, "c:f:ho:", longopts, NULL)) != -1)
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
		case 'o':
			o->format = optarg;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_COUNT:
			o->count = (long)cli_count(usage_text, optarg,
			    "--count", 1, 1000000000);
			break;
		case OPT_HIT:
			o->limits.hit_rate_critical =
			    cli_number(usage_text, optarg,
			    "--hit-rate-critical", 0, 100) / 100;
			limits_given = 1;
			break;
		case OPT_HIT_WARN:
			o->limits.hit_rate_warning =
			    cli_number(usage_text, optarg,
			    "--hit-rate-warning", 0, 100) / 100;
			limits_given = hit_warn_given = 1;
			break;
		case OPT_HOT:
			o->hot = (size_t)cli_count(usage_text, optarg, "--hot",
			    1, 1000000000);
			o->hot_given = 1;
			break;
		case OPT_INTERVAL:
			o->interval_s = (long)cli_number(usage_text, optarg,
			    "--interval", 1, 86400);
			break;
		case OPT_MEM:
			o->limits.memory_warning_pct =
			    cli_number(usage_text, optarg,
			    "--memory-warning", 0, 100);
			limits_given = 1;
			break;
		case OPT_P99:
			o->limits.p99_critical_ms =
			    cli_number(usage_text, optarg,
			    "--p99-critical", 0, 1e9);
			limits_given = 1;
			break;
		case OPT_P99_WARN:
			o->limits.p99_warning_ms =
			    cli_number(usage_text, optarg,
			    "--p99-warning", 0, 1e9);
			limits_given = p99_warn_given = 1;
			break;
		case OPT_WINDOW:
			o->window_s = window(optarg);
			break;
		case OPT_WARM:
			o->limits.warm_failure_warning_pct =
			    cli_number(usage_text, optarg,
			    "--warm-failure-warning", 0, 100);
			o->warm_limit_given = 1;
			limits_given = 1;
			break;
		case OPT_RESET:
			o->reset = 1;
			break;
		case OPT_VERSION:
			printf("cw-stats (cachewarm) %s\n", CW_VERSION);
			exit(0);
		default:
			cli_misuse(usage_text, NULL);
		}
	if (optind < argc) {
		static const char *const commands[] = { "keys", "dump",
		    "resize", "verify", "config", NULL };
		int which;

		o->command = argv[optind++];
		which = cli_command(usage_text, o->command, commands);
		if (which <= 1 && optind < argc)
			o->glob = argv[optind++];
		if (optind < argc)
			cli_misuse(usage_text,
			    "unexpected argument '%s'", argv[optind]);
		if (which == 1 && o->glob == NULL)
			cli_misuse(usage_text, "dump needs a file (- for "
			    "stdout)");
	}
	/* An option a mode would ignore is refused, never dropped. */
	if (o->format != NULL && (o->interval_s > 0 || o->check || o->reset ||
	    (o->command != NULL && strcmp(o->command, "keys") != 0)))
		cli_misuse(usage_text, "-o goes with the figures or keys, not "
		    "with %s", o->interval_s > 0 ? "--interval" : o->check ?
		    "--check" : o->reset ? "--reset" : o->command);
	if (o->l1_file != NULL && o->command != NULL &&
	    strcmp(o->command, "config") == 0)
		cli_misuse(usage_text, "-f goes with the figures and the "
		    "commands on the file, not with config");
	if (o->hot_given && (o->command == NULL ||
	    (strcmp(o->command, "keys") != 0 &&
	    strcmp(o->command, "dump") != 0)))
		cli_misuse(usage_text, "--hot goes with keys or dump");
	if (o->count > 0 && o->interval_s == 0)
		cli_misuse(usage_text, "--count needs --interval");
	if (limits_given && !o->check)
		cli_misuse(usage_text, "the thresholds go with --check");
	if (o->window_s > 0 && (o->reset || o->command != NULL))
		cli_misuse(usage_text, "--window goes with the figures, not "
		    "with %s", o->reset ? "--reset" : o->command);
	/* A warning level the critical one passes first would never be
	 * seen: the usual one follows a critical level given past it, and
	 * two given that way round are a mistake. */
	if (!hit_warn_given &&
	    o->limits.hit_rate_warning < o->limits.hit_rate_critical)
		o->limits.hit_rate_warning = o->limits.hit_rate_critical;
	if (!p99_warn_given &&
	    o->limits.p99_warning_ms > o->limits.p99_critical_ms)
		o->limits.p99_warning_ms = o->limits.p99_critical_ms;
	if (o->limits.hit_rate_warning < o->limits.hit_rate_critical)
		cli_misuse(usage_text, "--hit-rate-warning %g is below "
		    "--hit-rate-critical %g", 100 * o->limits.hit_rate_warning,
		    100 * o->limits.hit_rate_critical);
	if (o->limits.p99_warning_ms > o->limits.p99_critical_ms)
		cli_misuse(usage_text, "--p99-warning %g is above "
		    "--p99-critical %g", o->limits.p99_warning_ms,
		    o->limits.p99_critical_ms);
	if (o->check + o->reset + (o->interval_s > 0) + (o->command != NULL) >
	    1)
		cli_misuse(usage_text,
		    "--check, --reset, --interval and the commands do not "
		    "combine");
}

/* cw-stats config: the configuration checked (every file line, the L2
 * URL, the source), then printed with each value's origin. */
static int
show_config(const struct opts *o)
{
	struct cw_cfg *cfg = malloc(sizeof(*cfg));
	struct cw_buf out = { 0 };
	struct cw_err e;
	int rc;

	if (cfg == NULL) {
		warnx("out of memory");
		return EX_OSERR;
	}
	if ((rc = cw_cfg_load(cfg, o->config, &e)) == CW_OK &&
	    (rc = cw_fill_check_cfg(cfg, &e)) == CW_OK &&
	    (rc = cw_cfg_format(cfg, &out)) != CW_OK)
		cw_err_set(&e, rc, 0, "formatting the configuration");
	free(cfg);
	if (rc != CW_OK) {
		warnx("%s", e.msg);
		cw_buf_free(&out);
		return cw_exit_code(rc);
	}
	fwrite(out.data, 1, out.len, stdout);
	cw_buf_free(&out);
	return 0;
}

/* Open the existing L1 file named by the options or configuration; the
 * journal's path and the configured warming threshold too. For resize,
 * the file is rebuilt at the configured capacity instead, into *resized,
 * and nothing is left open. */
static int
open_l1(struct opts *o, struct cw_l1 **l1, char journal[CW_CFG_STR],
    char path[CW_CFG_STR], struct cw_l1_resize_result *resized,
    struct cw_err *e)
{
	struct cw_l1_opts lo = { 0 };
	struct cw_cfg *cfg = malloc(sizeof(*cfg));
	int rc;

	if (cfg == NULL)
		return cw_err_set(e, CW_ENOMEM, 0, "configuration");
	if ((rc = cw_cfg_load(cfg, o->config, e)) == CW_OK) {
		cw_cfg_l1_opts(cfg, cw_clock_system(), &lo);
		if (o->l1_file != NULL)
			lo.path = o->l1_file;
		lo.must_exist = 1;
		/* Figures and keys need read access alone (a monitoring
		 * user); --reset and verify write. */
		lo.read_only = !o->reset && (o->command == NULL ||
		    strcmp(o->command, "verify") != 0);
		cw_cfg_warm_path(cfg, 'j', journal);
		snprintf(path, CW_CFG_STR, "%s", lo.path);
		if (!o->warm_limit_given)
			o->limits.warm_failure_warning_pct =
			    cfg->warm_failure_warning;
		rc = o->command != NULL && strcmp(o->command, "resize") == 0 ?
		    cw_l1_resize(&lo, resized, e) : cw_l1_open(l1, &lo, e);
	}
	free(cfg);
	return rc;
}

struct keys_ctx {
	const char *glob;
	enum cw_format format;
	int64_t now_ns;
	struct cw_buf line;
	size_t listed, limit;
};

static int
print_key(const struct cw_l1_entry *e, void *ctx)
{
	struct keys_ctx *k = ctx;
	char key[CW_KEY_MAX + 1];
	long long left = (e->expires_ns - k->now_ns) / 1000000000;

	memcpy(key, e->key, e->key_len);
	key[e->key_len] = '\0';
	if (k->glob != NULL && fnmatch(k->glob, key, 0) != 0)
		return 0;
	if (k->limit != 0 && k->listed == k->limit)
		return 1;
	k->listed++;
	if (k->format == CW_FORMAT_JSON) {
		k->line.len = 0;
		cw_buf_append(&k->line, "{", 1, NULL);
		cw_out_json_field(&k->line, "key", key, e->key_len, NULL);
		printf("%.*s,\"value_bytes\":%u,\"ttl_left_s\":%lld,"
		    "\"reads\":%u,\"not_found\":%s}\n", (int)k->line.len,
		    k->line.data, e->value_bytes, left > 0 ? left : 0, e->reads,
		    e->flags & CW_L1_NEGATIVE ? "true" : "false");
	} else {
		printf("%s\t%u\t%lld\t%u\t%s\n", key, e->value_bytes,
		    left > 0 ? left : 0, e->reads,
		    e->flags & CW_L1_NEGATIVE ? "not-found" : "value");
	}
	return 0;
}

static int
list_keys(const struct opts *o, struct cw_l1 *l1)
{
	struct keys_ctx k = { o->glob, CW_FORMAT_TSV, 0, { 0 }, 0, o->hot };
	struct cw_clock clk = cw_clock_system();
	struct cw_err e;
	int rc;

	if (o->format != NULL)
		k.format = cli_output_format(usage_text, o->format, 0);
	k.now_ns = cw_clock_calendar_ns(&clk);
	rc = o->hot_given ? cw_l1_scan_hot(l1, print_key, &k, &e) :
	    cw_l1_scan(l1, print_key, &k, &e);
	cw_buf_free(&k.line);
	if (rc != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	/* Like grep: a pattern that matches nothing is exit 1. */
	return k.listed == 0 && o->glob != NULL ? 1 : 0;
}

/* The hot list, to a file whole or not at all, or to stdout. */
static int
dump(const struct opts *o, struct cw_l1 *l1)
{
	struct cw_buf list = { 0 };
	struct cw_err e;
	size_t n;
	int rc;

	if ((rc = cw_l1_hot_list(l1, o->hot, &list, &n, &e)) == CW_OK) {
		if (strcmp(o->glob, "-") == 0)
			fwrite(list.data, 1, list.len, stdout);
		else
			rc = cw_fs_write_whole(o->glob, list.data, list.len,
			    0600, &e);
	}
	cw_buf_free(&list);
	if (rc != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	return 0;
}

/* What resize came to, in a line. */
static void
print_resized(const char *what, const struct cw_l1_resize_result *r)
{
	if (r->unchanged)
		printf("%s: already %llu entries, %llu bytes: nothing to do\n",
		    what, (unsigned long long)r->new_entries,
		    (unsigned long long)r->new_bytes);
	else
		printf("%s: %llu entries, %llu bytes -> %llu entries, %llu "
		    "bytes; kept %llu of %llu fresh entries\n", what,
		    (unsigned long long)r->old_entries,
		    (unsigned long long)r->old_bytes,
		    (unsigned long long)r->new_entries,
		    (unsigned long long)r->new_bytes,
		    (unsigned long long)r->kept, (unsigned long long)r->live);
}

static int
verify(struct cw_l1 *l1)
{
	struct cw_l1_verify v;
	struct cw_err e;
	int rc;

	if ((rc = cw_l1_verify(l1, &v, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	printf("checked %llu entries: %llu damaged, %llu bad rings, "
	    "entry counter %s\n", (unsigned long long)v.checked,
	    (unsigned long long)v.damaged, (unsigned long long)v.bad_rings,
	    v.count_mismatch ? "wrong" : "right");
	return v.damaged > 0 || v.bad_rings > 0 || v.count_mismatch ?
	    EX_DATAERR : 0;
}

/* vmstat-like: one line per interval, rates from the change in between. */
static int
every_interval(const struct opts *o, struct cw_l1 *l1,
    struct cw_stats_report *r)
{
	uint64_t last = 0;
	struct cw_err e;

	/* hit% and p99 are the window's: the last minutes, not all time. */
	printf("%-8s %10s %7s %10s %8s %6s\n", "time", "lookups/s", "hit%",
	    "p99", "entries", "fill%");
	for (long n = 0; o->count == 0 || n < o->count; n++) {
		char when[16], p99[32], pct[32];
		time_t t = time(NULL);
		struct tm tm;

		if (n > 0)
			sleep((unsigned)o->interval_s);
		if (cw_stats_collect(l1, o->window_s, r, &e) != CW_OK) {
			warnx("%s", e.msg);
			return cw_exit_code(e.code);
		}
		t = time(NULL);
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		if (r->window.latency.count == 0)
			snprintf(p99, sizeof(p99), "-");
		else
			snprintf(p99, sizeof(p99), "%.1fus",
			    (double)r->window.latency.p99_ns / 1e3);
		if (r->window.lookups == 0)
			snprintf(pct, sizeof(pct), "-");
		else
			snprintf(pct, sizeof(pct), "%.1f%%",
			    100 * r->window.hit_rate);
		printf("%-8s %10.1f %7s %10s %8llu %5.1f%%\n", when,
		    n == 0 ? r->rate_1m : (double)(r->lookups - last) /
		    (double)o->interval_s, pct, p99,
		    (unsigned long long)r->entries, r->fill_pct);
		last = r->lookups;
		if (fflush(stdout) != 0)
			return EX_IOERR;
	}
	return 0;
}

static int
run(struct opts *o)
{
	char journal[CW_CFG_STR];
	struct cw_stats_report *r = NULL;
	enum cw_stats_form form = CW_STATS_TABLE;
	struct cw_buf out = { 0 };
	struct cw_l1 *l1 = NULL;
	struct cw_err e;
	int status = 0;

	if (o->format != NULL && o->command == NULL) {
		if (strcmp(o->format, "json") == 0)
			form = CW_STATS_JSON;
		else if (strcmp(o->format, "prom") == 0)
			form = CW_STATS_PROM;
		else if (strcmp(o->format, "table") != 0)
			cli_misuse(usage_text,
			    "unknown output format '%s' (use table, json or "
			    "prom)", o->format);
	}
	struct cw_l1_resize_result resized;
	char path[CW_CFG_STR];

	if (o->command != NULL && strcmp(o->command, "config") == 0)
		return show_config(o);

	if (open_l1(o, &l1, journal, path, &resized, &e) != CW_OK) {
		warnx("%s", e.msg);
		if (o->check)
			printf("CACHEWARM UNKNOWN - %s\n", e.msg);
		/* A scrape that says the cache is down, and succeeds: a cron
		 * job writing the textfile collector's file then replaces
		 * the last one instead of leaving it stale. */
		if (form == CW_STATS_PROM && o->command == NULL && !o->reset &&
		    o->interval_s == 0 && !o->check) {
			cw_stats_prom_down(&out);
			fwrite(out.data, 1, out.len, stdout);
			cw_buf_free(&out);
			return 0;
		}
		return o->check ? CHECK_UNKNOWN : cw_exit_code(e.code);
	}
	if (l1 == NULL) {	/* resize: done */
		print_resized(path, &resized);
		goto done;
	}
	if (o->reset) {
		if (cw_l1_stats_reset(l1, &e) != CW_OK) {
			warnx("%s", e.msg);
			status = cw_exit_code(e.code);
		}
		goto done;
	}
	if (o->command != NULL) {
		status = strcmp(o->command, "keys") == 0 ? list_keys(o, l1) :
		    strcmp(o->command, "dump") == 0 ? dump(o, l1) : verify(l1);
		goto done;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		warnx("out of memory");
		status = o->check ? CHECK_UNKNOWN : EX_OSERR;
		goto done;
	}
	if (o->interval_s > 0) {
		status = every_interval(o, l1, r);
		goto done;
	}
	if (cw_stats_collect(l1, o->window_s, r, &e) != CW_OK) {
		warnx("%s", e.msg);
		status = o->check ? CHECK_UNKNOWN : cw_exit_code(e.code);
		goto done;
	}
	r->has_warm = 0;
	if (cw_stats_collect_journal(journal, r, &e) != CW_OK) {
		/* The cache's own figures still stand. */
		warnx("%s", e.msg);
		status = o->check ? CHECK_UNKNOWN : cw_exit_code(e.code);
		if (o->check)
			goto done;
	}
	if (o->check)
		status = cw_stats_check(r, &o->limits, &out);
	else if (cw_stats_format(l1, r, form, &out, &e) != CW_OK) {
		warnx("%s", e.msg);
		status = cw_exit_code(e.code);
	}
	fwrite(out.data, 1, out.len, stdout);
done:
	cw_buf_free(&out);
	free(r);
	cw_l1_close(l1);
	return status;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	int status;

	cli_start();
	cli_plugin_args(argc, argv, "--check", "CACHEWARM");
	parse_args(argc, argv, &o);
	status = run(&o);
	if (o.check)	/* a plugin's output that did not arrive: UNKNOWN */
		return cli_flush_stdout() == 0 ? status : CHECK_UNKNOWN;
	return cli_finish_stdout(status);
}
