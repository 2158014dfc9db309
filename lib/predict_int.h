/*
 * predict_int.h: the predictor's model, shared by predict.c (learning,
 * forecasting), predict_io.c (state file, CSV) and the unit tests.
 */
#ifndef CW_PREDICT_INT_H
#define CW_PREDICT_INT_H

#include <stdint.h>

#include "cw.h"
#include "alog_int.h"
#include "cal_int.h"
#include "intern_int.h"

/* Frames a pattern's day can be read in: UTC, then each session's own
 * local time. A pattern driven by London keeps its shape in London's
 * frame across the clock changes, where the UTC frame smears it. */
#define CW_FRAMES (1 + CW_SESSION_COUNT)
/* A pair traded in two sessions keeps one more clock: a part of its
 * profile in each session's local time, summed. Between the US and the
 * European clock changes its two halves move an hour apart, which no
 * single frame can follow. */
#define CW_FRAME_PAIR CW_FRAMES
#define CW_CLOCKS (CW_FRAMES + 1)

/* A pattern: a key shape (TYPE:INSTRUMENT:GRANULARITY at N trading days
 * back, or an opaque key), or a group (all patterns of one instrument,
 * or all opaque keys) whose shape is learned from much more data and
 * lends it to the sparse patterns in it. Plain data: saved as it is;
 * pattern i is named by id i of the model's names. */
struct cw_pat {
	/* What every forecast reads, together at the front: a forecast of
	 * tens of thousands of patterns is bound by cache misses. */
	uint32_t prefix_len;		/* "TYPE:INSTRUMENT:GRAN:" of the
					   name; 0 for an opaque key */
	int32_t offset;			/* trading days back; calendar days
					   for a weekend's date (D-n) */
	int32_t group;			/* index of its group; -1 in a group */
	uint32_t is_group;
	uint32_t calendar;		/* a weekend's date, D-n */
	uint32_t frame;			/* the frame forecasts read, or
					   CW_FRAME_PAIR */
	int32_t pair[2];		/* the sessions of its instrument's
					   currencies when they differ; -1 */
	float rate;			/* reads an hour while FX trades */
	float total;			/* reads, decayed over TOTAL_HOURS */
	float weekday[7];		/* by UTC weekday (Monday 0), how far
					   its reads run from its profile:
					   the factor less 1 */
	float pending[2];		/* reads in hour_open, hour_open + 1 */
	float base;			/* the profile's forecast of the hour
					   being folded */
	float surprise;			/* smoothed actual / forecast */
	float day_reads, day_base;	/* this UTC day so far: reads, and
					   the profile's forecast of them */
	int64_t born_hour;		/* first hour folded */
	int64_t last_hour;		/* last hour it was read; -1 never */
	float open[CW_FRAMES][24];	/* reads an hour while FX trades,
					   by local hour of each frame */
	float closed[24];		/* reads an hour at the weekend, by
					   UTC hour */
	float sq_err[CW_CLOCKS];	/* smoothed squared error of each
					   frame's one-hour-ahead forecast,
					   and of the pair's parts */
	float part[2][24];		/* the open profile split between
					   them, by each one's local hour */
	uint16_t open_visits[24];	/* slot updates so far, by UTC hour: */
	uint16_t closed_visits[24];	/* the first ones weigh as a mean */
};

/* Where the log was read up to, so the next run reads only what is new. */
struct cw_predict_logpos {
	uint64_t dev, ino;
	uint64_t offset;
};

struct cw_predict {
	struct cw_pat *pats;
	size_t n_pats, cap_pats;
	struct cw_intern names;
	struct cw_tz tz[CW_SESSION_COUNT];
	int64_t hour_open;		/* first hour not folded; INT64_MIN
					   before the first record */
	int64_t first_hour;		/* first hour ever folded */
	double level;			/* smoothed actual / forecast of all
					   reads: thin days show here */
	struct cw_predict_counts counts;
	struct cw_predict_logpos logpos;
	struct cw_backtest_report last_backtest;
	int has_backtest;
};

/* The pattern named name[0..len), created (blank) when create is set;
 * -1 when absent, or out of memory. */
int64_t cw_predict_intern(struct cw_predict *m, const char *name,
    size_t len, int create);
/* Set a pattern's name-derived fields (prefix, offset, group), creating
 * its group; -1 when the name is no pattern, or out of memory. */
int64_t cw_predict_pattern_index(struct cw_predict *m, const char *name,
    size_t len);
/* Do pattern i's stored fields (frame, prefix, offset) agree with its
 * name, as a pattern made here would? A state file whose checksum is
 * right may still not have been made by this library. */
int cw_predict_pat_sane(const struct cw_predict *m, size_t i);
static inline const char *
cw_predict_pat_name(const struct cw_predict *m, const struct cw_pat *p)
{
	return cw_intern_name(&m->names, (size_t)(p - m->pats));
}
const char *cw_predict_frame_name(unsigned f);
/* The two sessions of a pattern's or group's instrument (pair[] of
 * struct cw_pat), from its name. */
void cw_predict_name_pair(const char *name, size_t len, int32_t pair[2]);
/* Pick the frame a pattern's forecasts read, from its errors. */
void cw_predict_choose_frame(struct cw_pat *p);
double cw_predict_confidence(const struct cw_predict *m,
    const struct cw_pat *p);

/* ---- the learner's calls that the library's planners, the replay and the backtest make ---- */

/* The pattern a key read at at_s belongs to: TYPE:INSTRUMENT:GRAN:T for
 * the data of that trading day, T-1 for the one before, T+1 after; D-n
 * for a weekend's date, n calendar days back; an opaque key is its own
 * pattern. CW_EDATA for a malformed key. */
int cw_pattern_of_key(const char *key, size_t klen, int64_t at_s,
    char *out, size_t cap, struct cw_err *err);
/* The key a pattern names on the day of at_s. */
int cw_pattern_key(const char *pattern, int64_t at_s,
    char out[CW_KEY_MAX + 1], struct cw_err *err);

int cw_predict_new(struct cw_predict **out, struct cw_err *err);

/* One "ts,key[,...]" line (ts Unix seconds, fractions allowed), the key
 * CSV-quoted when it holds a comma or a quote, as the access log writes
 * it. key points into the line, or into scratch for a quoted key; rest
 * is what follows the key's field (",level,..." or ""). reads is how
 * many lookups the line stands for: the access log's fifth field
 * (",level,latency_us,count"), 1 in every other form. A count above
 * CW_ALOG_MAX_COUNT is no log line (CW_EDATA): the log's writer starts a
 * new line at that many. */
struct cw_log_line {
	int64_t ts_ms;
	const char *key;
	size_t klen;
	const char *rest;
	size_t rest_len;
	uint32_t reads;
	char scratch[CW_KEY_MAX + 1];
};
/* Split a line into out; CW_EDATA when it is not one. */
int cw_predict_parse_line(const char *line, size_t len,
    struct cw_log_line *out);
/* Learn one log line. Never fatal: a malformed line (CW_EDATA), one
 * after now_s or before now_s - history_s (now_s 0: no bounds), or one
 * for an hour already learned is counted and skipped. CW_ENOMEM alone
 * is an error. */
int cw_predict_learn_line(struct cw_predict *m, const char *line,
    size_t len, int64_t now_s, int64_t history_s);
/* Learn one read. Lines may come up to an hour out of order. */
int cw_predict_learn_key(struct cw_predict *m, int64_t ts_ms,
    const char *key, size_t klen);

/* The state file: written whole to a temporary file and renamed, so a
 * reader sees the old model or the new one. Load: CW_ENOTFOUND when
 * missing, CW_EDATA when damaged (the message says how to rebuild). */
int cw_predict_save(struct cw_predict *m, const char *path,
    struct cw_err *err);
int cw_predict_load(struct cw_predict **out, const char *path,
    struct cw_err *err);


/* One key the model expects reads of in a window: the pattern's index,
 * the time its key was named for (the window's start, or the midnight
 * the window crosses), the key, and its expected reads in the window.
 * Any result but CW_OK stops the walk and is returned. */
typedef int cw_expect_fn(void *ctx, size_t pattern, int64_t at_s,
    const char *key, double expected);
/* Every key the model expects reads of in [from_s, from_s + window_s),
 * pattern by pattern, unsorted and unfiltered but for patterns below
 * min_confidence: what cw_predict_forecast ranks, and what a backtest
 * scores without ranking. CW_EUSAGE for a window outside 1 s to 7 days,
 * CW_ENOMEM, or what fn returned. */
int cw_predict_expect(struct cw_predict *m, int64_t from_s,
    int64_t window_s, double min_confidence, cw_expect_fn *fn, void *ctx,
    struct cw_err *err);

/* The name of forecaster i: "model", "last_hour", "week_ago". */
const char *cw_backtest_method_name(unsigned i);

#endif /* CW_PREDICT_INT_H */
