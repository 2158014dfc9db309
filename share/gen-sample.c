/*
 * gen-sample: write the bundled sample data, realistic FX labels.
 *
 * usage: gen-sample DIR
 *
 * For EUR_USD, GBP_USD, USD_JPY, AUD_USD and USD_CAD, from 2024-01-01 to
 * 2024-03-31, it simulates 15-minute bars (a random walk whose volatility
 * follows the trading sessions, the market closed from Friday 22:00 to
 * Sunday 22:00 UTC), aggregates them to H1, H4 and D, and labels every bar
 * the way a trading model's training set does: the return over the next
 * four bars and its sign (-1, 0, 1) beyond a volatility-scaled barrier.
 *
 * Writes DIR/labels/INSTRUMENT/GRANULARITY.csv with the header
 * ts,instrument,granularity,open,high,low,close,volume,fwd_return,label.
 * Deterministic: its own PRNG (splitmix64) and fixed seeds, so the same
 * bytes come out on every machine; a test checks the shipped files.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define START 1704067200L	/* 2024-01-01T00:00:00Z, a Monday */
#define DAYS 91			/* to 2024-03-31 */
#define M15_BARS (DAYS * 96)
#define HORIZON 4		/* bars ahead for the label */

struct instrument {
	const char *name;
	double price;		/* 2024-01-01 open */
	double daily_vol;	/* fraction */
	int decimals;
};

static const struct instrument instruments[] = {
	{ "EUR_USD", 1.10420, 0.0045, 5 },
	{ "GBP_USD", 1.27310, 0.0052, 5 },
	{ "USD_JPY", 141.020, 0.0061, 3 },
	{ "AUD_USD", 0.68120, 0.0063, 5 },
	{ "USD_CAD", 1.32480, 0.0040, 5 },
};

static const struct {
	const char *name;
	int m15_per_bar;
} granularities[] = {
	{ "M15", 1 }, { "H1", 4 }, { "H4", 16 }, { "D", 96 },
};

struct bar {
	long ts;
	double open, high, low, close;
	long volume;
	int present;
};

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
uniform(uint64_t *s)
{
	return ((double)(splitmix64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double
normal(uint64_t *s)
{
	return sqrt(-2 * log(uniform(s))) * cos(6.283185307179586 *
	    uniform(s));
}

/* FX is closed from Friday 22:00 to Sunday 22:00 UTC. */
static int
market_open(long ts)
{
	long day = (ts / 86400 + 4) % 7;	/* 0 = Sunday */
	long hour = ts % 86400 / 3600;

	if (day == 6)
		return 0;
	if (day == 5 && hour >= 22)
		return 0;
	if (day == 0 && hour < 22)
		return 0;
	return 1;
}

/* Relative activity by UTC hour: Sydney/Tokyo quiet, London and the
 * London/New York overlap busy. */
static double
activity(long ts)
{
	static const double by_hour[24] = {
		0.55, 0.6, 0.6, 0.55, 0.5, 0.5, 0.6, 0.9, 1.4, 1.5, 1.3, 1.2,
		1.3, 1.7, 1.8, 1.6, 1.3, 1.0, 0.8, 0.7, 0.6, 0.5, 0.45, 0.5,
	};

	return by_hour[ts % 86400 / 3600];
}

static void
simulate(const struct instrument *in, uint64_t seed, struct bar *m15)
{
	double price = in->price;
	double bar_vol = in->daily_vol / sqrt(96.0);

	for (long i = 0; i < M15_BARS; i++) {
		struct bar *b = &m15[i];
		double a = activity(START + i * 900), sigma = bar_vol * a;
		double path = price;

		b->ts = START + i * 900;
		b->present = market_open(b->ts);
		if (!b->present)
			continue;
		b->open = b->high = b->low = price;
		/* Four sub-steps give the bar a high and low of its own. */
		for (int k = 0; k < 4; k++) {
			path *= exp(sigma / 2 * normal(&seed));
			if (path > b->high)
				b->high = path;
			if (path < b->low)
				b->low = path;
		}
		b->close = price = path;
		b->volume = (long)(400 * a * (0.6 + 0.8 * uniform(&seed))) + 1;
	}
}

static int
aggregate(const struct bar *m15, int per, struct bar *out)
{
	int n = 0;

	for (long i = 0; i < M15_BARS; i += per) {
		struct bar agg = { .ts = m15[i].ts };

		for (int k = 0; k < per; k++) {
			const struct bar *b = &m15[i + k];

			if (!b->present)
				continue;
			if (!agg.present) {
				agg = *b;
				agg.ts = m15[i].ts;
				continue;
			}
			if (b->high > agg.high)
				agg.high = b->high;
			if (b->low < agg.low)
				agg.low = b->low;
			agg.close = b->close;
			agg.volume += b->volume;
		}
		if (agg.present)
			out[n++] = agg;
	}
	return n;
}

static int
mkdirs(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int
write_file(const char *dir, const struct instrument *in, const char *gran,
    const struct bar *bars, int n, double bar_vol)
{
	char path[4096], ts[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/labels/%s", dir, in->name);
	if (mkdirs(path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/labels/%s/%s.csv", dir, in->name,
	    gran);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "ts,instrument,granularity,open,high,low,close,volume,"
	    "fwd_return,label\n");
	for (int i = 0; i < n; i++) {
		const struct bar *b = &bars[i];
		time_t t = (time_t)b->ts;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(f, "%s,%s,%s,%.*f,%.*f,%.*f,%.*f,%ld,", ts, in->name,
		    gran, in->decimals, b->open, in->decimals, b->high,
		    in->decimals, b->low, in->decimals, b->close, b->volume);
		if (i + HORIZON < n) {
			double r = bars[i + HORIZON].close / b->close - 1;
			double barrier = 0.5 * bar_vol * sqrt((double)HORIZON);

			fprintf(f, "%.6f,%d\n", r,
			    r > barrier ? 1 : r < -barrier ? -1 : 0);
		} else {
			fprintf(f, ",\n");	/* no future yet */
		}
	}
	return fclose(f);
}

int
main(int argc, char *argv[])
{
	static struct bar m15[M15_BARS], agg[M15_BARS];

	if (argc != 2) {
		fprintf(stderr, "usage: gen-sample DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(instruments) / sizeof(instruments[0]);
	    i++) {
		const struct instrument *in = &instruments[i];

		simulate(in, 0x5eed0000u + i, m15);
		for (size_t g = 0; g < sizeof(granularities) /
		    sizeof(granularities[0]); g++) {
			int per = granularities[g].m15_per_bar;
			int n = aggregate(m15, per, agg);

			if (write_file(argv[1], in, granularities[g].name, agg,
			    n, in->daily_vol / sqrt(96.0 / per)) != 0) {
				perror(argv[1]);
				return 74;
			}
		}
	}
	return 0;
}
