#include <fcntl.h>
#include <unistd.h>

#include "helpers.h"
#include "hist_int.h"

TestSuite(journal, .init = tmpdir_setup, .fini = tmpdir_teardown);

static void
task(struct cw_journal *j, const char *id, size_t seq, const char *key,
    int result)
{
	struct cw_warm_task t;

	memset(&t, 0, sizeof(t));
	snprintf(t.key, sizeof(t.key), "%s", key);
	t.klen = strlen(key);
	t.result = result;
	strcpy(t.filled, "l1,l2");
	t.elapsed_ns = 2500000;
	if (result == CW_WARM_FAILED)
		cw_err_set(&t.err, CW_EUNAVAIL, 0, "source\tdown\nhard");
	cr_assert_eq(cw_journal_task(j, id, seq, &t, NULL), CW_OK);
}

Test(journal, a_run_reads_back_and_a_torn_tail_is_left_behind)
{
	char path[PATH_MAX];
	struct cw_journal *j;
	struct cw_warm_run run;
	struct cw_journal_summary *s = malloc(sizeof(*s));
	int fd;

	tpath(path, sizeof(path), "state/j");
	cr_assert_eq(cw_journal_open(&j, path, NULL), CW_OK);
	cr_assert_eq(cw_journal_begin(j, "R1", 1000, NULL), CW_OK);
	cr_assert_eq(cw_journal_plan(j, "R1", 0, CW_PRIO_CRITICAL, "a:b:c:d", 7,
	    NULL), CW_OK);
	cr_assert_eq(cw_journal_plan(j, "R1", 1, CW_PRIO_LOW, "k\\ey", 4,
	    NULL), CW_OK);
	cr_assert_eq(cw_journal_plan(j, "R1", 2, CW_PRIO_HIGH, "third", 5,
	    NULL), CW_OK);
	task(j, "R1", 0, "a:b:c:d", CW_WARM_WARMED);
	cw_journal_close(j);
	/* A writer killed mid-record: half a line at the end. */
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "0123456789abcdef task\tR1\t1\twarm", 31), 31);
	close(fd);
	/* The next run ends the torn line and appends after it. */
	cr_assert_eq(cw_journal_open(&j, path, NULL), CW_OK);
	task(j, "R1", 1, "k\\ey", CW_WARM_FAILED);
	cr_assert_eq(cw_journal_end(j, "R1", 1010, 69, NULL), CW_OK);
	cw_journal_close(j);

	memset(&run, 0, sizeof(run));
	cr_assert_eq(cw_journal_load_run(path, NULL, &run, NULL), CW_OK);
	cr_assert_str_eq(run.id, "R1");
	cr_assert_eq(run.start_s, 1000);
	cr_assert_eq(run.end_s, 1010);
	cr_assert_eq(run.status, 69);
	cr_assert_eq(run.ntasks, 3);
	cr_assert_str_eq(run.tasks[0].key, "a:b:c:d");
	cr_assert_eq(run.tasks[0].prio, CW_PRIO_CRITICAL);
	cr_assert_eq(run.tasks[0].result, CW_WARM_WARMED);
	cr_assert_str_eq(run.tasks[0].filled, "l1,l2");
	cr_assert_float_eq(run.tasks[0].ms, 2.5, 1e-9);
	cr_assert_str_eq(run.tasks[1].key, "k\\ey", "escaped and back");
	cr_assert_eq(run.tasks[1].result, CW_WARM_FAILED);
	cr_assert_str_eq(run.tasks[1].error, "source\tdown\nhard");
	cr_assert_eq(run.tasks[2].result, -1, "never ended: pending");
	cw_warm_run_free(&run);

	cr_assert_eq(cw_journal_summary(path, s, NULL), CW_OK);
	cr_assert_eq(s->runs, 1);
	cr_assert_eq(s->by_result[CW_WARM_WARMED], 1);
	cr_assert_eq(s->by_result[CW_WARM_FAILED], 1);
	cr_assert_eq(s->counts.bad, 1, "the torn line, skipped");
	cr_assert_eq(s->counts.torn_bytes, 0);
	cr_assert_eq(s->counts.records, 7);
	free(s);
}

/* Read while the torn line is still the last (no run has opened the
 * journal since): the records before it count, its bytes are the
 * torn tail, and the run it belonged to reads as far as it got. */
Test(journal, a_torn_tail_read_before_any_next_run)
{
	char path[PATH_MAX];
	struct cw_journal *j;
	struct cw_warm_run run;
	struct cw_journal_summary *s = malloc(sizeof(*s));
	int fd;

	tpath(path, sizeof(path), "j");
	cr_assert_eq(cw_journal_open(&j, path, NULL), CW_OK);
	cr_assert_eq(cw_journal_begin(j, "R2", 2000, NULL), CW_OK);
	cr_assert_eq(cw_journal_plan(j, "R2", 0, CW_PRIO_HIGH, "x", 1, NULL),
	    CW_OK);
	cw_journal_close(j);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "0123456789abcdef task\tR2\t0\twarm", 31), 31);
	close(fd);
	cr_assert_eq(cw_journal_summary(path, s, NULL), CW_OK);
	cr_assert_eq(s->counts.records, 2);
	cr_assert_eq(s->counts.bad, 0);
	cr_assert_eq(s->counts.torn_bytes, 31);
	memset(&run, 0, sizeof(run));
	cr_assert_eq(cw_journal_load_run(path, NULL, &run, NULL), CW_OK);
	cr_assert_str_eq(run.id, "R2");
	cr_assert_eq(run.ntasks, 1);
	cr_assert_eq(run.tasks[0].result, -1, "its end torn: pending");
	cw_warm_run_free(&run);
	free(s);
}

Test(journal, a_record_whose_hash_is_wrong_is_not_believed)
{
	char path[PATH_MAX];
	struct cw_journal *j;
	struct cw_warm_run run;
	struct cw_buf b = { 0 };
	int fd;

	tpath(path, sizeof(path), "j");
	cr_assert_eq(cw_journal_open(&j, path, NULL), CW_OK);
	cr_assert_eq(cw_journal_begin(j, "R", 5, NULL), CW_OK);
	cr_assert_eq(cw_journal_plan(j, "R", 0, CW_PRIO_HIGH, "key", 3, NULL),
	    CW_OK);
	task(j, "R", 0, "key", CW_WARM_WARMED);
	cw_journal_close(j);
	/* Flip "warmed" to "failed" in place: the hash no longer holds. */
	fd = open(path, O_RDWR);
	cw_buf_read_fd(&b, fd, "j", NULL);
	memcpy(memmem(b.data, b.len, "warmed", 6), "failed", 6);
	cr_assert_eq(pwrite(fd, b.data, b.len, 0), (ssize_t)b.len);
	close(fd);
	memset(&run, 0, sizeof(run));
	cr_assert_eq(cw_journal_load_run(path, "R", &run, NULL), CW_OK);
	cr_assert_eq(run.tasks[0].result, -1, "the forged record is ignored");
	cw_warm_run_free(&run);
	cw_buf_free(&b);
	cr_assert_eq(cw_journal_load_run(path, "nope", &run, NULL),
	    CW_ENOTFOUND);
}

/* Found by fuzzing: a record proves it is whole, not that it makes
 * sense. A plan numbered far ahead sized the run's table by its number
 * (ten million tasks, gigabytes), and a task time far past any clock
 * was converted out of range. */
Test(journal, records_out_of_order_or_out_of_range_are_not_believed)
{
	char path[PATH_MAX];
	struct cw_journal *j;
	struct cw_warm_run run;
	struct cw_journal_summary *s = malloc(sizeof(*s));
	struct cw_warm_task t;

	tpath(path, sizeof(path), "j");
	cr_assert_eq(cw_journal_open(&j, path, NULL), CW_OK);
	cr_assert_eq(cw_journal_begin(j, "R", 1000, NULL), CW_OK);
	cr_assert_eq(cw_journal_plan(j, "R", 0, CW_PRIO_HIGH, "a", 1, NULL),
	    CW_OK);
	cr_assert_eq(cw_journal_plan(j, "R", 9999999, CW_PRIO_HIGH, "far", 3,
	    NULL), CW_OK);
	task(j, "R", 5, "no-plan", CW_WARM_WARMED);
	memset(&t, 0, sizeof(t));
	strcpy(t.key, "a");
	t.klen = 1;
	t.result = CW_WARM_WARMED;
	t.elapsed_ns = INT64_MAX;	/* 9.2e12 ms: past a day */
	cr_assert_eq(cw_journal_task(j, "R", 0, &t, NULL), CW_OK);
	cw_journal_close(j);
	memset(&run, 0, sizeof(run));
	cr_assert_eq(cw_journal_load_run(path, NULL, &run, NULL), CW_OK);
	cr_assert_eq(run.ntasks, 1);
	cr_assert_str_eq(run.tasks[0].key, "a");
	cr_assert_eq(run.tasks[0].result, CW_WARM_WARMED);
	cw_warm_run_free(&run);
	cr_assert_eq(cw_journal_summary(path, s, NULL), CW_OK);
	cr_assert_eq(s->timed, 2);
	cr_assert_eq(s->latency[cw_hist_bucket(86400000000000LL)], 1);
	free(s);
}
