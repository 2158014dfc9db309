/*
 * cw-get: look keys up through the cache levels and print their values.
 *
 * One key prints its raw value; several keys, or keys read from stdin
 * with "-", print one TSV (or JSON) record per key found. Lookups fill the
 * upper levels on the way back and are appended to the access log.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cw.h"
#include "cli.h"

struct opts {
	const char *config;
	const char *l1_file;
	enum cw_format format;
	int format_given;
	int no_fill;
	int quiet;
	int verbose;
	int64_t ttl_ms;
	char **keys;
	int nkeys;
	int from_stdin;
};

/* Keys looked up together: the L1 misses of a batch go to L2 in one
 * round trip. */
#define BATCH_MAX 1024

/* What one run has seen, to report each backend failure once. */
struct run {
	const struct opts *o;
	int stale_exit_ok;		/* [l1] stale_exit_ok */
	int stale_said;
	struct cw_hier *hier;
	struct cw_hier_item *items;	/* BATCH_MAX of them */
	struct cw_buf line;
	int status;
	int reported[8];
	int nreported;
};

static const char usage_text[] =
    "usage: cw-get [-hqv] [-c file] [-f l1file] [-o format] "
    "[--no-fill] [--ttl duration] key ... | -\n";

static void
help(void)
{
	fputs(usage_text, stdout);
	printf("Look keys up through the cache levels (L1 file, Redis, source) "
	    "and print their values.\n\n"
	    "  -c, --config FILE    configuration file "
	    "(default: $CW_CONFIG, ~/.config/cw/cw.conf, /etc/cw/cw.conf)\n"
	    "  -f, --l1-file FILE   the L1 file (default: from the config, "
	    "~/.cache/cw/l1)\n"
	    "  -h, --help           print this help and exit\n"
	    "  -o, --output FORMAT  tsv or json (default: raw for one key, "
	    "tsv for several)\n"
	    "  -q, --quiet          do not report keys that were not found\n"
	    "  -v, --verbose        report the level and latency of each key "
	    "on stderr\n"
	    "      --no-fill        do not fill upper levels on the way back\n"
	    "      --ttl DURATION   L1 lifetime of filled entries "
	    "(default: the config's, 300s)\n"
	    "      --version        print the version and exit\n"
	    "\n\"-\" reads keys from stdin, one per line (the first TSV "
	    "column).\n"
	    "Exit: 0 all found, 1 some not found, 2 usage, 65 malformed key, "
	    "69 backend down, 74 I/O error, 75 timeout, 78 bad config.\n");
}

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	enum { OPT_NO_FILL = 256, OPT_TTL, OPT_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "l1-file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-fill", no_argument, NULL, OPT_NO_FILL },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct cw_err e;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:f:ho:qv", longopts, NULL)) !=
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
		case 'o':
			o->format = cli_output_format(usage_text, optarg, 1);
			o->format_given = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case OPT_NO_FILL:
			o->no_fill = 1;
			break;
		case OPT_TTL:
			if (cw_num_parse_duration_ms(optarg, "--ttl", &o->ttl_ms,
			    &e) != CW_OK)
				cli_misuse(usage_text, "%s", e.msg);
			if (o->ttl_ms <= 0)
				cli_misuse(usage_text,
				    "--ttl must be positive");
			break;
		case OPT_VERSION:
			printf("cw-get (cachewarm) %s\n", CW_VERSION);
			exit(0);
		default:
			cli_misuse(usage_text, NULL);
		}
	}
	o->keys = argv + optind;
	o->nkeys = argc - optind;
	if (o->nkeys == 0)
		cli_misuse(usage_text, "no key given");
	for (int i = 0; i < o->nkeys; i++)
		if (strcmp(o->keys[i], "-") == 0)
			o->from_stdin = 1;
	if (o->from_stdin && o->nkeys > 1)
		cli_misuse(usage_text, "'-' cannot be mixed with keys");
	if (!o->format_given)
		o->format = o->nkeys == 1 && !o->from_stdin ? CW_FORMAT_RAW :
		    CW_FORMAT_TSV;
}

/* Say a failure once per kind of failure, not once per key. */
static void
report_once(struct run *r, const struct cw_err *e, int rc)
{
	for (int i = 0; i < r->nreported; i++)
		if (r->reported[i] == rc)
			return;
	if (r->nreported < (int)(sizeof(r->reported) /
	    sizeof(r->reported[0])))
		r->reported[r->nreported++] = rc;
	warnx("%s", e->msg);
}

/*
 * A batch's records go to stdout together, in one fwrite per OUT_CHUNK
 * bytes or per batch: a call per record cost more than the L1 lookup
 * that found it. Larger chunks measured no better: stdio copies them
 * into its buffer all the same.
 */
#define OUT_CHUNK 2048

static void
put_records(struct run *r)
{
	if (r->line.len == 0)
		return;	/* and nothing allocated yet, maybe */
	fwrite(r->line.data, 1, r->line.len, stdout);
	r->line.len = 0;
}

/* Report and print one looked-up key. */
static void
emit(struct run *r, struct cw_hier_item *it)
{
	struct cw_err e;
	size_t at;

	r->status = cw_exit_worse(r->status, cw_exit_code(it->rc));
	if (it->res.stale_ns > 0) {
		/* Served, and said once: the levels below failed. */
		if (!r->stale_said++)
			warnx("%s; serving from L1 past its lifetime "
			    "(stale_if_error)", it->err.msg);
		if (!r->stale_exit_ok)
			r->status = cw_exit_worse(r->status,
			    cw_exit_code(it->res.stale_rc));
	}
	if (it->rc == CW_EDATA)
		warnx("%s", it->err.msg);
	else if (it->rc == CW_ENOTFOUND && !r->o->quiet)
		warnx("%s", it->err.msg);
	else if (it->rc != CW_OK && it->rc != CW_ENOTFOUND)
		report_once(r, &it->err, it->rc);
	if (r->o->verbose && it->res.stale_ns > 0)
		fprintf(stderr, "cw-get: %.*s: l1 stale (%.0f s past its "
		    "lifetime) in %.1f us\n", (int)it->klen, it->key,
		    (double)it->res.stale_ns / 1e9,
		    (double)it->res.latency_ns / 1000.0);
	else if (r->o->verbose && it->rc != CW_EDATA)
		fprintf(stderr, "cw-get: %.*s: %s %s in %.1f us\n",
		    (int)it->klen, it->key, cw_level_name(it->res.level),
		    it->rc == CW_OK ? "hit" : it->rc == CW_ENOTFOUND ?
		    "not found" : "failed",
		    (double)it->res.latency_ns / 1000.0);
	if (it->rc != CW_OK)
		return;
	if (r->o->format == CW_FORMAT_RAW) {
		fwrite(it->val.data, 1, it->val.len, stdout);
		return;
	}
	at = r->line.len;
	if (cw_out_record(&r->line, r->o->format, it->key, it->klen,
	    it->val.data, it->val.len, &e) != CW_OK) {
		r->line.len = at;	/* no part of a record */
		r->status = cw_exit_worse(r->status, cw_exit_code(e.code));
		warnx("%s", e.msg);
		return;
	}
	/* Beside -v's lines, each record goes out after its own. */
	if (r->o->verbose || r->line.len >= OUT_CHUNK)
		put_records(r);
}

/* Look up items[0..n) as one batch, print them in order. */
static void
lookup_batch(struct run *r, size_t n)
{
	if (cw_hier_get_batch(r->hier, r->items, n) == CW_ENOMEM) {
		warnx("out of memory");
		r->status = cw_exit_worse(r->status, EX_OSERR);
		return;
	}
	for (size_t i = 0; i < n; i++)
		emit(r, &r->items[i]);
	put_records(r);
}

/* The key of a line: up to the first TAB (or a CR before the LF).
 * memchr looks at many bytes at a time, and a key is short. */
static size_t
first_field_len(const char *line, size_t len)
{
	const char *tab = memchr(line, '\t', len), *cr;

	if (tab != NULL)
		len = (size_t)(tab - line);
	if ((cr = memchr(line, '\r', len)) != NULL)
		len = (size_t)(cr - line);
	return len;
}

/* Keys from stdin, one per line (the first TSV column), in batches of
 * what has arrived; the answers are flushed before waiting for more. */
static void
lookup_stdin(struct run *r)
{
	struct cw_lines in = { .fd = 0 };
	struct cw_err e;
	const char *line;
	size_t len, n = 0;
	int rc;

	for (;;) {
		while (n < BATCH_MAX && cw_lines_next(&in, &line, &len)) {
			if (cli_not_a_key(line, len))
				continue;
			len = first_field_len(line, len);
			r->items[n].key = line;
			r->items[n++].klen = len;
		}
		if (n > 0) {
			lookup_batch(r, n);
			n = 0;
			continue;	/* the buffer may hold more lines */
		}
		if (fflush(stdout) != 0)
			break;		/* reported at exit */
		if ((rc = cw_lines_fill(&in, &e)) == CW_ENOTFOUND)
			break;
		if (rc != CW_OK) {
			warnx("stdin: %s", e.msg);
			r->status = cw_exit_worse(r->status, EX_IOERR);
			break;
		}
	}
	cw_lines_free(&in);
}

static int
run(const struct opts *o)
{
	struct cw_hier_opts ho;
	struct cw_cfg cfg;
	struct run r;
	struct cw_err e;
	size_t nitems;
	int rc;

	memset(&r, 0, sizeof(r));
	r.o = o;
	if ((rc = cw_cfg_load(&cfg, o->config, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	r.stale_exit_ok = cfg.l1_stale_exit_ok;
	if (o->l1_file != NULL) {
		if (strlen(o->l1_file) >= sizeof(cfg.l1_file)) {
			warnx("%s: path too long", o->l1_file);
			return 2;
		}
		strcpy(cfg.l1_file, o->l1_file);
	}
	memset(&ho, 0, sizeof(ho));
	ho.cfg = &cfg;
	ho.clock = cw_clock_system();
	ho.no_fill = o->no_fill;
	ho.ttl_ms = o->ttl_ms;
	ho.log_access = 1;
	ho.on_degraded = cli_degraded;
	if ((rc = cw_hier_open(&r.hier, &ho, &e)) != CW_OK) {
		warnx("%s", e.msg);
		return cw_exit_code(rc);
	}
	nitems = o->from_stdin ? BATCH_MAX : (size_t)o->nkeys;
	if ((r.items = calloc(nitems, sizeof(*r.items))) == NULL) {
		warnx("out of memory");
		cw_hier_close(r.hier);
		return EX_OSERR;
	}
	if (o->from_stdin) {
		lookup_stdin(&r);
	} else {
		for (size_t i = 0; i < nitems; i++) {
			r.items[i].key = o->keys[i];
			r.items[i].klen = strlen(o->keys[i]);
		}
		lookup_batch(&r, nitems);
	}
	/* Served without L1: the answers stand, the status says that the
	 * file failed (said already, through on_degraded). */
	r.status = cw_exit_worse(r.status,
	    cw_exit_code(cw_hier_l1_status(r.hier, NULL)));
	cw_hier_close(r.hier);
	for (size_t i = 0; i < nitems; i++)
		cw_buf_free(&r.items[i].val);
	free(r.items);
	cw_buf_free(&r.line);
	return r.status;
}

int
main(int argc, char *argv[])
{
	static char outbuf[1 << 16];
	struct opts o;

	cli_start();
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	parse_args(argc, argv, &o);
	return cli_finish_stdout(run(&o));
}
