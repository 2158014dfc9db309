/*
 * calendar: the trading sessions as data, and which keys a session warms.
 *
 * The calendar is an INI file (share/calendar.conf; cw-warm(1) documents
 * it): a [calendar] section with the key types, granularities, how many
 * trading days back to warm, the FX week's zone and the holidays, and a
 * section per session with its IANA zone, local open and close, and the
 * instruments it drives. Its `releases` setting may name a second INI
 * file of scheduled releases (share/releases.conf): a section per kind
 * of release with its zone, local time, the currencies it moves and its
 * dates. A release warms as a session opening does: the keys of the
 * instruments it moves, critical, due at its time.
 *
 * Zones are resolved from the system's tzdata: the POSIX rule at the end
 * of the zone's TZif file (every TZif version 2 or later carries one for
 * the times past its table), so a government's change arrives with a
 * Debian update. When the file is missing or its rule cannot be read,
 * the embedded rules of cal.c answer for the zones they know. Local time
 * goes through those rules, never through TZ and localtime_r's process-
 * wide state.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "cw.h"
#include "calendar_int.h"
#include "cal_int.h"

/* ---- zones ---- */

/* A zone name as tzdata spells them: no way out of the directory. */
static int
valid_zone(const char *z)
{
	if (z[0] == '\0' || z[0] == '/' || strstr(z, "..") != NULL ||
	    strlen(z) >= CW_CAL_ZONE_MAX)
		return 0;
	for (const char *p = z; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/_-+", *p)))
			return 0;
	return 1;
}

/* A zone's POSIX rule from the system's tzdata: the footer of the TZif
 * file tzdir/zone (tzdir NULL: /usr/share/zoneinfo). CW_ENOTFOUND when
 * there is no such file, CW_EDATA when it carries no rule. */
static int
tz_load(const char *zone, const char *tzdir, struct cw_tz *tz,
    struct cw_err *err)
{
	char path[CW_PATH_MAX], rule[128];
	struct cw_buf b = { 0 };
	const char *end, *start;
	int fd, rc;

	if (!valid_zone(zone))
		return cw_err_set(err, CW_EDATA, 0, "zone '%s': not a zone "
		    "name", zone);
	if (tzdir == NULL || tzdir[0] == '\0')
		tzdir = "/usr/share/zoneinfo";
	if (snprintf(path, sizeof(path), "%s/%s", tzdir, zone) >=
	    (int)sizeof(path))
		return cw_err_set(err, CW_EDATA, ENAMETOOLONG, "%s", zone);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cw_err_set(err, CW_ENOTFOUND, errno, "zone %s", path);
	rc = cw_buf_read_fd(&b, fd, path, err);
	close(fd);
	if (rc != CW_OK)
		goto out;
	/* "TZif", a version byte, ... then "\nRULE\n" at the very end. */
	rc = cw_err_set(err, CW_EDATA, 0, "zone %s: no POSIX rule at its end "
	    "(not TZif version 2 or later)", path);
	if (b.len < 6 || memcmp(b.data, "TZif", 4) != 0 || b.data[4] < '2' ||
	    b.data[b.len - 1] != '\n')
		goto out;
	end = b.data + b.len - 1;
	for (start = end; start > b.data && start[-1] != '\n'; start--)
		;
	if (start == b.data || end - start >= (long)sizeof(rule) ||
	    end == start)
		goto out;
	memcpy(rule, start, (size_t)(end - start));
	rule[end - start] = '\0';
	rc = cw_cal_tz_parse(rule, tz, err);
out:
	cw_buf_free(&b);
	return rc;
}

/* The rules compiled in, for a machine without tzdata. */
static const struct {
	const char *zone, *rule;
} embedded[] = {
	{ "Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3" },
	{ "Asia/Tokyo", "JST-9" },
	{ "Europe/London", "GMT0BST,M3.5.0/1,M10.5.0" },
	{ "America/New_York", "EST5EDT,M3.2.0,M11.1.0" },
	{ "UTC", "UTC0" },
	{ "Etc/UTC", "UTC0" },
};

/* The system's rule for zone, else the embedded one; *from_system says
 * which. CW_EDATA when neither knows it. */
static int
resolve_zone(const char *zone, const char *tzdir, struct cw_tz *tz,
    int *from_system, struct cw_err *err)
{
	if (tz_load(zone, tzdir, tz, NULL) == CW_OK) {
		*from_system = 1;
		return CW_OK;
	}
	*from_system = 0;
	for (size_t i = 0; i < sizeof(embedded) / sizeof(embedded[0]); i++)
		if (strcmp(embedded[i].zone, zone) == 0)
			return cw_cal_tz_parse(embedded[i].rule, tz, err);
	return cw_err_set(err, CW_EDATA, 0, "zone '%s': not in the system's "
	    "tzdata and no rule for it is built in", zone);
}

/* ---- the file ---- */

struct load_ctx {
	struct cw_calendar *cal;
	const char *path;
	struct cw_err *err;
	int rc;
};

/* Split a space-separated list into words of at most cap - 1 bytes. */
static int
split_words(const char *value, char (*out)[CW_CAL_WORD], unsigned max,
    unsigned *n, const char *what, struct cw_err *err)
{
	const char *p = value;

	*n = 0;
	while (*p != '\0') {
		size_t len;

		p += strspn(p, " \t,");
		if ((len = strcspn(p, " \t,")) == 0)
			break;
		if (*n == max || len >= CW_CAL_WORD)
			return cw_err_set(err, CW_ECONFIG, 0, "%s: too many "
			    "or too long", what);
		memcpy(out[*n], p, len);
		out[(*n)++][len] = '\0';
		p += len;
	}
	return CW_OK;
}

/* "HH:MM" as minutes after midnight; 24:00 allowed for a close. */
static int
parse_hhmm(const char *s, int *min)
{
	int h, m, n = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] != '\0' ||
	    h < 0 || m < 0 || m > 59 || h * 60 + m > 24 * 60)
		return CW_EDATA;
	*min = h * 60 + m;
	return CW_OK;
}

static int
parse_date_day(const char *s, int64_t *day)
{
	int64_t t;

	if (strlen(s) != 10 || cw_cal_parse_utc(s, &t, NULL) != CW_OK)
		return CW_EDATA;
	*day = cw_cal_floor_div(t, 86400);
	return CW_OK;
}

/* A list of dates YYYY-MM-DD added to day[*n..max) as day numbers: a
 * setting may run over several lines, each handed over on its own. */
static int
parse_dates(const char *value, int64_t *day, unsigned *n, unsigned max,
    const char *what, struct cw_err *err)
{
	char (*words)[CW_CAL_WORD];
	unsigned got;
	int rc;

	if ((words = calloc(max, CW_CAL_WORD)) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "%s", what);
	rc = split_words(value, words, max - *n, &got, what, err);
	for (unsigned i = 0; rc == CW_OK && i < got; i++)
		if (parse_date_day(words[i], &day[(*n)++]) != CW_OK)
			rc = cw_err_set(err, CW_ECONFIG, 0, "%s: '%s' is not a "
			    "date YYYY-MM-DD", what, words[i]);
	free(words);
	return rc;
}

static struct cw_cal_session *
session_named(struct cw_calendar *cal, const char *name)
{
	for (unsigned i = 0; i < cal->nsessions; i++)
		if (strcmp(cal->session[i].name, name) == 0)
			return &cal->session[i];
	if (cal->nsessions == CW_CAL_SESSIONS || strlen(name) >= CW_CAL_WORD)
		return NULL;
	memset(&cal->session[cal->nsessions], 0, sizeof(cal->session[0]));
	strcpy(cal->session[cal->nsessions].name, name);
	cal->session[cal->nsessions].close_min = -1;
	return &cal->session[cal->nsessions++];
}

static int
apply(struct cw_calendar *cal, const char *sec, const char *name,
    const char *value, struct cw_err *err)
{
	struct cw_cal_session *s;
	char what[96];
	int rc;

	snprintf(what, sizeof(what), "%s.%s", sec, name);
	if (strcmp(sec, "calendar") == 0) {
		if (strcmp(name, "types") == 0)
			return split_words(value, cal->types, CW_CAL_LIST,
			    &cal->ntypes, what, err);
		if (strcmp(name, "granularities") == 0)
			return split_words(value, cal->grans, CW_CAL_LIST,
			    &cal->ngrans, what, err);
		if (strcmp(name, "days_back") == 0) {
			uint64_t v;

			if ((rc = cw_num_parse_u64(value, 0, 30, what, &v,
			    err)) != CW_OK)
				return CW_ECONFIG;
			cal->days_back = (unsigned)v;
			return CW_OK;
		}
		if (strcmp(name, "fx_zone") == 0) {
			snprintf(cal->fx_zone, sizeof(cal->fx_zone), "%s",
			    value);
			return CW_OK;
		}
		if (strcmp(name, "releases") == 0) {
			if (value[0] == '\0' || strlen(value) >=
			    sizeof(cal->releases_path))
				return cw_err_set(err, CW_ECONFIG, 0, "%s: "
				    "empty or too long", what);
			strcpy(cal->releases_path, value);
			return CW_OK;
		}
		if (strcmp(name, "holidays") == 0)
			return parse_dates(value, cal->holiday,
			    &cal->nholidays, CW_CAL_HOLIDAYS, what, err);
		return cw_err_set(err, CW_ECONFIG, 0, "unknown setting %s",
		    what);
	}
	if ((s = session_named(cal, sec)) == NULL)
		return cw_err_set(err, CW_ECONFIG, 0, "session [%s]: too many "
		    "sessions or too long a name", sec);
	if (strcmp(name, "zone") == 0) {
		if (!valid_zone(value))
			return cw_err_set(err, CW_ECONFIG, 0, "%s: '%s' is not "
			    "a zone name", what, value);
		strcpy(s->zone, value);
		return CW_OK;
	}
	if (strcmp(name, "open") == 0 || strcmp(name, "close") == 0) {
		if (parse_hhmm(value, name[0] == 'o' ? &s->open_min :
		    &s->close_min) != CW_OK)
			return cw_err_set(err, CW_ECONFIG, 0, "%s: '%s' is not "
			    "HH:MM", what, value);
		return CW_OK;
	}
	if (strcmp(name, "instruments") == 0)
		return split_words(value, s->instruments, CW_CAL_LIST,
		    &s->ninstruments, what, err);
	return cw_err_set(err, CW_ECONFIG, 0, "unknown setting %s", what);
}

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *lc = user;

	if (lc->rc != CW_OK)
		return 0;
	lc->rc = apply(lc->cal, section, name, value, lc->err);
	return lc->rc == CW_OK;
}

/* ---- the releases file ---- */

static struct cw_cal_release *
release_named(struct cw_calendar *cal, const char *name)
{
	struct cw_cal_release *r;

	for (unsigned i = 0; i < cal->nreleases; i++)
		if (strcmp(cal->release[i].keys.name, name) == 0)
			return &cal->release[i];
	if (cal->nreleases == CW_CAL_RELEASES || strlen(name) >= CW_CAL_WORD)
		return NULL;
	r = &cal->release[cal->nreleases++];
	memset(r, 0, sizeof(*r));
	strcpy(r->keys.name, name);
	r->keys.is_release = 1;
	r->keys.open_min = -1;
	return r;
}

/* One setting of a release's section. dates may run over several lines
 * (inih hands each continuation line over on its own), so they add up. */
static int
apply_release(struct cw_calendar *cal, const char *sec, const char *name,
    const char *value, struct cw_err *err)
{
	struct cw_cal_release *r;
	char what[96];

	snprintf(what, sizeof(what), "%s.%s", sec, name);
	if ((r = release_named(cal, sec)) == NULL)
		return cw_err_set(err, CW_ECONFIG, 0, "release [%s]: too many "
		    "releases or too long a name", sec);
	if (strcmp(name, "zone") == 0) {
		if (!valid_zone(value))
			return cw_err_set(err, CW_ECONFIG, 0, "%s: '%s' is not "
			    "a zone name", what, value);
		strcpy(r->keys.zone, value);
		return CW_OK;
	}
	if (strcmp(name, "time") == 0) {
		if (parse_hhmm(value, &r->keys.open_min) != CW_OK ||
		    r->keys.open_min == 24 * 60)
			return cw_err_set(err, CW_ECONFIG, 0, "%s: '%s' is not "
			    "HH:MM", what, value);
		return CW_OK;
	}
	if (strcmp(name, "currencies") == 0)
		return split_words(value, r->currencies, CW_CAL_LIST,
		    &r->ncurrencies, what, err);
	if (strcmp(name, "instruments") == 0)
		return split_words(value, r->keys.instruments, CW_CAL_LIST,
		    &r->keys.ninstruments, what, err);
	if (strcmp(name, "dates") == 0)
		return parse_dates(value, r->day, &r->ndays,
		    CW_CAL_RELEASE_DATES, what, err);
	return cw_err_set(err, CW_ECONFIG, 0, "unknown setting %s", what);
}

static int
on_release_ini(void *user, const char *section, const char *name,
    const char *value)
{
	struct load_ctx *lc = user;

	if (lc->rc != CW_OK)
		return 0;
	lc->rc = apply_release(lc->cal, section, name, value, lc->err);
	return lc->rc == CW_OK;
}

/* Parse one INI file into lc with handler; CW_ECONFIG naming the file
 * and line of the first thing wrong. */
static int
parse_file(const char *path, ini_handler handler, struct load_ctx *lc)
{
	FILE *f;
	int line;

	if ((f = fopen(path, "re")) == NULL)
		return cw_err_set(lc->err, CW_ECONFIG, errno, "calendar %s",
		    path);
	lc->path = path;
	lc->rc = CW_OK;
	line = ini_parse_file(f, handler, lc);
	fclose(f);
	if (lc->rc != CW_OK) {
		/* Name the file and line, keeping the reason. */
		char why[sizeof(lc->err->msg)];

		snprintf(why, sizeof(why), "%s", lc->err != NULL ?
		    lc->err->msg : "");
		/* Out of memory is not the file's fault. */
		return cw_err_set(lc->err, lc->rc == CW_ENOMEM ? CW_ENOMEM :
		    CW_ECONFIG, 0, "%s:%d: %s", path, line, why);
	}
	if (line != 0)
		return cw_err_set(lc->err, CW_ECONFIG, 0, "%s:%d: not INI",
		    path, line);
	return CW_OK;
}

_Static_assert(offsetof(struct cw_cal_release, keys) == 0,
    "a release's keys are where the release is");

static int
cmp_day(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Does instrument (BASE_QUOTE) hold currency? */
static int
holds_currency(const char *instrument, const char *currency)
{
	size_t n = strlen(currency);

	for (const char *p = instrument; *p != '\0';
	    p += strcspn(p, "_"), p += *p == '_')
		if (strncmp(p, currency, n) == 0 &&
		    (p[n] == '_' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The instruments a release moves, unless it lists its own: every
 * session's instrument that holds one of its currencies, once each. */
static void
derive_instruments(const struct cw_calendar *cal, struct cw_cal_release *r)
{
	struct cw_cal_session *k = &r->keys;

	for (unsigned i = 0; i < cal->nsessions; i++)
		for (unsigned j = 0; j < cal->session[i].ninstruments; j++) {
			const char *ins = cal->session[i].instruments[j];
			int moved = 0, have = 0;

			for (unsigned c = 0; c < r->ncurrencies; c++)
				moved |= holds_currency(ins, r->currencies[c]);
			for (unsigned h = 0; h < k->ninstruments; h++)
				have |= strcmp(k->instruments[h], ins) == 0;
			if (moved && !have && k->ninstruments < CW_CAL_LIST)
				strcpy(k->instruments[k->ninstruments++], ins);
		}
}

/* Read the releases file the calendar names (relative to the calendar's
 * own directory) and check every release in it. */
static int
load_releases(struct cw_calendar *cal, const char *cal_path,
    const char *tzdir, struct cw_err *err)
{
	struct load_ctx lc = { cal, NULL, err, CW_OK };
	char path[CW_PATH_MAX];
	const char *slash = strrchr(cal_path, '/');
	int rc, from_system;

	if (cal->releases_path[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", cal->releases_path);
	else if (snprintf(path, sizeof(path), "%.*s/%s",
	    (int)(slash - cal_path), cal_path, cal->releases_path) >=
	    (int)sizeof(path))
		return cw_err_set(err, CW_ECONFIG, ENAMETOOLONG, "releases "
		    "%s", cal->releases_path);
	if ((rc = parse_file(path, on_release_ini, &lc)) != CW_OK)
		return rc;
	for (unsigned i = 0; i < cal->nreleases; i++) {
		struct cw_cal_release *r = &cal->release[i];

		if (r->keys.zone[0] == '\0' || r->keys.open_min < 0 ||
		    r->ndays == 0 || (r->ncurrencies == 0 &&
		    r->keys.ninstruments == 0))
			return cw_err_set(err, CW_ECONFIG, 0, "releases %s: "
			    "[%s] needs zone, time, dates, and currencies or "
			    "instruments", path, r->keys.name);
		for (unsigned s = 0; s < cal->nsessions; s++)
			if (strcmp(cal->session[s].name, r->keys.name) == 0)
				return cw_err_set(err, CW_ECONFIG, 0,
				    "releases %s: [%s] is also a session",
				    path, r->keys.name);
		if (r->keys.ninstruments == 0)
			derive_instruments(cal, r);
		if (r->keys.ninstruments == 0)
			return cw_err_set(err, CW_ECONFIG, 0, "releases %s: "
			    "[%s] moves none of the calendar's instruments",
			    path, r->keys.name);
		if (resolve_zone(r->keys.zone, tzdir, &r->keys.tz,
		    &from_system, err) != CW_OK)
			return CW_ECONFIG;
		r->keys.tz_from_system = from_system;
		qsort(r->day, r->ndays, sizeof(r->day[0]), cmp_day);
	}
	return CW_OK;
}

int
cw_calendar_load(struct cw_calendar **out, const char *path,
    const char *tzdir, struct cw_err *err)
{
	struct cw_calendar *cal;
	struct load_ctx lc;
	int from_system, rc = CW_OK;

	*out = NULL;
	if ((cal = calloc(1, sizeof(*cal))) == NULL)
		return cw_err_set(err, CW_ENOMEM, 0, "calendar");
	strcpy(cal->fx_zone, "America/New_York");
	cal->days_back = 1;
	lc.cal = cal;
	lc.err = err;
	if ((rc = parse_file(path, on_ini, &lc)) != CW_OK)
		goto fail;
	if (cal->nsessions == 0 || cal->ntypes == 0 || cal->ngrans == 0) {
		rc = cw_err_set(err, CW_ECONFIG, 0, "calendar %s: needs "
		    "sessions, types and granularities", path);
		goto fail;
	}
	for (unsigned i = 0; i < cal->nsessions; i++) {
		struct cw_cal_session *s = &cal->session[i];

		if (s->zone[0] == '\0' || s->close_min < 0 ||
		    s->close_min <= s->open_min || s->ninstruments == 0) {
			rc = cw_err_set(err, CW_ECONFIG, 0, "calendar %s: "
			    "session [%s] needs zone, open before close, and "
			    "instruments", path, s->name);
			goto fail;
		}
		if ((rc = resolve_zone(s->zone, tzdir, &s->tz,
		    &s->tz_from_system, err)) != CW_OK) {
			rc = CW_ECONFIG;
			goto fail;
		}
	}
	if (resolve_zone(cal->fx_zone, tzdir, &cal->fx_tz, &from_system,
	    err) != CW_OK) {
		rc = CW_ECONFIG;
		goto fail;
	}
	if (cal->releases_path[0] != '\0' &&
	    (rc = load_releases(cal, path, tzdir, err)) != CW_OK)
		goto fail;
	*out = cal;
	return CW_OK;
fail:
	free(cal);
	return rc;
}

void
cw_calendar_free(struct cw_calendar *cal)
{
	free(cal);
}

/* ---- sessions in time ---- */

const struct cw_cal_session *
cw_calendar_session(const struct cw_calendar *cal, const char *name)
{
	for (unsigned i = 0; i < cal->nsessions; i++)
		if (strcmp(cal->session[i].name, name) == 0)
			return &cal->session[i];
	for (unsigned i = 0; i < cal->nreleases; i++)
		if (strcmp(cal->release[i].keys.name, name) == 0)
			return &cal->release[i].keys;
	return NULL;
}

int
cw_calendar_trading_day(const struct cw_calendar *cal, int64_t day)
{
	if (cw_cal_weekday(day) > 4)
		return 0;
	for (unsigned i = 0; i < cal->nholidays; i++)
		if (cal->holiday[i] == day)
			return 0;
	return 1;
}

/* The instant local time `local_s` (seconds since the epoch, as if the
 * zone's wall clock were UTC) happens in the zone. A time skipped by a
 * change forward resolves to the later offset's reading. */
static int64_t
utc_of_local(const struct cw_tz *tz, int64_t local_s)
{
	int64_t guess = local_s - tz->std_offset_s;
	int64_t utc = local_s - cw_cal_tz_offset_s(tz, guess);

	return local_s - cw_cal_tz_offset_s(tz, utc);
}

/* Unix seconds of session s's open on its local day. */
static int64_t
open_s(const struct cw_cal_session *s, int64_t local_day)
{
	return utc_of_local(&s->tz, local_day * 86400 +
	    (int64_t)s->open_min * 60);
}

/* Does session s open on its local day `day`? A trading day, and the FX
 * market open at that instant (not inside its weekend). */
static int
opens_on(const struct cw_calendar *cal, const struct cw_cal_session *s,
    int64_t day)
{
	return cw_calendar_trading_day(cal, day) &&
	    cw_cal_fx_open(&cal->fx_tz, open_s(s, day));
}

size_t
cw_calendar_opening(const struct cw_calendar *cal, int64_t at_s,
    int64_t lead_s, struct cw_cal_open *out, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < cal->nsessions && n < cap; i++) {
		const struct cw_cal_session *s = &cal->session[i];
		struct cw_local l;

		cw_cal_tz_local(&s->tz, at_s, &l);
		/* The open that may fall inside [at, at + lead] is today's
		 * or, near midnight, tomorrow's. */
		for (int64_t day = l.days; day <= l.days + 1 && n < cap;
		    day++) {
			int64_t open = open_s(s, day);

			if (open >= at_s && open <= at_s + lead_s &&
			    opens_on(cal, s, day)) {
				out[n].session = s;
				out[n].local_day = day;
				out[n++].open_s = open;
			}
		}
	}
	return n;
}

int
cw_calendar_opens(const struct cw_calendar *cal, int64_t from_s, int64_t to_s,
    int64_t **out, size_t *n, struct cw_err *err)
{
	struct cw_cal_open o[CW_CAL_SESSIONS];
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	/* Hour by hour, each hour's opens: a day back, for a session whose
	 * trading day began before from_s. */
	for (int64_t at = from_s - 86400; at <= to_s; at += 3600) {
		size_t got = cw_calendar_opening(cal, at, 3599, o,
		    CW_CAL_SESSIONS);

		for (size_t i = 0; i < got; i++) {
			if (*n > 0 && o[i].open_s <= (*out)[*n - 1])
				continue;
			if (*n == cap) {
				int64_t *v = realloc(*out, (cap = cap ?
				    2 * cap : 64) * sizeof(*v));

				if (v == NULL) {
					free(*out);
					*out = NULL;
					*n = 0;
					return cw_err_set(err, CW_ENOMEM, 0,
					    "calendar");
				}
				*out = v;
			}
			(*out)[(*n)++] = o[i].open_s;
		}
	}
	return CW_OK;
}

size_t
cw_calendar_releasing(const struct cw_calendar *cal, int64_t at_s,
    int64_t lead_s, struct cw_cal_open *out, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < cal->nreleases && n < cap; i++) {
		const struct cw_cal_release *r = &cal->release[i];

		/* A release's own dates, not the trading days, say when:
		 * an operator may list one on any day. */
		for (unsigned d = 0; d < r->ndays && n < cap; d++) {
			int64_t when = open_s(&r->keys, r->day[d]);

			if (when >= at_s && when <= at_s + lead_s) {
				out[n].session = &r->keys;
				out[n].local_day = r->day[d];
				out[n++].open_s = when;
			}
		}
	}
	return n;
}

int
cw_calendar_day_of(const struct cw_calendar *cal,
    const struct cw_cal_session *s, int64_t at_s, struct cw_cal_open *out)
{
	struct cw_local l;

	cw_cal_tz_local(&s->tz, at_s, &l);
	if (s->is_release) {
		/* keys is a release's first member. */
		const struct cw_cal_release *r =
		    (const struct cw_cal_release *)(const void *)s;

		for (unsigned i = 0; i < r->ndays; i++)
			if (r->day[i] >= l.days) {
				out->session = s;
				out->local_day = r->day[i];
				out->open_s = open_s(s, r->day[i]);
				return CW_OK;
			}
		return CW_ENOTFOUND;
	}
	for (int64_t day = l.days; day < l.days + 14; day++)
		if (opens_on(cal, s, day)) {
			out->session = s;
			out->local_day = day;
			out->open_s = open_s(s, day);
			return CW_OK;
		}
	return CW_ENOTFOUND;
}

int
cw_calendar_keys(const struct cw_calendar *cal, const struct cw_cal_open *o,
    struct cw_buf *out, struct cw_err *err)
{
	int64_t days[1 + 30];
	unsigned ndays = 0;
	int rc;

	/* The session's own day, then the trading days before it. */
	for (int64_t d = o->local_day; ndays <= cal->days_back &&
	    d > o->local_day - 60; d--)
		if (d == o->local_day || cw_calendar_trading_day(cal, d))
			days[ndays++] = d;
	for (unsigned i = 0; i < o->session->ninstruments; i++)
		for (unsigned t = 0; t < cal->ntypes; t++)
			for (unsigned g = 0; g < cal->ngrans; g++)
				for (unsigned k = 0; k < ndays; k++) {
					int y, m, dd;

					cw_cal_civil_from_days(days[k], &y, &m,
					    &dd);
					if ((rc = cw_buf_appendf(out, err,
					    "%s:%s:%s:%04d-%02d-%02d\n",
					    cal->types[t],
					    o->session->instruments[i],
					    cal->grans[g], y, m, dd)) !=
					    CW_OK)
						return rc;
				}
	return CW_OK;
}
