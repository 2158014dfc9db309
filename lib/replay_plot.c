/*
 * replay_plot: the replay's pictures, as gnuplot data and one script.
 *
 * Three charts, one line per strategy: the hit rate (served without the
 * source) hour by hour of simulated time, with the session opens marked;
 * the latency CDF of every lookup, on a log scale; and the source
 * queries per hour. The data are plain columns (a strategy's hours in
 * one column each, "?" where an hour had no lookups, which gnuplot
 * leaves out), so they can be plotted with anything else too. Running
 * gnuplot is the caller's: this module only writes files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "calendar_int.h"
#include "hist_int.h"

#define put(b, ...) cw_buf_appendf((b), NULL, __VA_ARGS__)

static int
write_file(const char *dir, const char *name, const struct cw_buf *b,
    struct cw_err *err)
{
	char path[CW_PATH_MAX + 64];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return cw_err_set(err, CW_EIO, ENAMETOOLONG, "%s", dir);
	return cw_fs_write_whole(path, b->data, b->len, 0644, err);
}

/* Hour by hour: column 1 the hour's start (Unix seconds), then one
 * column per strategy of what value() says of it. */
static void
hourly(const struct cw_replay_result *r, size_t n, int l3, struct cw_buf *b)
{
	size_t hours = 0;
	int64_t first = n > 0 ? r[0].first_hour_s : 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].hours > hours)
			hours = r[i].hours;
	put(b, "# hour");
	for (size_t i = 0; i < n; i++)
		put(b, " %s", cw_strategy_name(r[i].strategy));
	put(b, "\n");
	for (size_t h = 0; h < hours; h++) {
		put(b, "%lld", (long long)(first + 3600 * (int64_t)h));
		for (size_t i = 0; i < n; i++) {
			const uint64_t *c = h < r[i].hours ? r[i].hourly[h] :
			    NULL;

			if (c == NULL || (!l3 && c[0] == 0))
				put(b, " ?");
			else if (l3)
				put(b, " %llu", (unsigned long long)c[2]);
			else
				put(b, " %.3f", 100.0 * (double)c[1] /
				    (double)c[0]);
		}
		put(b, "\n");
	}
}

/* One block per strategy (gnuplot's index): latency in microseconds at
 * each bucket's top, and the share of lookups at or below it. */
static void
cdf(const struct cw_replay_result *r, size_t n, struct cw_buf *b)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t total = cw_hist_total(r[i].latency), seen = 0;

		put(b, "# %s\n", cw_strategy_name(r[i].strategy));
		for (unsigned k = 0; k < CW_HIST_BUCKETS && total > 0; k++) {
			if (r[i].latency[k] == 0)
				continue;
			seen += r[i].latency[k];
			put(b, "%.3f %.6f\n", (double)(k + 1 < CW_HIST_BUCKETS ?
			    cw_hist_bucket_low(k + 1) : cw_hist_bucket_low(k)) /
			    1e3, (double)seen / (double)total);
		}
		put(b, "\n\n");
	}
}

static void
script(const struct cw_replay_result *r, size_t n, const int64_t *opens,
    size_t nopens, const char *dir, struct cw_buf *b)
{
	put(b, "# cw-bench replay --plot: run as gnuplot %s/plots.gp\n"
	    "set terminal pngcairo size 1200,500 noenhanced\n"
	    "set key outside right\nset grid\n", dir);
	put(b, "set xdata time\nset timefmt '%%s'\n"
	    "set format x \"%%m-%%d\\n%%H:%%M\"\n"
	    "set xlabel 'simulated time (UTC)'\n");
	for (size_t i = 0; i < nopens; i++)
		put(b, "set arrow from %lld, graph 0 to %lld, graph 1 nohead "
		    "lc rgb '#dddddd'\n", (long long)opens[i],
		    (long long)opens[i]);
	put(b, "set output '%s/hit_rate.png'\n"
	    "set title 'served without the source, per simulated hour "
	    "(session opens marked)'\nset ylabel '%%'\nplot ", dir);
	for (size_t i = 0; i < n; i++)
		put(b, "%s'%s/hit_rate.dat' using 1:%zu with lines title '%s'",
		    i ? ", " : "", dir, i + 2, cw_strategy_name(r[i].strategy));
	put(b, "\nset output '%s/l3_per_hour.png'\n"
	    "set title 'source queries per simulated hour'\n"
	    "set ylabel 'queries'\nplot ", dir);
	for (size_t i = 0; i < n; i++)
		put(b, "%s'%s/l3_per_hour.dat' using 1:%zu with lines title "
		    "'%s'", i ? ", " : "", dir, i + 2,
		    cw_strategy_name(r[i].strategy));
	put(b, "\nunset arrow\nset xdata\nset format x '%%g'\n"
	    "set logscale x\nset output '%s/latency_cdf.png'\n"
	    "set title 'lookup latency, every lookup (real time)'\n"
	    "set xlabel 'microseconds'\nset ylabel 'share at or below'\n"
	    "set key bottom right inside\nplot ", dir);
	for (size_t i = 0; i < n; i++)
		put(b, "%s'%s/latency_cdf.dat' index %zu using 1:2 with steps "
		    "title '%s'", i ? ", " : "", dir, i,
		    cw_strategy_name(r[i].strategy));
	put(b, "\n");
}

int
cw_replay_plot_files(const struct cw_replay_result *r, size_t n,
    const struct cw_calendar *cal, const char *dir, struct cw_err *err)
{
	struct cw_buf b = { 0 };
	int64_t *opens = NULL, last = 0;
	size_t nopens = 0;
	int rc;

	if (strchr(dir, '\'') != NULL || strchr(dir, '\n') != NULL)
		return cw_err_set(err, CW_EUSAGE, 0, "--plot '%s': a directory "
		    "without quotes or newlines, for gnuplot", dir);
	if (n == 0)
		return CW_OK;
	last = r[0].first_hour_s + 3600 * (int64_t)r[0].hours;
	if ((rc = cw_calendar_opens(cal, r[0].first_hour_s, last,
	    &opens, &nopens, err)) != CW_OK)
		return rc;
	hourly(r, n, 0, &b);
	if ((rc = write_file(dir, "hit_rate.dat", &b, err)) != CW_OK)
		goto out;
	b.len = 0;
	hourly(r, n, 1, &b);
	if ((rc = write_file(dir, "l3_per_hour.dat", &b, err)) != CW_OK)
		goto out;
	b.len = 0;
	cdf(r, n, &b);
	if ((rc = write_file(dir, "latency_cdf.dat", &b, err)) != CW_OK)
		goto out;
	b.len = 0;
	/* Opens from the first hour: cw_calendar_opens looks a day back. */
	{
		size_t from = 0;

		while (from < nopens && opens[from] < r[0].first_hour_s)
			from++;
		script(r, n, opens + from, nopens - from, dir, &b);
	}
	rc = write_file(dir, "plots.gp", &b, err);
out:
	free(opens);
	cw_buf_free(&b);
	return rc;
}
