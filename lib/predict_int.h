/*
 * predict_int.h: the predictor's model, shared by predict.c (learning,
 * forecasting), predict_io.c (state file, CSV) and the unit tests.
 */
#ifndef CW_PREDICT_INT_H
#define CW_PREDICT_INT_H

#include <stdint.h>

#include "cw.h"
#include "intern_int.h"

/* Frames a pattern's day can be read in: UTC, then each session's own
 * local time. A pattern driven by London keeps its shape in London's
 * frame across the clock changes, where the UTC frame smears it. */
#define CW_FRAMES (1 + CW_SESSION_COUNT)

/* A pattern: a key shape (TYPE:INSTRUMENT:GRANULARITY at N trading days
 * back, or an opaque key), or a group (all patterns of one instrument,
 * or all opaque keys) whose shape is learned from much more data and
 * lends it to the sparse patterns in it. Plain data: saved as it is;
 * pattern i is named by id i of the model's names. */
struct cw_pat {
	uint32_t prefix_len;		/* "TYPE:INSTRUMENT:GRAN:" of the
					   name; 0 for an opaque key */
	int32_t offset;			/* trading days back */
	int32_t group;			/* index of its group; -1 in a group */
	uint32_t is_group;
	uint32_t frame;			/* the frame forecasts read */
	int64_t born_hour;		/* first hour folded */
	int64_t last_hour;		/* last hour it was read; -1 never */
	float pending[2];		/* reads in hour_open, hour_open + 1 */
	float open[CW_FRAMES][24];	/* reads an hour while FX trades,
					   by local hour of each frame */
	float closed[24];		/* reads an hour at the weekend, by
					   UTC hour */
	float sq_err[CW_FRAMES];	/* smoothed squared error of each
					   frame's one-hour-ahead forecast */
	uint16_t open_visits[24];	/* slot updates so far, by UTC hour: */
	uint16_t closed_visits[24];	/* the first ones weigh as a mean */
	float rate;			/* reads an hour while FX trades */
	float surprise;			/* smoothed actual / forecast */
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
/* Pick the frame a pattern's forecasts read, from its errors. */
void cw_predict_choose_frame(struct cw_pat *p);
double cw_predict_confidence(const struct cw_predict *m,
    const struct cw_pat *p);

#endif /* CW_PREDICT_INT_H */
