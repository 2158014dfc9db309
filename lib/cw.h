/*
 * cw.h: the one public header of libcw, the cachewarm library, and the
 * programs' contract: cmd/ includes this and nothing else of lib/ (make
 * lint checks it), so a program cannot reach around the hierarchy.
 *
 * Every function returns 0 (CW_OK) or one negative CW_E* code, and its
 * comment names the codes it returns; detail goes into a caller-owned
 * struct cw_err (may be NULL). The library never prints, exits or
 * installs signal handlers, and keeps no mutable global state:
 * everything lives in a handle. Each stateful section opens with its
 * calling sequence.
 *
 * The sections, in layers: a section uses only those above it.
 *
 *   1. base         err, buf, fs, num, clock, lines, out, hist
 *   2. time, keys   key, cal (times as text), calendar (sessions as data)
 *   3. L1           l1: the shared file: open, figures, entries, resize
 *   4. config       cfg
 *   5. levels       fill (opaque), hier: every lookup and fill
 *   6. predict      predict, backtest, predict_out
 *   7. warm         sched (classes), warm (plan, run), journal, ready,
 *                   warm_out
 *   8. observe      stats, view
 *   9. bench        workload, trace and replay, quick
 *
 * What only the library calls lives in the private header of the module
 * that implements it, lib/<module>_int.h: the key parser (key_int.h),
 * market-time arithmetic (cal_int.h), the calendar's looks
 * (calendar_int.h), L1's gets, sets and counters (l1_int.h), L2
 * (l2_int.h), the sources (src_int.h), the fill machine (fill_int.h),
 * SQL templates (tmpl_int.h), the access log (alog_int.h), the
 * learner's steps (predict_int.h), the scheduler (sched_int.h), the
 * warm planner's pieces (warm_int.h), the journal's reader
 * (journal_int.h), histogram reading (hist_int.h), a trace's accesses
 * (trace_int.h).
 */
#ifndef CW_H
#define CW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define CW_VERSION "0.1.0"

/* ==== 1. base: the vocabulary every call shares ==== */

/* ---- err: result codes, error detail, exit statuses ---- */

enum cw_code {
	CW_OK = 0,
	CW_ENOTFOUND = -30800,	/* the key is nowhere: not an error */
	CW_EUSAGE,		/* the caller asked for something impossible */
	CW_EDATA,		/* malformed input: key, number, file content */
	CW_EUNAVAIL,		/* a backend needed for the answer is down */
	CW_EIO,			/* local I/O failed */
	CW_ETIMEOUT,		/* a deadline passed; retrying may help */
	CW_EFOREIGN,		/* a file is not ours: refused, never touched */
	CW_EVERSION,		/* our file, another format version */
	CW_ENOMEM,		/* out of memory */
	CW_ECONFIG,		/* the configuration is broken */
	CW_ETOOBIG,		/* a value larger than the cache can hold */
};

/* Caller-owned error detail. msg names the object: "open /x: Permission
 * denied", "key 'a:b': bad date". */
struct cw_err {
	int code;
	int sys_errno;
	char msg[256];
};

/* Fixed text for a code, never NULL. */
const char *cw_strerror(int code);

/* s[0..n) as printable text for a message, into dst (cap bytes, NUL-
 * terminated, cut with "..." when longer): control bytes, DEL and bytes
 * above 0x7e become \xHH, so no input can write to a terminal through
 * a diagnostic. Returns dst. */
const char *cw_err_printable(char *dst, size_t cap, const char *s, size_t n);

/* Fill err (if not NULL) and return code. sys_errno may be 0. */
int cw_err_set(struct cw_err *err, int code, int sys_errno,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The process exit status for a code: 0, 1 not found, 2 usage,
 * 65 data, 69 unavailable, 71 out of memory, 74 I/O, 75 temporary,
 * 78 configuration. */
int cw_exit_code(int code);

/* The more severe of two exit statuses, ranked
 * 2 > 78 > 71 > 74 > 69 > 75 > 65 > 1 > 0: a batch reports the worst. */
int cw_exit_worse(int status_a, int status_b);

/* ---- buf: a growable byte buffer owned by the caller ---- */

struct cw_buf {
	char *data;	/* NULL until the first reserve */
	size_t len;
	size_t cap;
};

/* Make room for at least cap bytes in total. CW_ENOMEM on failure. */
int cw_buf_reserve(struct cw_buf *b, size_t cap, struct cw_err *err);
/* Append n bytes. CW_ENOMEM. */
int cw_buf_append(struct cw_buf *b, const void *p, size_t n,
    struct cw_err *err);
/* Append everything readable from fd up to its end; a read error is
 * CW_EIO, named by what; CW_ENOMEM. */
int cw_buf_read_fd(struct cw_buf *b, int fd, const char *what,
    struct cw_err *err);
/* Append printf-formatted text, of any length. CW_ENOMEM. */
int cw_buf_appendf(struct cw_buf *b, struct cw_err *err, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Release the memory; accepts a zeroed buffer. */
void cw_buf_free(struct cw_buf *b);

/* ---- fs: files written whole ---- */

/*
 * Write len bytes of data to path as a whole or not at all: into
 * PATH.tmpPID (mode, missing parents made 0700), synced, then renamed
 * over path, so a reader, or a crash at any moment, finds the old file
 * or the new one, never half of one. CW_EIO naming what failed.
 */
int cw_fs_write_whole(const char *path, const void *data, size_t len,
    unsigned mode, struct cw_err *err);

/* ---- num: numbers, durations and sizes from text ---- */

/* A decimal unsigned integer in [min, max]; trailing junk is CW_EDATA.
 * what names the thing in the message ("--ttl"). */
int cw_num_parse_u64(const char *s, uint64_t min, uint64_t max,
    const char *what, uint64_t *out, struct cw_err *err);
/* A decimal number ("0.5", "99.9") in [min, max]; anything else,
 * trailing junk included, is CW_EDATA. */
int cw_num_parse_double(const char *s, double min, double max,
    const char *what, double *out, struct cw_err *err);
/* A duration: "300" (seconds), "500ms", "90s", "15m", "2h", "7d";
 * anything else, or one that overflows, is CW_EDATA. */
int cw_num_parse_duration_ms(const char *s, const char *what,
    int64_t *out_ms, struct cw_err *err);
/* A size: "4096", "512K", "100M", "2G" (powers of 1024); CW_EDATA
 * otherwise. */
int cw_num_parse_size(const char *s, const char *what, uint64_t *out_bytes,
    struct cw_err *err);

/* ---- clock: time comes in, so tests and benchmarks can drive it ---- */

/*
 * Two kinds of time, never mixed up. Calendar time is Unix time: when an
 * entry expires, which session is open, a cron time, the predictor's
 * "now", a log line's stamp. Elapsed time is monotonic: latencies, I/O
 * timeouts, deadlines, waits. A replay simulates the first while it
 * measures the second for real; with one clock it would read zero
 * latencies and time real backends out.
 */
struct cw_time {
	int64_t (*now_ns)(void *ctx);
	void *ctx;
};

/* Copy it by value; whatever the contexts point to must outlive it. */
struct cw_clock {
	struct cw_time calendar;
	struct cw_time elapsed;
	/* Wait ns of elapsed time (a driven clock just moves on). */
	void (*sleep_ns)(void *ctx, int64_t ns);
	void *sleep_ctx;
	/* Randomness (TTL jitter, lock tokens): the same seed gives the same
	 * numbers, so a replay or a test is repeatable. */
	uint64_t seed;
};

/* The system's clocks; a seed of its own for each process. */
struct cw_clock cw_clock_system(void);
/* A driven clock: both kinds read *now_ns; sleeping moves it on. */
struct cw_clock cw_clock_manual(int64_t *now_ns);
/* A replay's: calendar time from *calendar_ns, elapsed time real. */
struct cw_clock cw_clock_replay(int64_t *calendar_ns);
/* The n-th number of the clock's random sequence: a pure function of the
 * seed and n (callers count n), uniform over 64 bits. */
uint64_t cw_clock_random(const struct cw_clock *c, uint64_t n);

static inline int64_t
cw_clock_calendar_ns(const struct cw_clock *c)
{
	return c->calendar.now_ns(c->calendar.ctx);
}
static inline int64_t
cw_clock_elapsed_ns(const struct cw_clock *c)
{
	return c->elapsed.now_ns(c->elapsed.ctx);
}
static inline void
cw_clock_sleep_ns(const struct cw_clock *c, int64_t ns)
{
	c->sleep_ns(c->sleep_ctx, ns);
}

/* ---- lines: reading lines in batches of what has arrived ---- */

/* Calling sequence: struct cw_lines r = { .fd = fd }; then, until
 * cw_lines_fill says CW_ENOTFOUND, cw_lines_next for every line on hand
 * and cw_lines_fill for more; cw_lines_free. */

/* Set fd and zero the rest: struct cw_lines r = { .fd = 0 }. */
struct cw_lines {
	int fd;
	int eof;
	char *buf;
	size_t cap, start, end;
};

/* The next complete line on hand (without its newline; at end of input
 * the last unterminated one too): 1 with *line, *len set, valid until the
 * next cw_lines_fill; 0 when no complete line is buffered. Never reads. */
int cw_lines_next(struct cw_lines *r, const char **line, size_t *len);
/* One read(2): blocks until more input or its end. CW_ENOTFOUND once the
 * end was reached before, CW_EIO on a read error, CW_ENOMEM for a line
 * that outgrows memory. */
int cw_lines_fill(struct cw_lines *r, struct cw_err *err);
void cw_lines_free(struct cw_lines *r);

/* ---- out: how values travel in TSV and JSON ---- */

enum cw_format {
	CW_FORMAT_RAW,	/* the value's bytes as they are */
	CW_FORMAT_TSV,	/* key TAB escaped-value NEWLINE */
	CW_FORMAT_JSON,	/* {"key":...,"value":...} NEWLINE */
};

/* Parse "tsv" / "json" (and "raw"). CW_EUSAGE otherwise. */
int cw_out_parse_format(const char *s, enum cw_format *out,
    struct cw_err *err);
/* Append src with backslash, TAB, LF, CR and NUL escaped as \\ \t \n \r \0.
 * CW_ENOMEM. */
int cw_out_tsv_escape(struct cw_buf *dst, const void *src, size_t n,
    struct cw_err *err);

/* "name":"text" for UTF-8, else "name_base64":"..." (how keys and values
 * of any bytes are written in every JSON output). CW_ENOMEM. */
int cw_out_json_field(struct cw_buf *dst, const char *name, const void *src,
    size_t n, struct cw_err *err);

/* Append one batch record for key/value in format fmt (TSV or JSON).
 * JSON carries a value that is not UTF-8 as "value_base64" instead of
 * "value", so no byte is ever lost or replaced. CW_ENOMEM. */
int cw_out_record(struct cw_buf *dst, enum cw_format fmt, const char *key,
    size_t klen, const void *val, size_t vlen, struct cw_err *err);

/* ---- hist: latency histograms with bounded relative error ---- */

/*
 * Log-linear buckets over nanoseconds: exact below 256 ns, then 128
 * buckets per power of two, up to 2^36 ns (about 69 s; larger values land
 * in the last bucket). A bucket's width is at most 1/128 of its lower
 * bound, so a percentile read from it is within 0.8% of the true value.
 */
#define CW_HIST_BUCKETS (256 + 28 * 128)
#define CW_HIST_REL_ERROR (1.0 / 128)

/* ==== 2. time and keys ==== */

/* ---- key: the key grammar ---- */

/* A key is 1 to CW_KEY_MAX bytes without whitespace or control bytes;
 * a key of four parts, TYPE:INSTRUMENT:GRANULARITY:YYYY-MM-DD, is
 * structured and checked part by part (key_int.h has the parser). */
#define CW_KEY_MAX 250	/* bytes, memcached's bound */

/* ---- cal: market time: dates, zones, trading days, sessions ---- */

/* Unix seconds from "1709510400" or UTC "YYYY-MM-DD[THH:MM[:SS]][Z]";
 * CW_EDATA otherwise (a date that does not exist included). */
int cw_cal_parse_utc(const char *s, int64_t *out_s, struct cw_err *err);
/* "YYYY-MM-DDTHH:MM:SSZ", or "-" for a negative time (none). */
#define CW_CAL_UTC_LEN 24
void cw_cal_format_utc(int64_t s, char out[CW_CAL_UTC_LEN]);

/* A POSIX TZ rule with Mm.w.d transitions ("EST5EDT,M3.2.0,M11.1.0"). */
struct cw_tz_rule {
	int month, week, wday;	/* wday 0 Sunday, as POSIX */
	int32_t time_s;		/* local time of the change */
};

struct cw_tz {
	int32_t std_offset_s;	/* east of UTC */
	int32_t dst_offset_s;
	int has_dst;
	struct cw_tz_rule start, end;
};

/* The four FX sessions, defined in their own zones' local time. */
enum { CW_SESSION_SYDNEY, CW_SESSION_TOKYO, CW_SESSION_LONDON,
	CW_SESSION_NEW_YORK, CW_SESSION_COUNT };

/* ---- calendar: trading sessions as data, and the keys they warm ---- */

/* Calling sequence: cw_calendar_load, hand the calendar to the warm
 * planner (cw_warm_plan_sessions) or the replay's plot, cw_calendar_free.
 * A loaded calendar is read only: threads may share it. */

#define CW_CAL_SESSIONS 8
#define CW_CAL_LIST 16
#define CW_CAL_WORD 32
#define CW_CAL_ZONE_MAX 64
#define CW_CAL_HOLIDAYS 128

struct cw_cal_session {
	char name[CW_CAL_WORD];		/* "london" */
	char zone[CW_CAL_ZONE_MAX];	/* "Europe/London" */
	struct cw_tz tz;
	int tz_from_system;		/* 1: tzdata's rule; 0: built in */
	int open_min, close_min;	/* local minutes after midnight */
	char instruments[CW_CAL_LIST][CW_CAL_WORD];
	unsigned ninstruments;
	int is_release;		/* a release's keys: open_min is its time */
};

#define CW_CAL_RELEASES 32
#define CW_CAL_RELEASE_DATES 64
/* Room for every opening and release one look can return. */
#define CW_CAL_OPENS (CW_CAL_SESSIONS + CW_CAL_RELEASES)

/* A scheduled release (a rate decision, CPI, payrolls) from the file the
 * calendar's `releases` names: its local time in its zone, the dates it
 * falls on, and the instruments it moves: the calendar's instruments
 * that hold one of its currencies, or a list of its own. Its keys are
 * warmed as a session's, so `keys` carries its name, zone, time (as
 * open_min) and instruments. */
struct cw_cal_release {
	struct cw_cal_session keys;
	char currencies[CW_CAL_LIST][CW_CAL_WORD];
	unsigned ncurrencies;
	int64_t day[CW_CAL_RELEASE_DATES];	/* local days, ascending */
	unsigned ndays;
};

struct cw_calendar {
	struct cw_cal_session session[CW_CAL_SESSIONS];
	unsigned nsessions;
	char types[CW_CAL_LIST][CW_CAL_WORD];	/* key types to warm */
	unsigned ntypes;
	char grans[CW_CAL_LIST][CW_CAL_WORD];	/* granularities */
	unsigned ngrans;
	unsigned days_back;	/* trading days before the session's */
	int64_t holiday[CW_CAL_HOLIDAYS];	/* day numbers */
	unsigned nholidays;
	char fx_zone[CW_CAL_ZONE_MAX];	/* the FX week's: New York */
	struct cw_tz fx_tz;
	char releases_path[4096];	/* "": none (CW_PATH_MAX) */
	struct cw_cal_release release[CW_CAL_RELEASES];
	unsigned nreleases;
};

/* Read the calendar file at path (cw-warm(1) documents it), resolving
 * zones from tzdir's tzdata (NULL: the system's), else the built-in
 * rules. CW_ECONFIG naming the file and line (a missing file, a zone
 * known nowhere included), CW_ENOMEM. */
int cw_calendar_load(struct cw_calendar **out, const char *path,
    const char *tzdir, struct cw_err *err);
void cw_calendar_free(struct cw_calendar *cal);

/* One opening of a session. */
struct cw_cal_open {
	const struct cw_cal_session *session;
	int64_t local_day;	/* the session's trading day */
	int64_t open_s;		/* Unix seconds */
};

/* ==== 3. L1: the shared file ==== */

/* ---- l1: the shared mmap file ---- */

/*
 * Calling sequence: cw_l1_open (cw_cfg_l1_opts makes its options from a
 * configuration); then, in any order and from any thread, cw_l1_stats,
 * cw_l1_scan, cw_l1_scan_hot, cw_l1_hot_list, cw_l1_verify and
 * cw_l1_stats_reset; cw_l1_close. cw_l1_resize works on a path, not a
 * handle: the handles open on the file follow it by themselves. Reads
 * and writes of entries go through the hierarchy (hier), never around it.
 */

enum cw_level {
	CW_LEVEL_L1,
	CW_LEVEL_L2,
	CW_LEVEL_L3,
	CW_LEVEL_NONE,	/* found nowhere, or failed */
	CW_LEVEL_COUNT = CW_LEVEL_NONE,
};

enum cw_result {
	CW_RESULT_HIT,
	CW_RESULT_MISS,
	CW_RESULT_ERROR,
	CW_RESULT_TIMEOUT,
	CW_RESULT_COUNT,
};

/* Name of a level: "l1", "l2", "l3", "none". */
const char *cw_level_name(enum cw_level level);

/* Whose lookups a handle counts. The readers' are what the figures and
 * the monitoring check judge; warming is counted apart, so that a
 * warm-up's misses never read as the desk's. (cw-bench's probes go to a
 * scratch file of their own.) */
enum cw_role {
	CW_ROLE_READER,		/* cw-get and every program reading for use */
	CW_ROLE_WARMER,		/* cw-warm's fetches (and a replay's) */
	CW_ROLE_COUNT,
};


struct cw_l1;

struct cw_l1_opts {
	const char *path;	/* the file; copied */
	uint64_t max_entries;	/* used only when the file is created */
	uint64_t max_bytes;	/* ditto: bytes of records in the file */
	unsigned mode;		/* creation mode, e.g. 0600 */
	struct cw_clock clock;
	int must_exist;		/* do not create: a missing file is CW_EIO */
	int read_only;		/* for figures and listings (cw_l1_stats,
				   cw_l1_scan, cw_l1_get): needs read access
				   only, any owner; never creates, never
				   writes; calls that write are CW_EIO */
	int shared;		/* also use share_gid's, if others can't write */
	unsigned share_gid;
	enum cw_role role;	/* whose lookups this handle counts */
};

/* Entry flags. */
#define CW_L1_NEGATIVE 0x1u	/* a remembered "not found" */
#define CW_L1_WARM 0x2u		/* set ahead of use by a warmer: kept in
				   the main queue rather than on probation */
#define CW_L1_NO_EVICT 0x4u	/* take free space only: a set that would
				   evict fails with CW_ETOOBIG (not stored) */


/*
 * Open the L1 file at opts->path, creating it (atomically, mode
 * opts->mode, with the given capacity) when it does not exist. An existing
 * file keeps the geometry it was created with. Opened O_NOFOLLOW: a
 * symlink is refused. A file that is not ours is CW_EFOREIGN, another
 * version CW_EVERSION, a damaged header CW_EFOREIGN too; none of them is
 * ever modified. CW_EIO when the file cannot be opened, made or mapped
 * (a symlink, another owner's file that is not shared, missing with
 * must_exist or read_only), CW_ENOMEM. Safe across processes and threads: any number may open
 * one file, and threads may share a handle.
 */
int cw_l1_open(struct cw_l1 **out, const struct cw_l1_opts *opts,
    struct cw_err *err);
/* Unmap and close; accepts NULL. */
void cw_l1_close(struct cw_l1 *l1);


struct cw_l1_level_stats {
	uint64_t results[CW_RESULT_COUNT];
	uint64_t latency[CW_HIST_BUCKETS];
};

/* The eviction policy the L1 runs, chosen while it runs (l1_adapt.c):
 * S3-FIFO; S3-FIFO with a narrower small queue, for traffic where keys
 * read often should stay; S3-FIFO frozen, for a loop larger than the
 * cache; tinylfu, a window and a main queue whose door lets a key in
 * only if it was seen more often than the one it would evict (loops
 * mixed with other reads). */
enum cw_eviction {
	CW_EVICTION_S3FIFO, CW_EVICTION_NARROW, CW_EVICTION_FROZEN,
	CW_EVICTION_TINYLFU, CW_EVICTION_COUNT
};
/* Its name in cw-stats' table, JSON and metrics: "s3-fifo",
 * "s3-fifo-narrow", "s3-fifo-frozen", "tinylfu". */
const char *cw_eviction_name(enum cw_eviction e);

struct cw_l1_stats {
	uint64_t max_entries, max_bytes;
	uint64_t entries, bytes;		/* live now */
	uint64_t sets, evictions, expirations, damaged, too_big;
	uint64_t repairs;			/* recoveries after a dead writer */
	uint64_t stale_served;			/* answers past their lifetime,
						   when the levels below failed */
	enum cw_eviction eviction;		/* the policy in force */
	uint64_t policy_switches;		/* since the file was made */
	int64_t created_ns;
	int64_t reset_ns;			/* 0: never reset */
	/* The readers' lookups in the last 1, 5 and 15 whole minutes. */
	uint64_t lookups_1m, lookups_5m, lookups_15m;
	/* The readers' since the counters started. */
	struct cw_l1_level_stats level[CW_LEVEL_COUNT];
	uint64_t overall[CW_HIST_BUCKETS];	/* latency of whole lookups */
	/* Every role's outcomes since the counters started. */
	uint64_t by_role[CW_ROLE_COUNT][CW_LEVEL_COUNT][CW_RESULT_COUNT];
	/* The readers' in the window: the running minute and the whole
	 * ones before it, window_s in all. */
	unsigned window_s;
	uint64_t window_results[CW_LEVEL_COUNT][CW_RESULT_COUNT];
	uint64_t window_overall[CW_HIST_BUCKETS];
};

/* The longest window the file keeps, and the usual one. */
#define CW_L1_WINDOW_MAX_S 900
#define CW_L1_WINDOW_DEFAULT_S 300

/* Sum the shared counters into out (large: allocate it), with the
 * window of the last window_s seconds (whole minutes, 60 to
 * CW_L1_WINDOW_MAX_S, other values brought within; 0 for
 * CW_L1_WINDOW_DEFAULT_S). */
void cw_l1_stats(struct cw_l1 *l1, unsigned window_s, struct cw_l1_stats *out);

/* Zero every counter and histogram, and remember when (reset_ns). The
 * entries stay. Takes the writer lock: CW_EIO on a read-only handle,
 * CW_ETIMEOUT when the lock stays held. */
int cw_l1_stats_reset(struct cw_l1 *l1, struct cw_err *err);

/* One live entry, as cw_l1_scan shows it. key is valid only during the
 * callback. */
struct cw_l1_entry {
	const char *key;
	size_t key_len;
	uint32_t value_bytes;
	int64_t expires_ns;
	unsigned flags;
	unsigned reads;		/* S3-FIFO's access count, 0..3 */
	int in_main;		/* in S3-FIFO's main queue: read again since
				   it came in, or warmed there */
};

/* Return nonzero to stop the scan. */
typedef int cw_l1_scan_fn(const struct cw_l1_entry *e, void *ctx);

/* Call fn for every live entry. The entries are copied first, without
 * the writer lock (as readers do: an entry rewritten during the copy is
 * left out), so fn may wait on anything (a full pipe) without holding
 * anyone back, and read access is enough. CW_ENOMEM. */
int cw_l1_scan(struct cw_l1 *l1, cw_l1_scan_fn *fn, void *ctx,
    struct cw_err *err);
/* The same, hottest first by the L1's own access marks: in the main
 * queue (read again since it came in), then more reads, then longer
 * left. CW_ENOMEM. */
int cw_l1_scan_hot(struct cw_l1 *l1, cw_l1_scan_fn *fn, void *ctx,
    struct cw_err *err);
/* The hot list: the keys of the limit (0: all) hottest values (not the
 * remembered misses), one a line, appended to out, for `cw-warm -` to
 * take back on a host that lost its L1 file (write it with
 * cw_fs_write_atomic); *n gets how many. CW_ENOMEM. */
int cw_l1_hot_list(struct cw_l1 *l1, size_t limit, struct cw_buf *out,
    size_t *n, struct cw_err *err);

/* What cw_l1_resize did. */
struct cw_l1_resize_result {
	uint64_t old_entries, old_bytes;	/* the old file's capacity */
	uint64_t new_entries, new_bytes;	/* the new one's */
	uint64_t live;		/* entries fresh in the old file */
	uint64_t kept;		/* of which copied into the new one */
	int unchanged;		/* already of that capacity: nothing done */
};

/*
 * Give the L1 file at opts->path the capacity opts asks for, without
 * going cold: a new file is built beside it from the old one's hottest
 * fresh entries that fit (with their lifetimes and the counters), then
 * renamed over it; the old header is then marked, and every handle on it,
 * in any process, reopens the path on its next operation. Writers wait
 * on the old file's lock meanwhile; readers never wait. The old file's
 * mode and group are kept. CW_EIO, CW_ENOMEM; the old file is untouched
 * by a failure.
 */
int cw_l1_resize(const struct cw_l1_opts *opts,
    struct cw_l1_resize_result *out, struct cw_err *err);

struct cw_l1_verify {
	uint64_t checked;	/* live slots looked at */
	uint64_t damaged;	/* of which failed bounds, key hash or checksum */
	uint64_t bad_rings;	/* rings whose head and tail disagree */
	int count_mismatch;	/* the entry counter disagrees with the index */
};

/* Check every entry end to end without changing anything, under the
 * writer lock: CW_EIO on a read-only handle, CW_ETIMEOUT when the lock
 * stays held. Damage is counted in out, not returned. */
int cw_l1_verify(struct cw_l1 *l1, struct cw_l1_verify *out,
    struct cw_err *err);

/* ==== 4. configuration ==== */

/* ---- cfg: configuration ---- */

/* Calling sequence: cw_cfg_load into a struct cw_cfg the caller owns
 * (large: allocate it), then hand it to cw_hier_open, cw_warm_run,
 * cw_ready_measure or cw_replay_run, which read it while they run. */

#define CW_PATH_MAX 4096
/* Paths and URLs in the configuration: 1 KiB each keeps the struct to
 * one page, which a short-lived program touches once. */
#define CW_CFG_STR 1024
#define CW_CFG_TEMPLATES 16384

/* Where a setting's value came from (struct cw_cfg's origin). */
#define CW_CFG_SETTINGS 40
#define CW_CFG_FROM_ENV (-1)	/* its environment variable; 0: the
				   default; N > 0: line N of loaded_from */

struct cw_cfg {
	int32_t origin[CW_CFG_SETTINGS];	/* by cw_cfg_format's order */
	uint64_t l1_max_entries;
	uint64_t l1_max_bytes;
	int64_t l1_ttl_ms;
	int64_t l1_stale_if_error_ms;	/* 0: never serve past a lifetime */
	int l1_stale_exit_ok;		/* a stale answer exits 0 */
	unsigned l1_mode;
	long l1_gid;			/* l1.group's id, -1 when none */
	int64_t l2_ttl_ms;
	int64_t l2_connect_timeout_ms;
	int64_t l2_timeout_ms;
	int64_t l2_failover_ms;		/* a cluster's or Sentinel's wait */
	int l2_by_instrument;		/* a cluster's keys slotted by
					   instrument */
	int64_t source_ttl_ms;
	int64_t source_connect_timeout_ms;
	int64_t source_timeout_ms;
	uint64_t source_max_value_bytes;	/* larger answers fail */
	int source_random_endpoint;	/* ClickHouse: start at a random
					   one of its endpoints */
	int64_t negative_ttl_ms;	/* how long "not found" is remembered */
	/* A closed trading day's keys of these types (" t1 t2 ", "" for
	 * none) live closed_day_ttl_ms at every level. */
	int64_t closed_day_ttl_ms;
	char closed_day_types[256];
	uint64_t log_max_bytes;
	unsigned log_keep;
	char l2_prefix[64];
	char loaded_from[CW_CFG_STR];	/* "" when built-in defaults */
	char l1_file[CW_CFG_STR];
	char source[CW_CFG_STR];	/* URL: csv:DIR, clickhouse://, exec: */
	char log_file[CW_CFG_STR];	/* "" disables the access log */
	char l2_url[CW_CFG_STR];	/* "" when there is no L2 */
	char l2_password_file[CW_CFG_STR];
	/* Set by a program, never by a file: L2 judges expiry by the
	 * clock's calendar (a replay's), not by Redis's (cw_l2_opts). */
	int l2_calendar_expiry;
	char predict_state[CW_CFG_STR];	/* cw-predict's model file */
	int64_t predict_history_ms;	/* how far back the log is read */
	/* cw-warm's: "" for the default path (cw_cfg_warm_path). */
	char warm_calendar[CW_CFG_STR];
	char warm_journal[CW_CFG_STR];
	unsigned warm_jobs;		/* fetches in flight */
	int64_t warm_deadline_ms;	/* a run's bound */
	double warm_refresh_below;	/* share of a TTL left: refresh */
	double warm_failure_warning;	/* cw-stats --check: percent */
	/* Query templates by key type, "type\0template\0" pairs; last, so
	 * that a configuration without any never touches these pages. */
	size_t templates_len;
	char templates[CW_CFG_TEMPLATES];
};

/*
 * Fill cfg with built-in defaults, then the first config file found of:
 * path (if not NULL), $CW_CONFIG, $XDG_CONFIG_HOME/cw/cw.conf (or
 * ~/.config/cw/cw.conf), /etc/cw/cw.conf; then the environment overrides
 * CW_L1_FILE, CW_REDIS_URL and CW_SOURCE. An explicit path or $CW_CONFIG
 * that cannot be read is an error; the others are optional. A bad line,
 * a query template naming an unknown part included, is CW_ECONFIG naming
 * the file and line; every failure is CW_ECONFIG.
 */
int cw_cfg_load(struct cw_cfg *cfg, const char *path, struct cw_err *err);
/* cw-warm's calendar (which = 'c') or journal ('j') path into out: the
 * configured one, else the default (the calendar shipped in the data
 * directory; $XDG_STATE_HOME/cw/warm.journal or
 * ~/.local/state/cw/warm.journal). */
void cw_cfg_warm_path(const struct cw_cfg *cfg, int which,
    char out[CW_CFG_STR]);
/* The L1 file's options from cfg (lo->path points into it). */
void cw_cfg_l1_opts(const struct cw_cfg *cfg, struct cw_clock clock,
    struct cw_l1_opts *lo);

/* The effective configuration, every setting with its value and where it
 * came from (default, file:line, environment), appended to out for
 * people: cw-stats config. CW_ENOMEM. */
int cw_cfg_format(const struct cw_cfg *cfg, struct cw_buf *out);

/* ==== 5. levels: lookups through L1, L2 and L3 ==== */

/* ---- fill: the rules that fill the levels (the API: fill_int.h) ---- */

struct cw_fill;

/* Would the levels below L1 open with cfg: the L2 URL well formed, the
 * source one that opens (a csv: directory that exists, a known kind)?
 * Nothing is connected to. CW_ECONFIG with the reason, CW_ENOMEM. */
int cw_fill_check_cfg(const struct cw_cfg *cfg, struct cw_err *err);

/* ---- hier: lookups through the levels ---- */

/*
 * Calling sequence: cw_hier_open (L1 at once, L2 and the source at their
 * first need); any number of cw_hier_get and cw_hier_get_batch;
 * cw_hier_close, which flushes the access log. One handle belongs to one
 * thread at a time.
 */

struct cw_hier;

struct cw_hier_opts {
	const struct cw_cfg *cfg;	/* read during open only */
	struct cw_clock clock;
	int no_fill;		/* do not fill upper levels on the way back */
	int64_t ttl_ms;		/* L1 TTL for fills; 0: the config's */
	int log_access;		/* append each lookup to the access log */
	/* Called once when a level below L1 fails and is bypassed from
	 * then on, with a one-line reason. May be NULL. */
	void (*on_degraded)(void *ctx, const char *msg);
	void *on_degraded_ctx;
};

struct cw_hier_result {
	enum cw_level level;	/* which level answered; NONE when the key
				   was not found (or remembered as such) */
	int64_t latency_ns;
	/* Stale if error: the levels below failed (stale_rc; the item's err
	 * says why) and L1 answered with a value stale_ns past its
	 * lifetime, within [l1] stale_if_error. 0 otherwise. */
	int64_t stale_ns;
	int stale_rc;
	/* When L1 answered: its copy's expiry (calendar ns), for a reader
	 * that would refresh early. 0 otherwise. */
	int64_t l1_expires_ns;
};

/*
 * Open the hierarchy: the L1 file now, L2 and the source at first need.
 * An L1 file that cannot be used (a full disk, no permission, a file that
 * is not ours, refused untouched) is reported through on_degraded and
 * the hierarchy goes on without it: cw_hier_l1_status says so. Only
 * CW_ENOMEM fails the open.
 */
int cw_hier_open(struct cw_hier **out, const struct cw_hier_opts *opts,
    struct cw_err *err);
/* CW_OK while L1 is in use, else the code (and in err, may be NULL, the
 * reason) that kept it out. */
int cw_hier_l1_status(const struct cw_hier *h, struct cw_err *err);

/* One key of a batch. */
struct cw_hier_item {
	const char *key;	/* in */
	size_t klen;
	struct cw_buf val;	/* out: the value; the caller frees it */
	int rc;			/* out: as cw_hier_get returns */
	struct cw_hier_result res;
	struct cw_err err;	/* out: why, when rc is not CW_OK */
};

/*
 * Look key up: L1, then L2, then the source, filling the levels above
 * the one that answered. val gets the value; res (may be NULL) the level
 * and latency. CW_EDATA for a malformed key, CW_ENOTFOUND when no level
 * has it, a backend's code (CW_EUNAVAIL, CW_ETIMEOUT) when the level that
 * had to answer failed. Nothing below L1 is touched when L1 answers.
 */
int cw_hier_get(struct cw_hier *h, const char *key, size_t klen,
    struct cw_buf *val, struct cw_hier_result *res, struct cw_err *err);

/* Look n keys up as cw_hier_get does, level by level: the L1 misses go
 * to L2 in one round trip. Each item gets its own outcome. CW_ENOMEM
 * alone fails the whole batch. */
int cw_hier_get_batch(struct cw_hier *h, struct cw_hier_item *items,
    size_t n);

/* Flush the access log and close everything; accepts NULL. */
void cw_hier_close(struct cw_hier *h);

/* ==== 6. predict: what is about to be read ==== */

/* ---- predict: access patterns learned from the log, and forecasts ---- */

/*
 * Calling sequence: a learner runs cw_predict_update (lock, load, catch
 * up with the log, fold, save, unlock) from cron. A reader takes the
 * model with cw_predict_load_or_new, calls cw_predict_advance to the
 * moment it forecasts from, then cw_predict_forecast, cw_predict_pattern
 * or cw_predict_summary, and cw_predict_free. Other writers of the state
 * file go through cw_predict_save_locked or cw_predict_keep_backtest.
 * A model belongs to one thread at a time.
 */

#define CW_PATTERN_MAX (CW_KEY_MAX + 16)


struct cw_predict_counts {
	uint64_t lines;		/* read */
	uint64_t learned;	/* reads: a line may stand for several */
	uint64_t malformed;	/* skipped: not "ts,key", or a bad key */
	uint64_t future;	/* skipped: after now */
	uint64_t old;		/* skipped: before the history */
	uint64_t late;		/* skipped: their hour was learned */
	uint64_t remade;	/* cw_predict_update: 1 when the state file
				   was of another version and was made
				   again from the log */
};


/* Accuracy of one forecaster over a backtest. */
struct cw_backtest_scores {
	double coverage;	/* share of reads whose key was in the top
				   2 x (distinct keys read) forecast */
	double precision[2], recall[2], f1[2];	/* at floors 0.5, 0.7 */
	double brier;
};

/* TRUTH: keys ranked by their true expected reads (a truth file from
 * cw-bench generate --truth), the best any forecaster can do. */
enum { CW_BT_MODEL, CW_BT_LAST_HOUR, CW_BT_WEEK_AGO, CW_BT_TRUTH,
    CW_BT_COUNT };

struct cw_backtest_report {
	struct cw_backtest_scores method[CW_BT_COUNT];
	int has_truth;		/* method[CW_BT_TRUTH] was scored */
	uint64_t hours, reads;	/* scored */
	int64_t first_s, last_s;	/* the scored span */
	int64_t window_s;
	int64_t ran_s;		/* when, by the caller's clock */
};


struct cw_predict;


void cw_predict_free(struct cw_predict *m);


/* Fold every hour before until_s: the reads of the current hour wait
 * for stragglers until then. */
void cw_predict_advance(struct cw_predict *m, int64_t until_s);

struct cw_forecast_opts {
	double min_probability;
	double min_confidence;
	size_t top;		/* 0: all */
};

struct cw_forecast {
	char key[CW_KEY_MAX + 1];
	size_t pattern;		/* internal index */
	double expected;	/* reads in the window */
	double probability;	/* of at least one read */
	double confidence;	/* of the pattern, 0..1 */
	const char *priority;	/* critical, high, medium, low */
	char reason[32];	/* session:NAME, pattern or trend */
};

/* The keys expected in [from_s, from_s + window_s), most likely first.
 * *out is the caller's to free. CW_EUSAGE for a window outside 1 s to
 * 7 days, CW_ENOMEM. */
int cw_predict_forecast(struct cw_predict *m, int64_t from_s,
    int64_t window_s, const struct cw_forecast_opts *opts,
    struct cw_forecast **out, size_t *n, struct cw_err *err);

struct cw_pattern_info {
	char name[CW_PATTERN_MAX];
	double per_hour[24];	/* forecast reads by UTC hour of the day of
				   at (the next trading day at a weekend) */
	double per_day;
	int peak[3];		/* the three busiest UTC hours */
	double session_share[CW_SESSION_COUNT];	/* of a week's reads */
	const char *frame;	/* the clock it follows best */
	double confidence;
	int64_t last_read_s;	/* -1: never */
};

/* What the model knows of a pattern, named by itself or by a key read at
 * at_s. CW_ENOTFOUND when the model has not seen it, CW_EDATA for a
 * malformed key. */
int cw_predict_pattern(struct cw_predict *m, const char *key_or_pattern,
    int64_t at_s, struct cw_pattern_info *out, struct cw_err *err);

struct cw_predict_summary {
	uint64_t patterns;
	int64_t first_s, until_s;	/* learned span; -1 when empty */
	struct cw_predict_counts counts;
	double level;		/* recent reads / forecast, all patterns */
	int has_backtest;
	struct cw_backtest_report backtest;
};

void cw_predict_summary(const struct cw_predict *m,
    struct cw_predict_summary *out);


/* The model saved at path, or a new one when there is none yet.
 * CW_EDATA when the saved one is damaged (the message says how to
 * rebuild), CW_EIO, CW_ENOMEM. */
int cw_predict_load_or_new(struct cw_predict **out, const char *path,
    struct cw_err *err);
/*
 * Learn what the access log gained since the model last read it: log "-"
 * is standard input, read to its end; any other path is the log file,
 * the rest of the one the model was reading first (found as log.1 after
 * a rotation). With from_start, every rotated file and the log, whole.
 * *read gets the counts of this call alone, for the caller to report
 * what was skipped. CW_EIO when a log cannot be read, CW_ENOMEM.
 */
int cw_predict_catch_up(struct cw_predict *m, const char *log, int64_t now_s,
    int64_t history_s, int from_start, struct cw_predict_counts *read,
    struct cw_err *err);
/*
 * The learner's turn on a state file, as cron runs it: take the lock that
 * makes one learner at a time (the next run may start before this one
 * ends), load the model (a new one with rebuild), catch up with log (none
 * when NULL), fold the hours that ended more than an hour before now_s
 * (the last stays open for writers that flush late), drop patterns faded
 * since before the history, save, and release the lock. A state file of
 * another version (an upgrade) is made again from the log, as with
 * rebuild, and read->remade says so: cron's learner goes on. CW_EDATA for
 * a damaged model without rebuild, CW_EIO (the lock, the log, the state
 * file), CW_ENOMEM.
 */
int cw_predict_update(const char *state, const char *log, int64_t now_s,
    int64_t history_s, int rebuild, struct cw_predict_counts *read,
    struct cw_err *err);
/*
 * The other writers of a state file, under the same lock, so that a cron
 * learner running at the same moment cannot lose their update or have
 * its own lost: save m over the state (an import), or keep a backtest's
 * scores in the saved model (load, set, save; CW_ENOTFOUND when there is
 * no model yet, which is left so). CW_EDATA for a damaged saved model,
 * CW_EIO, CW_ENOMEM.
 */
int cw_predict_save_locked(struct cw_predict *m, const char *state,
    struct cw_err *err);
int cw_predict_keep_backtest(const char *state,
    const struct cw_backtest_report *r, struct cw_err *err);

/* The model as CSV (a header, then a line per pattern), and back.
 * CW_ENOMEM; the import's CW_EDATA names the line that is wrong. */
int cw_predict_export(const struct cw_predict *m, struct cw_buf *out,
    struct cw_err *err);
int cw_predict_import(struct cw_predict **out, const char *csv, size_t len,
    struct cw_err *err);

/* ---- backtest: forecasts scored against what was read next ---- */

/* Calling sequence: cw_backtest_new; cw_backtest_line for every line of
 * the trace, in order; cw_backtest_run once; cw_backtest_counts for
 * what was skipped; cw_backtest_free. */

struct cw_backtest;

/* window_s: the forecast window (an hour by default). CW_EUSAGE for a
 * window that is not positive, CW_ENOMEM. */
int cw_backtest_new(struct cw_backtest **out, int64_t window_s,
    struct cw_err *err);
/* Feed one trace line; malformed ones are counted and skipped
 * (CW_EDATA, not fatal). CW_ENOMEM. */
int cw_backtest_line(struct cw_backtest *bt, const char *line, size_t len);
/* Feed one line of a truth file, "hour_s,key,expected" (cw-bench
 * generate --truth): the key's true expected reads in that hour. Any
 * line makes the run score a truth row. CW_EDATA for a line that is not
 * one (counted in truth_malformed), CW_ENOMEM. */
int cw_backtest_truth_line(struct cw_backtest *bt, const char *line,
    size_t len);
uint64_t cw_backtest_truth_malformed(const struct cw_backtest *bt);
/* Walk the trace forward hour by hour: at each hour forecast the window
 * from the past only, and score the model and both baselines. Hours of
 * the first week are learned, not scored (the week-ago baseline has
 * nothing to say before). CW_EDATA when the trace is too short,
 * CW_ENOMEM. */
int cw_backtest_run(struct cw_backtest *bt, struct cw_backtest_report *out,
    struct cw_err *err);
/* Lines read and skipped. */
void cw_backtest_counts(const struct cw_backtest *bt,
    struct cw_predict_counts *out);
void cw_backtest_free(struct cw_backtest *bt);

/* ---- predict_out: cw-predict's outputs, TSV or JSON ---- */

/* Each appends to out and returns CW_OK or CW_ENOMEM. A line per
 * forecast key: key, expected reads, probability, priority, reason
 * (JSON adds the confidence). */
int cw_forecast_format(const struct cw_forecast *list, size_t n,
    enum cw_format fmt, struct cw_buf *out, struct cw_err *err);
/* What the model knows of a pattern: a line per figure, or one object. */
int cw_pattern_format(const struct cw_pattern_info *pi, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err);
/* The scores of a backtest: a table (a line per forecaster), or one JSON
 * object without a newline, to stand alone or inside another. */
int cw_backtest_format(const struct cw_backtest_report *r, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err);
/* The model's figures and its last backtest. */
int cw_predict_summary_format(const struct cw_predict_summary *s,
    enum cw_format fmt, struct cw_buf *out, struct cw_err *err);

/* ==== 7. warm: filling ahead of the reads ==== */

/* ---- sched: warming priorities (the scheduler: sched_int.h) ---- */

/* Priority classes, most urgent first. */
enum cw_prio {
	CW_PRIO_CRITICAL,	/* session opens: must complete, retried */
	CW_PRIO_HIGH,		/* forecast probability above 0.7 */
	CW_PRIO_MEDIUM,		/* a learned pattern */
	CW_PRIO_LOW,		/* background: fills only free L1 space */
	CW_PRIO_COUNT,
};

const char *cw_prio_name(int prio);	/* "critical" ... and back: */

/* ---- warm: filling the cache ahead of the reads ---- */

/*
 * Calling sequence: a zeroed struct cw_warm_plan; cw_warm_plan_line,
 * _sessions, _predicted, _refresh_ahead or _optimize to add the keys;
 * cw_warm_plan_finish to merge each key's tasks; cw_warm_run over its
 * tasks (or cw_warm_plan for a dry run); cw_warm_plan_free. The journal
 * (below) records the run for --status and cw-stats.
 */

/* What became of a warming task. */
enum cw_warm_result {
	CW_WARM_WARMED,		/* filled from L2 or the source */
	CW_WARM_FRESH,		/* fresh in L1 and L2 already: skipped */
	CW_WARM_REFRESHED,	/* re-read from the source, every level
				   overwritten */
	CW_WARM_DROPPED,	/* removed from L1 and L2 */
	CW_WARM_FAILED,		/* the source failed, or has no such key */
	CW_WARM_EXPIRED,	/* the deadline passed before it was done */
	CW_WARM_RESULTS,
};


/* cw_warm_task flags. */
#define CW_WARM_REFRESH 0x1u	/* re-read from the source whatever is
				   cached (--refresh, --force) */
#define CW_WARM_DROP 0x2u	/* remove instead (--drop) */

#define CW_WARM_ID_MAX 48

/* One task: the caller fills the inputs; the run fills the rest. */
struct cw_warm_task {
	char key[CW_KEY_MAX + 1];	/* in */
	size_t klen;
	int prio;			/* enum cw_prio */
	int64_t deadline_ns;		/* elapsed time; 0: the run's */
	unsigned flags;
	size_t seq;			/* the caller's number, untouched */
	int result;			/* out: enum cw_warm_result */
	char filled[8];			/* levels written: "l1,l2", "l2", "-" */
	int64_t elapsed_ns;		/* from its start to its end */
	unsigned tries;
	int level;			/* who answered: L2, L3, or NONE */
	int rc;				/* the fill's code */
	struct cw_err err;		/* why it failed */
};

struct cw_warm_opts {
	const struct cw_cfg *cfg;	/* read during the run */
	struct cw_clock clock;
	unsigned jobs;			/* fetches in flight */
	double max_rate;		/* task starts per second; 0: no cap */
	int64_t deadline_ns;		/* elapsed time: nothing after it */
	double refresh_below;		/* refresh when less of a TTL is left */
	int force;			/* refresh even what is fresh */
	/* NULL: equal tasks start in the order given. Else this host's
	 * name: they start in rendezvous order, by a hash of the key and
	 * the name, so that hosts running the same warm-up each begin
	 * with keys of their own and find the others' already fetched
	 * (the L2 lock still makes one fetch per key). */
	const char *spread;
	/* Each task as it ends (warmed, failed, expired...), in the order
	 * they end; may be NULL. */
	void (*on_task)(void *ctx, const struct cw_warm_task *t);
	void *ctx;
	void (*on_degraded)(void *ctx, const char *msg);
	/* Levels the caller keeps open across runs (a replay's), opened
	 * with CW_L1_WARM; NULL: the run opens its own from cfg. */
	struct cw_fill *fill;
};

/* What a run did. */
struct cw_warm_totals {
	size_t by_result[CW_WARM_RESULTS];
	size_t not_found;		/* failed: the source has no such key */
	int worst_rc;			/* of the failures, ranked as exits */
	int critical_left;		/* critical tasks not completed */
	int l1_rc;			/* CW_OK, or why L1 was not used */
};

/*
 * Warm tasks[0..n): drop those flagged so; skip those fresh in L1 and L2
 * (unless refresh or force); fill the rest through the fill machine, up
 * to jobs at once, highest class first, earliest deadline next, input
 * order last, at most max_rate starts a second, retrying critical ones
 * with back-off until the deadline; what is left then is expired. Every
 * L1 fill is marked warmed (CW_L1_WARM); a low-class one only takes free
 * space, never evicting. CW_ENOMEM, or a code the L1 file's opening gave
 * (in totals, not here: the run goes on without L1).
 */
int cw_warm_run(const struct cw_warm_opts *opts, struct cw_warm_task *tasks,
    size_t n, struct cw_warm_totals *totals, struct cw_err *err);

/* Which tasks need warming, as a dry run sees it: fills result with
 * CW_WARM_FRESH for the fresh ones and CW_WARM_WARMED (would be) for
 * the rest, reading L1 and L2, fetching nothing. CW_ENOMEM. */
int cw_warm_plan(const struct cw_warm_opts *opts, struct cw_warm_task *tasks,
    size_t n, struct cw_err *err);


/* What a run warms, in input order: set to zero, add, finish, free. */
struct cw_warm_plan {
	struct cw_warm_task *t;
	size_t n, cap;
};

/* An input line (cw_warm_parse_line) with flags; CW_EDATA, CW_ENOMEM. */
int cw_warm_plan_line(struct cw_warm_plan *p, const char *line, size_t len,
    int prio, unsigned flags, struct cw_err *err);

/* The keys of session or release name (or "auto": every session opening
 * and every release due within lead_s of at_s); the openings into
 * opened[0..*n). CW_ENOTFOUND for a name the calendar has not,
 * CW_ENOMEM. */
int cw_warm_plan_sessions(struct cw_warm_plan *p, const struct cw_calendar *cal,
    const char *name, int64_t at_s, int64_t lead_s, int64_t now_ns,
    struct cw_cal_open *opened, size_t cap, size_t *n, struct cw_err *err);
/* The forecast of the model saved at state for look_ahead_s from at_s,
 * above min_probability (cw_warm_plan_forecast's prio). CW_ENOTFOUND
 * without a model, CW_EDATA for a damaged one, CW_EUSAGE for a window
 * outside 1 s to 7 days, CW_ENOMEM. */
int cw_warm_plan_predicted(struct cw_warm_plan *p, const char *state,
    int64_t at_s, int64_t look_ahead_s, double min_probability, int prio,
    struct cw_err *err);
/* Refresh-ahead looks at the keys read in this last stretch. */
#define CW_REFRESH_RECENT_S 900
/* --refresh-ahead: plan (high) every key the access log shows read in
 * the CW_REFRESH_RECENT_S before at_s; the run's refresh_below then
 * leaves those with enough lifetime left alone. *n gets how many; no log
 * is none. CW_EIO when the log cannot be read, CW_ENOMEM. */
int cw_warm_plan_refresh_ahead(struct cw_warm_plan *p,
    const struct cw_cfg *cfg, int64_t at_s, size_t *n, struct cw_err *err);
/* --optimize: reclaim L1's expired entries, then plan (high) the keys
 * the access log shows L2 answering twice or more in the hour before
 * at_s. The counts of each; the first failure's code: the L1 file's
 * (cw_l1_open's, or CW_EIO / CW_ETIMEOUT for its lock), CW_EIO for the
 * log, CW_ENOMEM. */
int cw_warm_plan_optimize(struct cw_warm_plan *p, const struct cw_cfg *cfg,
    int64_t at_s, struct cw_clock clock, uint64_t *reclaimed,
    size_t *promoted, struct cw_err *err);
/* Merge the tasks of one key (cw_warm_dedup) and renumber them. */
void cw_warm_plan_finish(struct cw_warm_plan *p);
void cw_warm_plan_free(struct cw_warm_plan *p);

/* ---- journal: a record of every warming run ---- */

/*
 * Calling sequence for a writer: cw_journal_open; cw_journal_begin, a
 * cw_journal_plan for every task, a cw_journal_task as each ends,
 * cw_journal_end; cw_journal_close. A run cut short leaves its records:
 * a later begin of the same id (cw-warm --resume) finishes it. Readers take whole runs
 * (cw_journal_load_run, then cw_warm_run_free) or the sum of all
 * (cw_journal_summary), at any moment, beside a writer.
 */

struct cw_journal;

/* Open (create) the journal at path for appending; a torn last record
 * is ended first. CW_EIO, CW_ENOMEM. */
int cw_journal_open(struct cw_journal **out, const char *path,
    struct cw_err *err);
void cw_journal_close(struct cw_journal *j);
/* The records of a run (journal.c's opening comment has the format),
 * each written whole: CW_EIO when it cannot be, CW_ENOMEM. */
int cw_journal_begin(struct cw_journal *j, const char *id, int64_t start_s,
    struct cw_err *err);
int cw_journal_plan(struct cw_journal *j, const char *id, size_t seq,
    int prio, const char *key, size_t klen, struct cw_err *err);
int cw_journal_task(struct cw_journal *j, const char *id, size_t seq,
    const struct cw_warm_task *t, struct cw_err *err);
int cw_journal_end(struct cw_journal *j, const char *id, int64_t end_s,
    int status, struct cw_err *err);

struct cw_journal_counts {
	uint64_t records;	/* valid */
	uint64_t bad;		/* invalid lines skipped (torn, then ended) */
	uint64_t torn_bytes;	/* an unfinished last line */
};


struct cw_warm_run_task {
	char key[CW_KEY_MAX + 1];
	int prio;
	int result;		/* -1: never ended */
	char filled[8];
	double ms;
	char error[160];
};

/* A run as the journal tells it. */
struct cw_warm_run {
	char id[CW_WARM_ID_MAX];
	int64_t start_s, end_s;	/* end -1: no end record */
	long pid;		/* of its last process */
	int status;		/* exit status, -1 without an end */
	unsigned resumed;	/* times */
	struct cw_warm_run_task *tasks;	/* by sequence number */
	size_t ntasks, cap;
};

/* Load run id (NULL: the last one) from the journal at path into a
 * zeroed run. CW_ENOTFOUND when there is none, CW_EIO, CW_ENOMEM. */
int cw_journal_load_run(const char *path, const char *id,
    struct cw_warm_run *run, struct cw_err *err);
void cw_warm_run_free(struct cw_warm_run *run);

/* Every run summed, for cw-stats. */
struct cw_journal_summary {
	uint64_t runs;
	uint64_t by_result[CW_WARM_RESULTS];
	uint64_t timed;			/* tasks with a time */
	uint64_t latency[CW_HIST_BUCKETS];	/* their times */
	struct cw_journal_counts counts;
};

/* Sum every run of the journal at path into a zeroed s; no journal yet
 * sums nothing (CW_OK). CW_EIO, CW_ENOMEM. */
int cw_journal_summary(const char *path, struct cw_journal_summary *s,
    struct cw_err *err);

/* ---- ready: how warm the cache is for what is about to be read ---- */

/* The forecast reads of a window, weighted by their expected number,
 * and the shares of them whose key is resident and unexpired now. */
struct cw_ready {
	size_t keys;		/* forecast keys */
	double expected;	/* their expected reads in the window */
	double l1, l2;		/* shares in L1, in L2 (0..1) */
	double warm;		/* in either: reads that would not reach
				   the source */
	int has_l2;		/* an L2 is configured and answered */
};

/* Forecast [at_s, at_s + look_ahead_s) from the model saved at state
 * and look every key up in L1 and L2 (one round trip). CW_ENOTFOUND
 * without a model (the message says how to make one); a model that
 * forecasts nothing gives keys 0. */
int cw_ready_measure(const struct cw_cfg *cfg, struct cw_clock clock,
    const char *state, int64_t at_s, int64_t look_ahead_s,
    struct cw_ready *out, struct cw_err *err);

/* The monitoring-plugin verdict: 0 OK, 1 WARNING below warn, 2 CRITICAL
 * below crit, 3 UNKNOWN when nothing is forecast. */
int cw_ready_status(const struct cw_ready *r, double warn, double crit);
/* UNKNOWN because the measure failed (why: its message), as the plugin
 * line or JSON. CW_ENOMEM. */
int cw_ready_format_unknown(const char *why, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err);
/* Its status line with perfdata (TSV format), or one JSON object.
 * CW_ENOMEM. */
int cw_ready_format(const struct cw_ready *r, int status, double warn,
    double crit, int64_t look_ahead_s, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err);

/* ---- warm_out: cw-warm's outputs, TSV or JSON ---- */

/* Each appends to out and returns CW_OK or CW_ENOMEM. A task as it
 * ends: key, result, levels filled, ms, error (JSON adds the priority
 * and the tries). */
int cw_warm_task_format(const struct cw_warm_task *t, enum cw_format fmt,
    struct cw_buf *out, struct cw_err *err);
/* A run as --status shows it (cw-warm(1), OUTPUT); running says whether
 * a run without an end record still has a live process. */
int cw_warm_run_format(const struct cw_warm_run *run, int running,
    enum cw_format fmt, struct cw_buf *out, struct cw_err *err);

/* ==== 8. observe: figures for people and monitors ==== */

/* ---- stats: derived figures for people and monitors ---- */

struct cw_stats_latency {
	uint64_t count;
	double mean_ns;
	int64_t p50_ns, p90_ns, p99_ns, p999_ns, max_ns;
};

struct cw_stats_level {
	uint64_t requests, hits, misses, errors, timeouts;
	double hit_rate;		/* NAN when no requests */
	struct cw_stats_latency latency;
};

/* The readers' lookups over a span: each level's outcomes, the share
 * served without L3, the whole lookups' latency. */
struct cw_stats_traffic {
	struct cw_stats_level level[CW_LEVEL_COUNT];	/* no latency */
	uint64_t lookups;
	double hit_rate;		/* served without L3; NAN if none */
	struct cw_stats_latency latency;
};

#define CW_STATS_LARGEST 5

/* The readers' figures since the counters started, inline; their last
 * minutes in window; the warmers' requests apart. */
struct cw_stats_report {
	int64_t created_ns, reset_ns;
	struct cw_stats_level level[CW_LEVEL_COUNT];
	uint64_t lookups;		/* every lookup starts at L1 */
	double hit_rate;		/* served without L3; NAN if none */
	struct cw_stats_latency latency;	/* whole lookups */
	double rate_1m, rate_5m, rate_15m;	/* lookups per second */
	/* The last window_s seconds (whole minutes, the running one
	 * included): what the table, --interval and --check judge. */
	unsigned window_s;
	struct cw_stats_traffic window;
	/* cw-warm's requests at each level (no latency): counted apart. */
	struct cw_stats_level warm_level[CW_LEVEL_COUNT];
	uint64_t entries, max_entries, bytes, max_bytes;
	double fill_pct;		/* the fuller of entries and bytes */
	uint64_t sets, evictions, expirations, too_big, damaged, repairs;
	uint64_t stale_served;
	enum cw_eviction eviction;
	uint64_t policy_switches;
	struct {
		char key[CW_KEY_MAX + 1];
		uint32_t value_bytes;
	} largest[CW_STATS_LARGEST];	/* biggest values, biggest first */
	unsigned nlargest;
	/* Warming, from cw-warm's journal (cw_stats_collect_journal). */
	int has_warm;			/* the journal was read */
	uint64_t warm_runs, warm_tasks;	/* tasks that ended */
	uint64_t warm_done;		/* warmed, refreshed, fresh, dropped */
	uint64_t warm_failed, warm_expired;
	double warm_success_rate;	/* done / tasks; NAN without tasks */
	struct cw_stats_latency warm_latency;	/* per task that fetched */
};

enum cw_stats_form {
	CW_STATS_TABLE,		/* for people */
	CW_STATS_JSON,		/* one JSON document */
	CW_STATS_PROM,		/* Prometheus text exposition format */
};

/* Read the L1 header's counters, with a window of window_s (as
 * cw_l1_stats takes it), and scan its entries into r. CW_ENOMEM. */
int cw_stats_collect(struct cw_l1 *l1, unsigned window_s,
    struct cw_stats_report *r, struct cw_err *err);

/* Sum cw-warm's journal at path into r's warming figures; no journal
 * yet is no warming (has_warm 1, zero tasks). CW_EIO, CW_ENOMEM. */
int cw_stats_collect_journal(const char *path, struct cw_stats_report *r,
    struct cw_err *err);

/* The Prometheus exposition of an L1 file that cannot be read: cw_up 0,
 * so that a scrape says so rather than keeping a stale file. */
void cw_stats_prom_down(struct cw_buf *out);
/* Append r in the given form to out. PROM re-reads l1 for the raw
 * histograms. CW_ENOMEM. */
int cw_stats_format(struct cw_l1 *l1, const struct cw_stats_report *r,
    enum cw_stats_form form, struct cw_buf *out, struct cw_err *err);

struct cw_stats_thresholds {
	double hit_rate_warning;	/* below: WARNING (0.95) */
	double hit_rate_critical;	/* below: CRITICAL (0.90) */
	double p99_warning_ms;		/* above: WARNING (50) */
	double p99_critical_ms;		/* above: CRITICAL (100) */
	double memory_warning_pct;	/* L1 fuller: WARNING (85) */
	double warm_failure_warning_pct;	/* more warming tasks failed
						   or expired: WARNING (5) */
};

/* The seed's alert conditions. */
void cw_stats_thresholds_default(struct cw_stats_thresholds *t);

/* Judge r as a monitoring plugin: append the status line with perfdata
 * to line and return 0 OK, 1 WARNING or 2 CRITICAL. The hit rate and
 * P99 are the readers' over r's window; a figure without data (no
 * lookups in it) does not alarm and is U in the perfdata. */
int cw_stats_check(const struct cw_stats_report *r,
    const struct cw_stats_thresholds *t, struct cw_buf *line);

/* ---- view: the live view's model (cw-bench --live) ---- */

/* Calling sequence: cw_view_form_parse once; cw_view_header; then every
 * interval a cw_view_snap, cw_view_delta from the one before, and
 * cw_view_render of the line. Snapshots only read the header. */

/* What the shared counters and the journal say at one moment. */
struct cw_view_snap {
	int64_t at_ns;			/* elapsed clock */
	int64_t wall_s;			/* calendar */
	struct cw_l1_stats l1;
	int warming;			/* a run without an end, still alive */
	char warm_id[CW_WARM_ID_MAX];
	size_t warm_done, warm_total;	/* its tasks ended, planned */
};

/* Take a snapshot (large: allocate it) of l1's counters and of the run
 * in progress in the journal (NULL or "": none). Reads only: no lock, no
 * count. CW_ENOMEM, or the journal's CW_EDATA / CW_EIO. */
int cw_view_snap(struct cw_l1 *l1, const char *journal, struct cw_clock clock,
    struct cw_view_snap *s, struct cw_err *err);

/* The figures between two snapshots. */
struct cw_view_line {
	int64_t wall_s;			/* b's */
	double seconds;			/* b - a, elapsed */
	/* cw_stats_derive of the counters' change: hit rates, latency
	 * percentiles over the interval; entries and fill as of b. */
	struct cw_stats_report r;
	double lookups_per_s, evictions_per_s;
	int warming;
	char warm_id[CW_WARM_ID_MAX];
	size_t warm_done, warm_total;
};

/* The model: pure, from a to b (a counter that went down, a reset, counts
 * from zero). CW_ENOMEM. */
int cw_view_delta(const struct cw_view_snap *a, const struct cw_view_snap *b,
    struct cw_view_line *out, struct cw_err *err);

enum cw_view_form {
	CW_VIEW_SCREEN,		/* repainted in place, for a terminal */
	CW_VIEW_TSV,		/* a line per interval, after a header */
	CW_VIEW_JSON,		/* a JSON object per interval */
};

/* "screen", "tsv" or "json"; CW_EUSAGE for another name. */
int cw_view_form_parse(const char *name, enum cw_view_form *out);
/* What comes before the first line (TSV's header; nothing else). */
void cw_view_header(enum cw_view_form form, struct cw_buf *out);
/* One interval, appended to out. */
void cw_view_render(const struct cw_view_line *l, enum cw_view_form form,
    struct cw_buf *out);

/* ==== 9. bench: what warming is worth ==== */

/* ---- workload: a synthetic trading-desk access trace ---- */

/* Calling sequence: cw_workload_open; cw_workload_next until
 * CW_ENOTFOUND; cw_workload_close. */

struct cw_workload_opts {
	uint64_t seed;
	int64_t start_s;		/* Unix seconds of the first minute */
	unsigned weeks;			/* 1 .. 520 */
	const char *instruments;	/* "EUR_USD,GBP_USD", copied */
	double rate_per_hour;		/* requests an hour of one instrument
					   in the middle of one session */
	int wide;			/* also what the predictor does not
					   assume: dates in calendar days,
					   Monday's review, pairs busier while
					   both their sessions are open */
};

struct cw_workload;

/* CW_EUSAGE for a bad instrument list, week count or rate, CW_ENOMEM. */
int cw_workload_open(struct cw_workload **out,
    const struct cw_workload_opts *opts, struct cw_err *err);
/* The next minute of the trace as "ts,key" lines in time order (replacing
 * out's contents; a quiet minute leaves it empty); CW_ENOTFOUND past the
 * end, CW_ENOMEM. The same seed and options give the same bytes. */
int cw_workload_next(struct cw_workload *w, struct cw_buf *out,
    struct cw_err *err);
/* When the next minute starts an hour (or the workload), that hour's
 * truth: "hour_s,key,expected" lines, each key's expected reads in the
 * hour from the intensities and mixes the draws use, largest first, as
 * many keys as any backtest budget ranks (twice the keys expected to be
 * read, with room for chance); otherwise out is left empty. CW_ENOMEM. */
int cw_workload_truth(struct cw_workload *w, struct cw_buf *out,
    struct cw_err *err);
void cw_workload_close(struct cw_workload *w);

/* ---- trace and replay: what warming is worth, on the real levels ---- */

/*
 * Calling sequence: cw_trace_load; cw_trace_offline for L1's bounds;
 * cw_replay_run once per strategy (each on fresh levels); then
 * cw_replay_format and cw_replay_plot_files over the results (free each
 * result's hourly); cw_trace_free.
 */

struct cw_trace;

/* Read "ts,key[,...]" lines ("-": stdin), skipping a header and bad
 * lines. CW_EIO, CW_EDATA with no access, CW_ENOMEM. */
int cw_trace_load(struct cw_trace **out, const char *path,
    struct cw_err *err);
void cw_trace_free(struct cw_trace *t);

/* L1 alone at capacity entries, offline: the hits of LRU and of
 * Belady's MIN (the most any eviction policy that stores every miss, as
 * the L1 does, can get). CW_ENOMEM. */
int cw_trace_offline(const struct cw_trace *t, size_t capacity,
    uint64_t *lru, uint64_t *belady, struct cw_err *err);

enum cw_strategy {
	CW_STRATEGY_NONE,		/* the levels as plain caches */
	CW_STRATEGY_MARKET_OPEN,	/* cw-warm --session auto from cron */
	CW_STRATEGY_PREDICTIVE,		/* cw-predict | cw-warm from cron */
	CW_STRATEGY_REFRESH_AHEAD,	/* recent keys refreshed before expiry */
	CW_STRATEGY_ORACLE,		/* the next window's reads, known */
	CW_STRATEGY_BACKFILL,		/* refresh_ahead + recent days in L2 */
	CW_STRATEGY_XFETCH,		/* early refresh on read, by chance */
	CW_STRATEGY_COMBINED,		/* backfill + market_open +
					   predictive, each on its clock */
	CW_STRATEGY_COMBINED_ORACLE,	/* combined, its forecast the
					   oracle's: combined's bound */
	CW_STRATEGY_COUNT,
};

/* A strategy's name ("none", "market_open", ...) and back: CW_EUSAGE
 * for a name that is none of them. */
const char *cw_strategy_name(int strategy);
int cw_strategy_parse(const char *s, size_t len, int *strategy);

struct cw_replay_opts {
	const struct cw_cfg *cfg;	/* the levels, TTLs and calendar */
	const char *dir;		/* each strategy's L1 file: NAME.l1 */
	int64_t interval_s;		/* cron's period for the warmers */
	int64_t look_ahead_s;		/* the window a warm run is for */
	size_t budget;			/* keys a forecast run may warm */
	double min_probability;		/* predictive's floor: the keys at
					   least this likely read in the
					   window (0: CW_REPLAY_FLOOR) */
	unsigned jobs;			/* a warm run's fetches in flight */
	unsigned backfill_days;		/* trading days backfill warms */
	int keep_l2;			/* leave the replay's Redis keys */
	int64_t max_real_ns;		/* stop after this much real time,
					   warm runs too (0: replay the
					   whole trace); the result's
					   lookups say how far */
	void (*on_progress)(void *ctx, int strategy, double share); /* 1% */
	void (*on_degraded)(void *ctx, const char *msg);	/* or NULL */
	void *ctx;
};

#define CW_REPLAY_OPEN_WINDOW_S 300	/* "just after an open" */
#define CW_REPLAY_FLOOR 0.3		/* predictive's default floor */
/* What one strategy's replay measured. */
struct cw_replay_result {
	int strategy;
	uint64_t lookups;
	uint64_t served[CW_LEVEL_COUNT + 1];	/* by level; NONE: missed */
	uint64_t open_lookups, open_l3;	/* in the window after opens */
	uint64_t l3_queries;		/* all, from L1's counters */
	uint64_t warm_runs, warm_fetches;	/* from the source */
	uint64_t warm_wasted;		/* fetched, expired unread */
	uint64_t peak_l1_bytes;
	uint64_t latency[CW_HIST_BUCKETS];	/* of every lookup, real */
	double real_s;			/* real run time */
	/* Per simulated hour: lookups, served, L3. The caller frees it. */
	int64_t first_hour_s;
	size_t hours;
	uint64_t (*hourly)[3];
};

/*
 * Replay t through fresh levels of cfg's shape with one strategy: the
 * calendar of the clock follows the trace (TTLs expire, cron runs and
 * the predictor learns at their simulated times), while every lookup's
 * latency is measured in real elapsed time. The L1 file is
 * dir/NAME.l1, made anew; L2 keys go under their own prefix, removed at
 * the end unless keep_l2. CW_ENOMEM, CW_EIO (the L1 file), or a
 * config's code (the calendar).
 */
int cw_replay_run(const struct cw_replay_opts *o, const struct cw_trace *t,
    int strategy, struct cw_replay_result *r, struct cw_err *err);
/* The strategies in turn on t, into r[0..n): with a deadline (elapsed
 * ns on clock; 0: none) each takes an equal part of the time left, and
 * t is cut to the reads the first got through, so every row is of the
 * same reads. *done counts the results made; on an error the strategy
 * that failed is strategies[*done]. cw_replay_run's codes. */
int cw_replay_run_all(const struct cw_replay_opts *o, struct cw_trace *t,
    const int *strategies, size_t n, const struct cw_clock *clock,
    int64_t deadline_ns, struct cw_replay_result *r, size_t *done,
    struct cw_err *err);

/* Each result's figures, and L1 alone offline at capacity (lru and
 * belady hits; capacity 0: not shown): a table, or with CW_FORMAT_JSON
 * one document with an object per strategy under its name. CW_ENOMEM. */
int cw_replay_format(const struct cw_replay_result *r, size_t n,
    const struct cw_trace *t, size_t capacity, uint64_t lru,
    uint64_t belady, enum cw_format fmt, struct cw_buf *out,
    struct cw_err *err);
/* The replay's charts as gnuplot data and a script, into dir (which
 * must exist): hit_rate.dat, l3_per_hour.dat, latency_cdf.dat and
 * plots.gp, whose run writes hit_rate.png, l3_per_hour.png and
 * latency_cdf.png beside them; the session opens of cal are marked.
 * CW_EUSAGE for a dir gnuplot cannot quote, CW_EIO, CW_ENOMEM. */
int cw_replay_plot_files(const struct cw_replay_result *r, size_t n,
    const struct cw_calendar *cal, const char *dir, struct cw_err *err);

/* cw-bench --quick: L1 speed on a scratch file of the configured size,
 * an L2 probe, a fetch of key that fills nothing, cw_stats_check on the
 * shared file: a line each into report, then PASS or "FAIL: why" (and
 * *passed). CW_ENOMEM, or CW_ECONFIG for an l2.url that cannot work. */
int cw_quick_run(const struct cw_cfg *cfg, struct cw_clock clock,
    const char *scratch, const char *key, struct cw_buf *report,
    int *passed, struct cw_err *err);

#endif /* CW_H */
